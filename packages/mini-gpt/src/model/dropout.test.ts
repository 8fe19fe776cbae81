import { dropoutMask, ready, tf } from '@embedlab/runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { dropout } from './dropout.js';

describe('dropout', () => {
  beforeAll(async () => {
    await ready();
  });

  it.each([0.1, 0.5, 0.9])("multiplies by the runtime's mask for the seed (rate %d): the same seed, the same numbers", (rate) => {
    tf.tidy(() => {
      const x = tf.randomNormal([3, 17, 9], 0, 1, 'float32', 2);
      const expected = tf.mul(x, dropoutMask(x.shape, rate, 41)).dataSync();
      expect(Array.from(dropout(x, rate, 41).dataSync())).toEqual(Array.from(expected));
      expect(Array.from(dropout(x, rate, 42).dataSync())).not.toEqual(Array.from(expected));
    });
  });

  it('is the identity at rate 0 or without a seed', () => {
    const x = tf.ones([2, 3]);
    expect(dropout(x, 0, 5)).toBe(x);
    expect(dropout(x, 0.5, undefined)).toBe(x);
    x.dispose();
  });
});
