import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../backend.js';
import { DropoutMask } from '../kernel-names.js';
import { fmix32, keepAndScale, mixIndex, seedKeys } from '../kernels/dropout-hash.js';
import { tf } from '../tf.js';
import { dropoutMask } from './dropout-mask.js';

/** The mask from the hash's definition, element by element, in float64 where it can be. */
function reference(length: number, rate: number, seed: number): number[] {
  const { keep, scale } = keepAndScale(rate);
  const { key1, key2 } = seedKeys(seed);
  return Array.from({ length }, (_, i) => ((mixIndex(i, key1, key2) >>> 8) / 2 ** 24 < keep ? scale : 0));
}

describe('dropout hash', () => {
  it("is MurmurHash3's finalizer, keyed by every bit of the seed", () => {
    expect(fmix32(1)).toBe(0x514e28b7);
    expect(fmix32(0)).toBe(0);
    expect(seedKeys(1)).not.toEqual(seedKeys(1 + 2 ** 32));
    expect(seedKeys(1)).not.toEqual(seedKeys(2));
  });
});

describe.each(['wasm', 'cpu'] as const)('dropoutMask on %s', (backend) => {
  beforeAll(async () => {
    await ready({ backend });
  });

  it.each([
    [0.1, [3, 17, 9], 41],
    [0.5, [2, 4, 8, 8], 7],
    [0.9, [1001], 2 ** 40 + 5],
    [0, [5, 5], 3],
  ])('is the hash-defined mask (rate %d, shape %j, seed %d), the same on every backend', (rate, shape, seed) => {
    tf.tidy(() => {
      const mask = dropoutMask(shape, rate, seed);
      expect(mask.shape).toEqual(shape);
      expect(Array.from(mask.dataSync())).toEqual(reference(mask.size, rate, seed));
    });
  });

  it('keeps each value with probability 1 − rate, independently of its neighbours and across seeds', () => {
    const n = 200_000;
    const { scale } = keepAndScale(0.25);
    const a = dropoutMask([n], 0.25, 9).dataSync();
    const b = dropoutMask([n], 0.25, 10).dataSync();
    expect(new Set(a)).toEqual(new Set([0, scale]));
    const kept = (values: ArrayLike<number>, from = 0, to = values.length) => {
      let count = 0;
      for (let i = from; i < to; i++) if (values[i] !== 0) count++;
      return count / (to - from);
    };
    // Binomial standard deviation √(0.75·0.25/n) ≈ 0.001: 5σ bounds.
    expect(Math.abs(kept(a) - 0.75)).toBeLessThan(0.005);
    for (const [from, to] of [
      [0, 1000],
      [n - 1000, n],
    ])
      expect(Math.abs(kept(a, from, to) - 0.75)).toBeLessThan(0.07);
    let neighbours = 0;
    let acrossSeeds = 0;
    for (let i = 0; i < n - 1; i++) {
      if (a[i] !== 0 && a[i + 1] !== 0) neighbours++;
      if (a[i] !== 0 && b[i] !== 0) acrossSeeds++;
    }
    // Independent: both kept with probability 0.75² = 0.5625.
    expect(Math.abs(neighbours / (n - 1) - 0.5625)).toBeLessThan(0.006);
    expect(Math.abs(acrossSeeds / (n - 1) - 0.5625)).toBeLessThan(0.006);
  });

  it('is one kernel, off the gradient tape', async () => {
    const profile = await tf.profile(() => {
      dropoutMask([16], 0.5, 1).dispose();
    });
    expect(profile.kernels.map((kernel) => kernel.name)).toEqual([DropoutMask]);
    const mask = dropoutMask([4], 0.5, 1);
    const { grad } = tf.valueAndGrad((x: tf.Tensor) => tf.sum(tf.mul(x, mask)))(tf.ones([4]));
    expect(Array.from(grad.dataSync())).toEqual(Array.from(mask.dataSync()));
    tf.dispose([mask, grad]);
  });

  it('refuses a bad shape, rate or seed, naming it', () => {
    expect(() => dropoutMask([2, -1], 0.1, 1)).toThrow('dropoutMask: shape must be non-negative integers, got [2,-1]');
    expect(() => dropoutMask([2], 1, 1)).toThrow('dropoutMask: rate must be in [0, 1), got 1');
    expect(() => dropoutMask([2], 0.1, 1.5)).toThrow('dropoutMask: seed must be an integer, got 1.5');
  });
});
