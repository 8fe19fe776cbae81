import * as tf from '@tensorflow/tfjs-core';
import { LayerNorm, type LayerNormAttrs } from '../kernel-names.js';
import { runWithHiddenOutputs } from './hidden-outputs.js';

// Why this op exists: LayerNorm written with tfjs ops is a dozen kernels forward (moments,
// rsqrt, subtract, multiply, add) and more backward; here one kernel each way
// (src/gradients/LayerNorm_grad.ts), the weight and bias gradients summed in the backward pass.

/** LayerNorm over the last axis: (x − mean)/√(var + ε)·weight (+ bias), ε = 1e-5 (PyTorch's) unless given. */
export function layerNorm(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor, epsilon = 1e-5): tf.Tensor {
  if (!(x instanceof tf.Tensor) || x.rank < 1 || x.dtype !== 'float32')
    throw new Error(`layerNorm: x must be a float32 tensor [..., width], got ${x instanceof tf.Tensor ? `${x.dtype} [${x.shape}]` : typeof x}`);
  const width = x.shape[x.rank - 1]!;
  for (const [name, t] of [
    ['weight', weight],
    ['bias', bias],
  ] as const) {
    if (t !== undefined && (t.rank !== 1 || t.shape[0] !== width || t.dtype !== 'float32'))
      throw new Error(`layerNorm: ${name} must be float32 [${width}] (x is [${x.shape}]), got ${t.dtype} [${t.shape}]`);
  }
  if (!(epsilon > 0)) throw new RangeError(`layerNorm: epsilon must be > 0, got ${epsilon}`);
  return tf.tidy(() => {
    const attrs: LayerNormAttrs = { epsilon };
    // The means and reciprocal deviations (the other outputs) are kept for the backward kernel only.
    return runWithHiddenOutputs(
      LayerNorm,
      { x, weight, bias: bias ?? tf.zeros([0]) },
      attrs as unknown as tf.NamedAttrMap,
      bias ? ['x', 'weight', 'bias'] : ['x', 'weight'],
    );
  });
}
