import * as tf from '@tensorflow/tfjs-core';
import { BatchedMatMul, type BatchedMatMulAttrs } from '../kernel-names.js';

// Why this op exists: tfjs-backend-wasm runs a batched or transposed product in a scalar loop
// (about 2 GFLOP/s here), and attention is made of nothing else. This is the op's front end: it
// checks the operands and runs the `EmbedlabBatchedMatMul` kernel registered for the current
// backend (src/kernels/wasm/BatchedMatMul.ts: a small SIMD kernel, assembly/batched-matmul.ts,
// 4–6x faster on attention's shapes; src/kernels/cpu/BatchedMatMul.ts: plain loops). Its
// gradient (src/gradients/BatchedMatMul_grad.ts) is built from this same op, so the backward
// pass is fast too.

function checkOperands(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): void {
  for (const [name, t] of [
    ['a', a],
    ['b', b],
  ] as const) {
    if (!(t instanceof tf.Tensor)) throw new TypeError(`batchedMatMul: ${name} must be a tf.Tensor, got ${t === null ? 'null' : typeof t}`);
    if (t.rank < 3) throw new Error(`batchedMatMul: ${name} must have rank 3 or more ([...batch, rows, cols]), got shape [${t.shape}]`);
    if (t.dtype !== 'float32') throw new Error(`batchedMatMul: ${name} must be float32, got ${t.dtype}`);
  }
  const batchShape = a.shape.slice(0, -2);
  if (b.rank !== a.rank || b.shape.slice(0, -2).some((d, i) => d !== batchShape[i])) {
    throw new Error(`batchedMatMul: a [${a.shape}] and b [${b.shape}] must have the same batch dimensions (no broadcasting)`);
  }
  const [aRows, aCols] = a.shape.slice(-2) as [number, number];
  const [bRows, bCols] = b.shape.slice(-2) as [number, number];
  const k = transposeA ? aRows : aCols;
  const kB = transposeB ? bCols : bRows;
  if (k !== kB) {
    throw new Error(
      `batchedMatMul: inner dimensions differ: a [${a.shape}]${transposeA ? 'ᵀ' : ''} gives ${k}, b [${b.shape}]${transposeB ? 'ᵀ' : ''} gives ${kB}`,
    );
  }
}

export interface BatchedMatMulOptions {
  /** Use aᵀ (its last two dimensions swapped). */
  transposeA?: boolean;
  /** Use bᵀ (its last two dimensions swapped): attention's q·kᵀ. */
  transposeB?: boolean;
}

/**
 * `a @ b` over matching leading (batch) dimensions, for float32 tensors of rank 3 or more:
 * `[...batch, m, k] @ [...batch, k, n] -> [...batch, m, n]`, either operand optionally transposed.
 * Attention's products: scores = q·kᵀ and output = weights·v, and their gradients. Runs the
 * `EmbedlabBatchedMatMul` kernel (a SIMD kernel on wasm, plain loops on cpu). No broadcasting:
 * the batch dimensions must match.
 */
export function batchedMatMul(a: tf.Tensor, b: tf.Tensor, options: BatchedMatMulOptions = {}): tf.Tensor {
  const { transposeA = false, transposeB = false } = options;
  checkOperands(a, b, transposeA, transposeB);
  const attrs: BatchedMatMulAttrs = { transposeA, transposeB };
  return tf.engine().runKernel(BatchedMatMul, { a, b }, attrs as unknown as tf.NamedAttrMap);
}
