import * as tf from '@tensorflow/tfjs-core';
import { StopGradient } from '../kernel-names.js';

/** The identity forward, a zero gradient backward (`x.detach()` in PyTorch). Runs `EmbedlabStopGradient`. */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  if (!(x instanceof tf.Tensor)) throw new TypeError(`stopGradient: x must be a tf.Tensor, got ${x === null ? 'null' : typeof x}`);
  return tf.engine().runKernel(StopGradient, { x });
}
