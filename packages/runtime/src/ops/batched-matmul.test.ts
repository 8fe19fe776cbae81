import { expectClose } from '@embedlab/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../backend.js';
import { assertNoTensorLeaks } from '../memory.js';
import { tf } from '../tf.js';
import { gradientCheck } from '../testing.js';
import { batchedMatMul } from './batched-matmul.js';

// Sizes that exercise the kernel's 4×8 SIMD tiles and the rows and columns they leave over.
const cases = [
  { name: 'attention scores q·kᵀ', a: [2, 4, 64, 32], b: [2, 4, 64, 32], transposeA: false, transposeB: true },
  { name: 'attention output weights·v', a: [2, 4, 64, 64], b: [2, 4, 64, 32], transposeA: false, transposeB: false },
  { name: 'ragged sizes', a: [3, 7, 5], b: [3, 5, 9], transposeA: false, transposeB: false },
  { name: 'aᵀ·b, ragged', a: [2, 6, 13], b: [2, 6, 10], transposeA: true, transposeB: false },
  { name: 'aᵀ·bᵀ, ragged', a: [2, 5, 11], b: [2, 17, 5], transposeA: true, transposeB: true },
  { name: 'one query against a cache of keys', a: [1, 4, 1, 32], b: [1, 4, 37, 32], transposeA: false, transposeB: true },
];

describe.each(['wasm', 'cpu'] as const)('batchedMatMul on %s', (backend) => {
  beforeAll(async () => {
    await ready({ backend });
  });

  it.each(cases)('$name: the same values and gradients as tf.matMul', ({ a: aShape, b: bShape, transposeA, transposeB }) => {
    const a = tf.randomNormal(aShape, 0, 1, 'float32', 1);
    const b = tf.randomNormal(bShape, 0, 1, 'float32', 2);
    const ours = batchedMatMul(a, b, { transposeA, transposeB });
    const reference = tf.matMul(a, b, transposeA, transposeB);
    expectClose(ours, reference);
    const upstream = tf.randomNormal(reference.shape, 0, 1, 'float32', 3);
    const gradientsOf = (f: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor) => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(f(x, y), upstream)))([a, b]);
    const [da, db] = gradientsOf((x, y) => batchedMatMul(x, y, { transposeA, transposeB }));
    const [ra, rb] = gradientsOf((x, y) => tf.matMul(x, y, transposeA, transposeB));
    expectClose(da!, ra!);
    expectClose(db!, rb!);
  });

  it('matches finite differences', () => {
    const a = tf.randomNormal([2, 5, 6], 0, 1, 'float32', 4);
    const b = tf.randomNormal([2, 9, 6], 0, 1, 'float32', 5);
    const loss = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.tanh(batchedMatMul(x, y, { transposeB: true })))) as tf.Scalar;
    expect(gradientCheck(loss, [a, b]).maxError).toBeLessThan(1e-2);
  });

  it('leaks no tensors, forward or backward', async () => {
    const a = tf.randomNormal([2, 3, 8, 4]);
    const b = tf.randomNormal([2, 3, 8, 4]);
    await assertNoTensorLeaks(() => {
      const { value, grads } = tf.valueAndGrads((x: tf.Tensor, y: tf.Tensor) => tf.sum(batchedMatMul(x, y, { transposeB: true })) as tf.Scalar)([a, b]);
      tf.dispose([value, ...grads]);
    });
  });

  it('names what is wrong with the operands', () => {
    expect(() => batchedMatMul(tf.zeros([4, 4]), tf.zeros([1, 4, 4]))).toThrow(/a must have rank 3 or more \(\[\.\.\.batch, rows, cols\]\), got shape \[4,4\]/);
    expect(() => batchedMatMul(tf.zeros([2, 3, 4]), tf.zeros([3, 4, 5]))).toThrow(
      /a \[2,3,4\] and b \[3,4,5\] must have the same batch dimensions \(no broadcasting\)/,
    );
    expect(() => batchedMatMul(tf.zeros([2, 3, 4]), tf.zeros([2, 5, 6]))).toThrow(/inner dimensions differ: a \[2,3,4\] gives 4, b \[2,5,6\] gives 5/);
    expect(() => batchedMatMul(tf.zeros([2, 3, 4], 'int32'), tf.zeros([2, 4, 5]))).toThrow(/a must be float32, got int32/);
  });
});
