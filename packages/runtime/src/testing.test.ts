import { describe, expect, it } from 'vitest';
import { ready } from './backend.js';
import { customGradient } from './ops/custom-gradient.js';
import { gradientCheck, variableGradientCheck } from './testing.js';
import { tf } from './tf.js';

// sin with a gradient that is off by a factor of two: the checks must notice.
const wrongSin = customGradient(([x]: [tf.Tensor]) => ({ value: tf.sin(x), gradFunc: (dy) => tf.mul(dy, tf.mul(2, tf.cos(x))) }));

describe('gradient checks', () => {
  it('pass a correct gradient and fail a wrong one (inputs)', async () => {
    await ready();
    const x = tf.tensor1d([0.1, 0.5, 1.2]);
    expect(gradientCheck((v) => tf.sum(tf.sin(v)) as tf.Scalar, [x]).maxError).toBeLessThan(1e-3);
    expect(gradientCheck((v) => tf.sum(wrongSin(v)) as tf.Scalar, [x]).maxError).toBeGreaterThan(0.3);
  });

  it('pass a correct gradient and fail a wrong one (variables), restoring the values', () => {
    const v = tf.variable(tf.tensor1d([0.1, 0.5, 1.2]));
    expect(variableGradientCheck(() => tf.sum(tf.sin(v)) as tf.Scalar, [v]).maxError).toBeLessThan(1e-3);
    expect(variableGradientCheck(() => tf.sum(wrongSin(v)) as tf.Scalar, [v]).maxError).toBeGreaterThan(0.3);
    expect(Array.from(v.dataSync())).toEqual([0.1, 0.5, 1.2].map(Math.fround));
  });
});
