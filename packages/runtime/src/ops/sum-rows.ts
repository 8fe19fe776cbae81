import * as tf from '@tensorflow/tfjs-core';

import { SumRows } from '../kernel-names.js';

// Why: the wasm backend reduces only along the innermost axis, so `tf.sum(x, 0)` first transposes
// x (4.3 ms for a [1024, 512] gradient here); the 2-D product ones[1, rows] @ x that replaced it
// still took XNNPACK about 0.8 ms (a one-row product is its worst shape). Bias and LayerNorm
// gradients are such sums: the `EmbedlabSumRows` kernel adds the rows up with SIMD in one pass.

/**
 * Sums `x` of shape `[..., n]` over every dimension but the last, giving `[n]`: the gradient of a
 * bias (or a LayerNorm scale) shared by all rows. One kernel (`EmbedlabSumRows`).
 */
export function sumRows(x: tf.Tensor): tf.Tensor1D {
  if (x.rank < 1) throw new Error(`sumRows: x must have at least one dimension, got a scalar`);
  if (x.dtype !== 'float32') throw new Error(`sumRows: x must be float32, got ${x.dtype}`);
  return tf.tidy('sumRows', () => tf.engine().runKernel(SumRows, { x }) as tf.Tensor1D);
}
