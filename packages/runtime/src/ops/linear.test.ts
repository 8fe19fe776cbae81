import { expectClose } from '@embedlab/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../backend.js';
import { tf } from '../tf.js';
import { gradientCheck } from '../testing.js';
import { linear, linearTransposed } from './linear.js';

describe.each(['wasm', 'cpu'] as const)('linear on %s', (backend) => {
  beforeAll(async () => {
    await ready({ backend });
  });

  const x = () => tf.randomNormal([2, 3, 4], 0, 1, 'float32', 1);
  const w = () => tf.randomNormal([4, 5], 0, 1, 'float32', 2) as tf.Tensor2D;
  const b = () => tf.randomNormal([5], 0, 1, 'float32', 3) as tf.Tensor1D;

  it('computes x @ W + b for 3-D activations', () => {
    const reference = tf.add(tf.reshape(tf.matMul(tf.reshape(x(), [6, 4]), w()), [2, 3, 5]), b());
    expectClose(linear(x(), w(), b()), reference);
  });

  it('has the same gradients as tf.matMul with and without a bias', () => {
    const upstream = tf.randomNormal([2, 3, 5], 0, 1, 'float32', 4);
    const ours = tf.grads((xs: tf.Tensor, ws: tf.Tensor, bs: tf.Tensor) => tf.sum(tf.mul(linear(xs, ws as tf.Tensor2D, bs as tf.Tensor1D), upstream)));
    const theirs = tf.grads((xs: tf.Tensor, ws: tf.Tensor, bs: tf.Tensor) =>
      tf.sum(tf.mul(tf.add(tf.matMul(xs as tf.Tensor3D, tf.tile(tf.expandDims(ws, 0), [2, 1, 1]) as tf.Tensor3D), bs), upstream)),
    );
    const [dx, dw, db] = ours([x(), w(), b()]);
    const [rx, rw, rb] = theirs([x(), w(), b()]);
    expectClose(dx!, rx!);
    expectClose(dw!, rw!);
    expectClose(db!, rb!);
    const [dx2, dw2] = tf.grads((xs: tf.Tensor, ws: tf.Tensor) => tf.sum(tf.mul(linear(xs, ws as tf.Tensor2D), upstream)))([x(), w()]);
    expectClose(dx2!, rx!);
    expectClose(dw2!, rw!);
  });

  it('matches finite differences', () => {
    const loss = (xs: tf.Tensor, ws: tf.Tensor, bs: tf.Tensor) => tf.sum(tf.square(tf.tanh(linear(xs, ws as tf.Tensor2D, bs as tf.Tensor1D)))) as tf.Scalar;
    expect(gradientCheck(loss, [x(), w(), b()]).maxError).toBeLessThan(1e-2);
  });

  it('names the mismatched sizes', () => {
    expect(() => linear(tf.zeros([2, 3]), w())).toThrow(/last dimension \(3, shape \[2,3\]\) must equal weight's input size 4/);
    expect(() => linear(x(), w(), tf.zeros([4]) as tf.Tensor1D)).toThrow(/bias must have shape \[5\], got \[4\]/);
  });

  it('linearTransposed computes x @ Wᵀ + b with the same gradients as tf.matMul', () => {
    const weightOutIn = tf.transpose(w()) as tf.Tensor2D; // [5, 4]
    expectClose(linearTransposed(x(), weightOutIn, b()), linear(x(), w(), b()));
    const upstream = tf.randomNormal([2, 3, 5], 0, 1, 'float32', 5);
    const loss = (f: (xs: tf.Tensor, ws: tf.Tensor2D, bs: tf.Tensor1D) => tf.Tensor) =>
      tf.grads((xs: tf.Tensor, ws: tf.Tensor, bs: tf.Tensor) => tf.sum(tf.mul(f(xs, ws as tf.Tensor2D, bs as tf.Tensor1D), upstream)));
    const [dx, dw, db] = loss(linearTransposed)([x(), weightOutIn, b()]);
    const [rx, rw, rb] = loss((xs, ws, bs) => tf.add(tf.reshape(tf.matMul(tf.reshape(xs, [6, 4]), ws, false, true), [2, 3, 5]), bs))([x(), weightOutIn, b()]);
    expectClose(dx!, rx!);
    expectClose(dw!, rw!);
    expectClose(db!, rb!);
    const check = (xs: tf.Tensor, ws: tf.Tensor) => tf.sum(tf.square(tf.tanh(linearTransposed(xs, ws as tf.Tensor2D)))) as tf.Scalar;
    expect(gradientCheck(check, [x(), weightOutIn]).maxError).toBeLessThan(1e-2);
    expect(() => linearTransposed(x(), w())).toThrow(/input size 5 \(weight is \[out, in\] = \[4,5\]\)/);
  });
});
