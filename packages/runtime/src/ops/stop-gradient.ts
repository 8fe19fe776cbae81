import * as tf from '@tensorflow/tfjs-core';
import { customGradient } from './custom-gradient.js';

/** The identity forward, a zero gradient backward (`x.detach()` in PyTorch). */
export const stopGradient: <T extends tf.Tensor>(x: T) => T = customGradient(([x]: [tf.Tensor]) => ({
  value: tf.clone(x),
  gradFunc: (dy) => tf.zerosLike(dy),
})) as <T extends tf.Tensor>(x: T) => T;
