import { describe, expect, it } from 'vitest';
import { ready } from '../backend.js';
import { tf } from '../tf.js';
import { stopGradient } from './stop-gradient.js';

describe('stopGradient', () => {
  it('passes values through and blocks the gradient', async () => {
    await ready();
    const x = tf.tensor1d([1, 2, 3]);
    // d/dx [x² + stop(x)²] = 2x (the stopped branch contributes nothing).
    const grad = tf.grad((v: tf.Tensor) => tf.sum(tf.add(tf.square(v), tf.square(stopGradient(v)))))(x);
    expect(Array.from(grad.dataSync())).toEqual([2, 4, 6]);
    expect(Array.from(stopGradient(x).dataSync())).toEqual([1, 2, 3]);
  });
});
