import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../backend.js';
import { tf } from '../tf.js';
import { gradientCheck } from '../testing.js';
import { sumRows } from './sum-rows.js';

describe.each(['wasm', 'cpu'] as const)('sumRows on %s', (backend) => {
  beforeAll(async () => {
    await ready({ backend });
  });

  it('sums every row of a [..., n] tensor into [n], like tf.sum over the leading axes', () => {
    const x = tf.randomNormal([3, 5, 7], 0, 1, 'float32', 1);
    const ours = sumRows(x);
    expect(ours.shape).toEqual([7]);
    const expected = tf.sum(x, [0, 1]).dataSync();
    for (const [i, value] of ours.dataSync().entries()) expect(value).toBeCloseTo(expected[i]!, 4);
    expect(Array.from(sumRows(tf.tensor1d([1, 2, 3])).dataSync())).toEqual([1, 2, 3]);
    const big = tf.randomNormal([1030, 515], 0, 1, 'float32', 4);
    const bigExpected = tf.sum(big, 0).dataSync();
    for (const [i, value] of sumRows(big).dataSync().entries()) expect(value).toBeCloseTo(bigExpected[i]!, 3);
  });

  it('has the gradient of a sum (finite differences)', () => {
    const weights = tf.randomNormal([4], 0, 1, 'float32', 2);
    const loss = (x: tf.Tensor) => tf.sum(tf.mul(tf.square(sumRows(x)), weights)) as tf.Scalar;
    expect(gradientCheck(loss, [tf.randomNormal([2, 3, 4], 0, 1, 'float32', 3)]).maxError).toBeLessThan(1e-2);
  });

  it('refuses a scalar and integer tensors', () => {
    expect(() => sumRows(tf.scalar(1))).toThrow(/sumRows: x must have at least one dimension, got a scalar/);
    expect(() => sumRows(tf.zeros([2, 2], 'int32'))).toThrow(/sumRows: x must be float32, got int32/);
  });
});
