import { dropoutMask, type Tensor, tf } from '@embedlab/runtime';

/** Dropout with an explicit seed (the same seed drops the same values: runs repeat), or the identity when the rate is 0 or not training. */
export function dropout(x: Tensor, rate: number, seed: number | undefined): Tensor {
  return rate > 0 && seed !== undefined ? tf.mul(x, dropoutMask(x.shape, rate, seed)) : x;
}
