import { ready, tf } from '@embedlab/runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { dropout, dropoutMask } from './dropout.js';

describe('dropout', () => {
  beforeAll(async () => {
    await ready();
  });

  it.each([0.1, 0.5, 0.9])('draws exactly the mask tf.dropout applies for the same seed (rate %d)', (rate) => {
    tf.tidy(() => {
      const x = tf.randomNormal([3, 17, 9], 0, 1, 'float32', 2);
      expect(Array.from(dropoutMask(x.shape, rate, 41).dataSync())).toEqual(Array.from(tf.dropout(tf.onesLike(x), rate, undefined, 41).dataSync()));
      expect(Array.from(dropout(x, rate, 41).dataSync())).toEqual(Array.from(tf.dropout(x, rate, undefined, 41).dataSync()));
    });
  });

  it('is the identity at rate 0 or without a seed', () => {
    const x = tf.ones([2, 3]);
    expect(dropout(x, 0, 5)).toBe(x);
    expect(dropout(x, 0.5, undefined)).toBe(x);
    x.dispose();
  });
});
