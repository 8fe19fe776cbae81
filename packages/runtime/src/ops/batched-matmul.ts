import * as tf from '@tensorflow/tfjs-core';
import { batchedMatMulWasm } from '../generated/batched-matmul-wasm.js';
import { customGradient } from './custom-gradient.js';

// Why this op exists: tfjs-backend-wasm runs a batched or transposed product in a scalar loop
// (about 2 GFLOP/s here), and attention is made of nothing else. On the wasm backend this op
// runs them in a small SIMD kernel (assembly/batched-matmul.ts, 4–6x faster on attention's
// shapes, copies included); on other backends it is tf.matMul. Its gradient is built from the
// same op, so the backward pass is fast too.

interface Kernel {
  memory: WebAssembly.Memory;
  heapStart: () => number;
  batchedMatMul: (a: number, b: number, c: number, scratch: number, batch: number, m: number, k: number, n: number, transposeA: number, transposeB: number) => void;
}

let kernel: Kernel | undefined;

function loadKernel(): Kernel {
  if (!kernel) {
    const bytes = Uint8Array.from(atob(batchedMatMulWasm), (c) => c.charCodeAt(0));
    // The module is about 1 KB: small enough to compile synchronously even on a browser's main thread.
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { abort: () => { throw new Error('batchedMatMul: the kernel aborted'); } } });
    kernel = instance.exports as unknown as Kernel;
  }
  return kernel;
}

interface Shapes {
  batchShape: number[];
  batch: number;
  m: number;
  k: number;
  n: number;
}

function shapesOf(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): Shapes {
  for (const [name, t] of [['a', a], ['b', b]] as const) {
    if (t.rank < 3) throw new Error(`batchedMatMul: ${name} must have rank 3 or more ([...batch, rows, cols]), got shape [${t.shape}]`);
    if (t.dtype !== 'float32') throw new Error(`batchedMatMul: ${name} must be float32, got ${t.dtype}`);
  }
  const batchShape = a.shape.slice(0, -2);
  if (b.rank !== a.rank || b.shape.slice(0, -2).some((d, i) => d !== batchShape[i])) {
    throw new Error(`batchedMatMul: a [${a.shape}] and b [${b.shape}] must have the same batch dimensions (no broadcasting)`);
  }
  const [aRows, aCols] = a.shape.slice(-2) as [number, number];
  const [bRows, bCols] = b.shape.slice(-2) as [number, number];
  const [m, k] = transposeA ? [aCols, aRows] : [aRows, aCols];
  const [kB, n] = transposeB ? [bCols, bRows] : [bRows, bCols];
  if (k !== kB) {
    throw new Error(`batchedMatMul: inner dimensions differ: a [${a.shape}]${transposeA ? 'ᵀ' : ''} gives ${k}, b [${b.shape}]${transposeB ? 'ᵀ' : ''} gives ${kB}`);
  }
  return { batchShape, batch: batchShape.reduce((x, y) => x * y, 1), m, k, n };
}

function runKernel(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean, { batchShape, batch, m, k, n }: Shapes): tf.Tensor {
  const { memory, heapStart, batchedMatMul: run } = loadKernel();
  const floats = (count: number) => count * Float32Array.BYTES_PER_ELEMENT;
  const aAt = heapStart();
  const bAt = aAt + floats(batch * m * k);
  const cAt = bAt + floats(batch * k * n);
  const scratchAt = cAt + floats(batch * m * n);
  const end = scratchAt + floats(m * k + k * n);
  if (end > memory.buffer.byteLength) memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536));
  const heap = new Float32Array(memory.buffer);
  heap.set(a.dataSync() as Float32Array, aAt / 4);
  heap.set(b.dataSync() as Float32Array, bAt / 4);
  run(aAt, bAt, cAt, scratchAt, batch, m, k, n, transposeA ? 1 : 0, transposeB ? 1 : 0);
  return tf.tensor(heap.slice(cAt / 4, cAt / 4 + batch * m * n), [...batchShape, m, n], 'float32');
}

function product(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): tf.Tensor {
  if (tf.getBackend() !== 'wasm') return tf.matMul(a, b, transposeA, transposeB);
  return runKernel(a, b, transposeA, transposeB, shapesOf(a, b, transposeA, transposeB));
}

const ops = new Map<string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor>();

/** The differentiable op for one transpose combination; gradients: C = op(A)·op(B) ⇒ dA, dB below. */
function opFor(transposeA: boolean, transposeB: boolean): (a: tf.Tensor, b: tf.Tensor) => tf.Tensor {
  const key = `${transposeA}${transposeB}`;
  let op = ops.get(key);
  if (!op) {
    op = customGradient<[tf.Tensor, tf.Tensor], tf.Tensor>(([a, b], save) => {
      save([a, b]);
      return {
        value: product(a, b, transposeA, transposeB),
        gradFunc: (dc, [as, bs]) => {
          const [x, y] = [as!, bs!];
          if (!transposeA && !transposeB) return [product(dc, y, false, true), product(x, dc, true, false)];
          if (!transposeA && transposeB) return [product(dc, y, false, false), product(dc, x, true, false)];
          if (transposeA && !transposeB) return [product(y, dc, false, true), product(x, dc, false, false)];
          return [product(y, dc, true, true), product(dc, x, true, true)];
        },
      };
    });
    ops.set(key, op);
  }
  return op;
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
 * Attention's products: scores = q·kᵀ and output = weights·v, and their gradients. On the wasm
 * backend a SIMD kernel; elsewhere `tf.matMul`. No broadcasting: the batch dimensions must match.
 */
export function batchedMatMul(a: tf.Tensor, b: tf.Tensor, options: BatchedMatMulOptions = {}): tf.Tensor {
  const { transposeA = false, transposeB = false } = options;
  shapesOf(a, b, transposeA, transposeB);
  return opFor(transposeA, transposeB)(a, b);
}
