import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../backend.js';
import { tf } from '../tf.js';
import { gradientCheck } from '../testing.js';
import { embeddingLookup } from './embedding.js';

describe.each(['wasm', 'cpu'] as const)('embeddingLookup on %s', (backend) => {
  beforeAll(async () => {
    await ready({ backend });
  });

  const table = () => tf.tensor2d([0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32], [4, 3]);

  it('returns the rows for ids of any shape', () => {
    const out = embeddingLookup(
      table(),
      tf.tensor2d(
        [
          [3, 0],
          [1, 1],
        ],
        [2, 2],
        'int32',
      ),
    );
    expect(out.shape).toEqual([2, 2, 3]);
    expect(Array.from(out.dataSync())).toEqual([30, 31, 32, 0, 1, 2, 10, 11, 12, 10, 11, 12]);
  });

  it('scatters the gradient into looked-up rows only, summing repeated ids', () => {
    const ids = tf.tensor1d([2, 0, 2, 2], 'int32');
    // Upstream gradient dy[i] = (i+1) * [1, 10, 100]: row 2 gets (1+3+4), row 0 gets 2.
    const dy = tf.tensor2d([1, 10, 100, 2, 20, 200, 3, 30, 300, 4, 40, 400], [4, 3]);
    const grad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(embeddingLookup(t as tf.Tensor2D, ids), dy)))(table());
    expect(Array.from(grad.dataSync())).toEqual([2, 20, 200, 0, 0, 0, 8, 80, 800, 0, 0, 0]);
  });

  it('matches finite differences', () => {
    const ids = tf.tensor2d([[1, 3, 1]], [1, 3], 'int32');
    const weights = tf.randomNormal([4, 5], 0, 1, 'float32', 7);
    const target = tf.randomNormal([1, 3, 5], 0, 1, 'float32', 8);
    const loss = (t: tf.Tensor) => tf.sum(tf.square(tf.sub(tf.tanh(embeddingLookup(t as tf.Tensor2D, ids)), target))) as tf.Scalar;
    expect(gradientCheck(loss, [weights]).maxError).toBeLessThan(1e-2);
  });

  it('keeps what its gradient needs when the caller disposes the ids', () => {
    const t = table();
    const grad = tf.grad((w: tf.Tensor) => {
      const ids = tf.tensor1d([3, 3], 'int32');
      const rows = embeddingLookup(w as tf.Tensor2D, ids);
      ids.dispose();
      return tf.sum(rows);
    })(t);
    expect(Array.from(grad.dataSync())).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2]);
  });

  it('leaves no tensors behind', () => {
    const t = table();
    const ids = tf.tensor1d([1, 2], 'int32');
    const before = tf.memory().numTensors;
    tf.dispose(tf.grad((w: tf.Tensor) => tf.sum(embeddingLookup(w as tf.Tensor2D, ids)))(t));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses float ids and a table that is not 2-D', () => {
    expect(() => embeddingLookup(table(), tf.tensor1d([1.5]))).toThrow(/ids must be an int32 tensor, got float32/);
    expect(() => embeddingLookup(tf.zeros([2, 2, 2]) as unknown as tf.Tensor2D, tf.tensor1d([0], 'int32'))).toThrow(/table must be 2-D/);
  });

  it('refuses an id outside the table, naming it and where it was', () => {
    const t = table();
    // The cpu backend's gather says so in its own words.
    expect(() => embeddingLookup(t, tf.tensor1d([0, 3, -1], 'int32'))).toThrow(backend === 'wasm' ? /id -1 at index 2 is outside the table's \d+ rows/ : /-1/);
  });
});
