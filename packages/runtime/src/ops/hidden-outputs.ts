import * as tf from '@tensorflow/tfjs-core';
import { customGradient } from './custom-gradient.js';

/**
 * Runs `kernelName`, whose first output is the op's result and whose other outputs exist only for
 * its registered gradient (attention's softmax weights, LayerNorm's means, the loss's log Σ e^x),
 * and returns that first output.
 *
 * Why not `runKernel` alone: the tape would record every output, and before calling the gradient
 * tfjs makes a zero-filled gradient for each output nothing reads, in JavaScript, and copies it
 * onto the heap (a `[batch, heads, seq, seq]` block per attention layer, ~10 ms of a baby training
 * step). Run through `tf.customGrad`, the tape holds the result alone, the other outputs are saved
 * as the kernel's `GradConfig` asks, and that config computes the gradient as before.
 *
 * `differentiable` names the inputs a gradient flows to; the others are constants to it (ids,
 * masks, an absent bias's empty tensor).
 */
export function runWithHiddenOutputs(kernelName: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap, differentiable: readonly string[]): tf.Tensor {
  const config = tf.getGradient(kernelName);
  if (!config) throw new Error(`runWithHiddenOutputs: ${kernelName} has no registered gradient`);
  const op = customGradient((_differentiable: tf.Tensor[], save) => {
    const outputs = tf.engine().runKernel(kernelName, inputs, attrs) as tf.Tensor[];
    save([...(config.inputsToSave ?? []).map((name) => inputs[name]!), ...outputs.filter((_, i) => config.outputsToSave?.[i])]);
    return {
      value: outputs[0]!,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const gradients = config.gradFunc([dy], saved, attrs);
        return differentiable.map((name) => gradients[name]!());
      },
    };
  });
  return op(...differentiable.map((name) => inputs[name]!));
}
