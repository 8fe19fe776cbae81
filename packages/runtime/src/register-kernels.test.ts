import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from './backend.js';
import { BatchedMatMul, EmbeddingLookup, MatMul, StopGradient, SumRows } from './kernel-names.js';
import { batchedMatMul } from './ops/batched-matmul.js';
import { embeddingLookup } from './ops/embedding.js';
import { linear, linearTransposed } from './ops/linear.js';
import { stopGradient } from './ops/stop-gradient.js';
import { sumRows } from './ops/sum-rows.js';
import { tf } from './tf.js';
import { gradientCheck } from './testing.js';

// The runtime's ops go through tfjs's kernel registry: a kernel per backend under a name, and a
// gradient registered once for that name. These tests fail if an op bypasses the registry again.

describe.each(['wasm', 'cpu'] as const)('registered kernels on %s', (backend) => {
  beforeAll(async () => {
    await ready({ backend });
  });

  it('registers each kernel for this backend and each gradient once', () => {
    for (const name of [BatchedMatMul, EmbeddingLookup, StopGradient]) {
      expect(tf.getKernel(name, backend), name).toBeDefined();
      expect(tf.getGradient(name), name).toBeDefined();
    }
  });

  it('tf.profile names the kernel each op runs', async () => {
    const a = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 1);
    const b = tf.randomNormal([2, 5, 4], 0, 1, 'float32', 2);
    const table = tf.randomNormal([6, 4], 0, 1, 'float32', 3) as tf.Tensor2D;
    const weight = tf.randomNormal([4, 3], 0, 1, 'float32', 4) as tf.Tensor2D;
    const names = async (f: () => tf.Tensor) => (await tf.profile(f)).kernelNames;
    expect(await names(() => batchedMatMul(a, b, { transposeB: true }))).toContain(BatchedMatMul);
    expect(await names(() => embeddingLookup(table, tf.tensor1d([1, 5], 'int32')))).toContain(EmbeddingLookup);
    expect(await names(() => stopGradient(a))).toContain(StopGradient);
    expect(await names(() => linear(a, weight))).toContain(MatMul);
    expect(await names(() => linearTransposed(a, tf.transpose(weight) as tf.Tensor2D))).toContain(MatMul);
    expect(await names(() => sumRows(a))).toContain(SumRows);
  });

  it('batchedMatMul gives the numbers of tf.matMul (tfjs own kernel) for every transpose', () => {
    const a = tf.randomNormal([3, 2, 7, 9], 0, 1, 'float32', 5);
    for (const [transposeA, transposeB] of [
      [false, false],
      [false, true],
      [true, false],
      [true, true],
    ] as const) {
      const b = tf.randomNormal(transposeB ? [3, 2, 11, transposeA ? 7 : 9] : [3, 2, transposeA ? 7 : 9, 11], 0, 1, 'float32', 6);
      const ours = batchedMatMul(a, b, { transposeA, transposeB });
      const reference = tf.matMul(a as tf.Tensor4D, b as tf.Tensor4D, transposeA, transposeB);
      expect(ours.shape).toEqual(reference.shape);
      const expected = reference.dataSync();
      for (const [i, value] of ours.dataSync().entries())
        expect(Math.abs(value - expected[i]!), `${transposeA}/${transposeB} element ${i}`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(expected[i]!)));
    }
  });

  it.each([
    [false, false],
    [false, true],
    [true, false],
    [true, true],
  ] as const)('the BatchedMatMul gradient matches finite differences (transposeA %s, transposeB %s)', (transposeA, transposeB) => {
    const a = tf.randomNormal(transposeA ? [2, 6, 5] : [2, 5, 6], 0, 1, 'float32', 7);
    const b = tf.randomNormal(transposeB ? [2, 9, 6] : [2, 6, 9], 0, 1, 'float32', 8);
    const loss = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.tanh(batchedMatMul(x, y, { transposeA, transposeB })))) as tf.Scalar;
    expect(gradientCheck(loss, [a, b]).maxError).toBeLessThan(1e-2);
  });

  it('clone shares the data (one more reference, no copy), and each tensor outlives the other', () => {
    for (const first of ['clone', 'original'] as const) {
      const x = tf.tensor1d([1, 2, 3]);
      const y = tf.clone(x);
      expect(y.dataId).toBe(x.dataId);
      (first === 'clone' ? y : x).dispose();
      expect(Array.from((first === 'clone' ? x : y).dataSync())).toEqual([1, 2, 3]);
      (first === 'clone' ? x : y).dispose();
    }
  });

  it.each([
    [[5, 7], 'float32'],
    [[3, 33, 70], 'float32'],
    [[2, 1, 4, 9], 'int32'],
    [[64, 64], 'int32'],
  ] as const)('transposes the last two axes of %j (%s) element for element', (shape, dtype) => {
    const size = shape.reduce((a: number, b: number) => a * b, 1);
    const values = Array.from({ length: size }, (_, i) => (dtype === 'int32' ? i * 3 - 50 : i * 0.25 - 7));
    const x = tf.tensor(values, [...shape], dtype);
    const rank = shape.length;
    const perm = [...Array(rank - 2).keys(), rank - 1, rank - 2];
    const [rows, columns] = [shape[rank - 2]!, shape[rank - 1]!];
    const y = tf.transpose(x, perm);
    expect(y.shape).toEqual([...shape.slice(0, -2), columns, rows]);
    const out = y.dataSync();
    for (let b = 0; b < size / (rows * columns); b++)
      for (let r = 0; r < rows; r++)
        for (let c = 0; c < columns; c++) expect(out[b * rows * columns + c * rows + r]).toBe(values[b * rows * columns + r * columns + c]);
    // Another permutation still goes to tfjs's kernel.
    if (rank === 3)
      expect(Array.from(tf.transpose(x, [1, 0, 2]).dataSync())).toEqual(Array.from(tf.transpose(tf.tensor(values, [...shape]), [1, 0, 2]).dataSync()));
    tf.dispose([x, y]);
  });

  it('the StopGradient gradient is zero, and the kernel copies nothing', () => {
    const x = tf.tensor1d([1, 2, 3]);
    const y = stopGradient(x);
    // The same data, one more reference (as tf.clone): disposing y leaves x intact.
    expect(y.dataId).toBe(x.dataId);
    expect(
      Array.from(
        tf
          .grad((v: tf.Tensor) => tf.sum(tf.mul(stopGradient(v), v)))(x)
          .dataSync(),
      ),
    ).toEqual([1, 2, 3]);
    y.dispose();
    expect(Array.from(x.dataSync())).toEqual([1, 2, 3]);
  });
});
