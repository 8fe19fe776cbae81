import * as tf from '@tensorflow/tfjs-core';
import { DropoutMask, type DropoutMaskAttrs } from '../kernel-names.js';

// Why this op exists: tf.dropout draws its uniforms with a kernel, then adds, floors and divides
// in three more, whose inputs the gradient tape holds until backward (three activation-sized
// buffers per dropout), and its generator (Alea) makes one number at a time. Here the mask is one
// kernel with no inputs, so nothing of it is on the tape, and each element is a hash of (seed,
// index), computed four at a time: ~1 ms for a baby step's 2.9 M values, where Alea took 24 ms.

/**
 * A dropout keep mask for `shape` and an integer `seed`: 1/(1 − rate) where kept, 0 where dropped,
 * each element kept with probability 1 − rate, independently. The same seed gives the same mask
 * on every backend (not tf.dropout's numbers: its generator is sequential). Multiply an activation
 * by it to apply dropout.
 */
export function dropoutMask(shape: number[], rate: number, seed: number): tf.Tensor {
  if (!Array.isArray(shape) || !shape.every((n) => Number.isSafeInteger(n) && n >= 0))
    throw new Error(`dropoutMask: shape must be non-negative integers, got ${JSON.stringify(shape)}`);
  if (!(rate >= 0 && rate < 1)) throw new RangeError(`dropoutMask: rate must be in [0, 1), got ${rate}`);
  if (!Number.isSafeInteger(seed)) throw new RangeError(`dropoutMask: seed must be an integer, got ${seed}`);
  const attrs: DropoutMaskAttrs = { shape, rate, seed };
  return tf.engine().runKernel(DropoutMask, {}, attrs as unknown as tf.NamedAttrMap);
}
