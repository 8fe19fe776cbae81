import * as tf from '@tensorflow/tfjs-core';

export interface GradientDefinition<Out extends tf.Tensor> {
  value: Out;
  /** Gradients for each input, in order, given the upstream gradient `dy`. */
  gradFunc: (dy: Out, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
}

/**
 * `tf.customGrad` with typed inputs: tfjs passes the save function as an extra last argument
 * and types every argument as `Tensor | GradSaveFunc`; this hands them over separately.
 */
export function customGradient<Inputs extends tf.Tensor[], Out extends tf.Tensor>(
  f: (inputs: Inputs, save: tf.GradSaveFunc) => GradientDefinition<Out>,
): (...inputs: Inputs) => Out {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    return f(args as Inputs, save) as unknown as { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[] };
  });
  return op as unknown as (...inputs: Inputs) => Out;
}
