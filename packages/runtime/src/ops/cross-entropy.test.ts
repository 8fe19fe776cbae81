import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../backend.js';
import { SoftmaxCrossEntropy, SoftmaxCrossEntropyGrad } from '../kernel-names.js';
import { assertNoTensorLeaks } from '../memory.js';
import { tf } from '../tf.js';
import { softmaxCrossEntropy } from './cross-entropy.js';

/** The reference: the mean cross-entropy in float64, and its gradient (softmax − one-hot)/rows. */
function reference(logits: Float32Array, targets: Int32Array, n: number): { loss: number; grad: Float64Array } {
  const rows = targets.length;
  const grad = new Float64Array(rows * n);
  let loss = 0;
  for (let i = 0; i < rows; i++) {
    const row = Array.from(logits.subarray(i * n, (i + 1) * n));
    const max = Math.max(...row);
    const sum = row.reduce((s, x) => s + Math.exp(x - max), 0);
    loss += max + Math.log(sum) - row[targets[i]!]!;
    for (let j = 0; j < n; j++) grad[i * n + j] = Math.exp(row[j]! - max) / sum / rows;
    grad[i * n + targets[i]!]! -= 1 / rows;
  }
  return { loss: loss / rows, grad };
}

describe.each(['wasm', 'cpu'] as const)('softmaxCrossEntropy on %s', (backend) => {
  beforeAll(async () => {
    await ready({ backend });
  });

  // Widths around the 4-float lanes and the 256-float chunks, GPT-2's vocabulary, and logits far from 0.
  it.each([
    [3, 1, 0],
    [5, 7, 0],
    [4, 65, 0],
    [2, 259, 30],
    [3, 50257, -40],
  ])('matches float64 softmax cross-entropy and its gradient for %i rows of %i logits (shifted by %d)', (rows, n, shift) => {
    tf.tidy(() => {
      const logits = tf.add(tf.mul(tf.randomNormal([rows, n], 0, 1, 'float32', rows + n), 4), shift);
      const targets = tf.tensor1d(
        Array.from({ length: rows }, (_, i) => (i * 7919) % n),
        'int32',
      );
      const expected = reference(logits.dataSync() as Float32Array, targets.dataSync() as Int32Array, n);
      const { value, grad: gradient } = tf.valueAndGrad((x: tf.Tensor) => softmaxCrossEntropy(x, targets))(logits);
      expect(Math.abs(value.dataSync()[0]! - expected.loss)).toBeLessThanOrEqual(2e-6 * Math.max(1, expected.loss));
      const grad = gradient.dataSync();
      for (const [i, g] of grad.entries())
        expect(Math.abs(g - expected.grad[i]!), `gradient ${i}`).toBeLessThanOrEqual(1e-6 / rows + 2e-6 * Math.abs(expected.grad[i]!));
    });
  });

  it("gives each row's loss with reduction 'none', in the targets' shape, and the gradient of a weighted sum of them", () => {
    tf.tidy(() => {
      const logits = tf.randomNormal([2, 3, 70], 0, 3, 'float32', 5);
      const targets = tf.tensor2d(
        [
          [0, 69, 7],
          [8, 8, 35],
        ],
        [2, 3],
        'int32',
      );
      const weights = tf.tensor2d([
        [1, -2, 0.5],
        [3, 0, 1],
      ]);
      const flat = logits.dataSync() as Float32Array;
      const ids = targets.dataSync() as Int32Array;
      const perRow = softmaxCrossEntropy(logits, targets, 'none');
      expect(perRow.shape).toEqual([2, 3]);
      for (const [i, loss] of perRow.dataSync().entries())
        expect(loss).toBeCloseTo(reference(flat.subarray(i * 70, (i + 1) * 70), ids.subarray(i, i + 1), 70).loss, 5);
      const grad = tf
        .grad((x: tf.Tensor) => tf.sum(tf.mul(softmaxCrossEntropy(x, targets, 'none'), weights)))(logits)
        .dataSync();
      const w = weights.dataSync();
      for (let i = 0; i < 6; i++) {
        const expected = reference(flat.subarray(i * 70, (i + 1) * 70), ids.subarray(i, i + 1), 70).grad;
        for (let j = 0; j < 70; j++) expect(grad[i * 70 + j]).toBeCloseTo(w[i]! * expected[j]!, 6);
      }
    });
  });

  it('equals tfjs softmaxCrossEntropy over one-hot labels, for [batch, seq, n] logits, and a scaled upstream gradient', () => {
    tf.tidy(() => {
      const logits = tf.randomNormal([2, 3, 11], 0, 2, 'float32', 9);
      const targets = tf.tensor2d(
        [
          [1, 0, 10],
          [5, 5, 2],
        ],
        [2, 3],
        'int32',
      );
      const theirs = (x: tf.Tensor) => tf.mul(tf.losses.softmaxCrossEntropy(tf.oneHot(tf.reshape(targets, [-1]), 11), tf.reshape(x, [-1, 11])), 3) as tf.Scalar;
      const ours = (x: tf.Tensor) => tf.mul(softmaxCrossEntropy(x, targets), 3) as tf.Scalar;
      expect(ours(logits).dataSync()[0]).toBeCloseTo(theirs(logits).dataSync()[0]!, 5);
      const expected = tf.grad(theirs)(logits).dataSync();
      const actual = tf.grad(ours)(logits);
      expect(actual.shape).toEqual([2, 3, 11]);
      for (const [i, g] of actual.dataSync().entries()) expect(g).toBeCloseTo(expected[i]!, 6);
    });
  });

  it('runs one kernel over the logits each way, and frees everything it made', async () => {
    const logits = tf.randomNormal([4, 9], 0, 1, 'float32', 3);
    const targets = tf.tensor1d([0, 8, 3, 3], 'int32');
    const profile = await tf.profile(() => {
      assertNoTensorLeaks(() => {
        const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => softmaxCrossEntropy(x, targets))(logits);
        tf.dispose([value, grad]);
      });
    });
    const names = profile.kernels.map((kernel) => kernel.name);
    expect(names).toContain(SoftmaxCrossEntropy);
    expect(names).toContain(SoftmaxCrossEntropyGrad);
    // Only the gradient writes a [rows, n] tensor (Identity and Reshape share their input's data):
    // no one-hot, softmax or log-softmax matrix.
    const writers = profile.kernels.filter((kernel) => kernel.outputShapes.some((shape) => shape?.join() === '4,9')).map((kernel) => kernel.name);
    expect(new Set(writers.filter((name) => name !== 'Identity' && name !== 'Reshape'))).toEqual(new Set([SoftmaxCrossEntropyGrad]));
    tf.dispose([logits, targets]);
  });

  it('refuses targets outside the vocabulary, of the wrong type or count, naming them', () => {
    tf.tidy(() => {
      const logits = tf.zeros([2, 5]);
      expect(() => softmaxCrossEntropy(logits, tf.tensor1d([1, 5], 'int32'))).toThrow(/targets must be ids in \[0, 5\), got 5 at row 1/);
      expect(() => softmaxCrossEntropy(logits, tf.tensor1d([-1, 0], 'int32'))).toThrow(/got -1 at row 0/);
      expect(() => softmaxCrossEntropy(logits, tf.tensor1d([1, 2]))).toThrow(
        /targets must be int32 ids, one per row of logits \[2,5\] \(2\), got float32 \[2\]/,
      );
      expect(() => softmaxCrossEntropy(logits, tf.tensor1d([1], 'int32'))).toThrow(/got int32 \[1\]/);
      expect(() => softmaxCrossEntropy(tf.zeros([0, 5]), tf.tensor1d([], 'int32'))).toThrow(/have no rows/);
      expect(() => softmaxCrossEntropy(logits, tf.tensor1d([1, 2], 'int32'), 'sum' as 'none')).toThrow(/reduction must be 'mean' or 'none', got "sum"/);
    });
  });
});
