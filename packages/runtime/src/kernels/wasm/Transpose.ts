// Imported first, so the wasm backend's own kernels are registered before the override below.
import '@tensorflow/tfjs-backend-wasm';
import { getKernel, type KernelFunc, registerKernel, type TensorInfo, Transpose, type TransposeAttrs, unregisterKernel } from '@tensorflow/tfjs-core';
import { transposeWasm } from '../../generated/transpose-wasm.js';
import { RUNTIME_OVERRIDE } from './override.js';
import type { WasmBackend } from './wasm-backend.js';
import { moduleOn } from './module-on-memory.js';

// tfjs-backend-wasm's Transpose moves one element at a time: 2 ms for a [1024, 512] matrix,
// more than the XNNPACK product it feeds (linear's backward transposes x and the weight, since
// only a no-transpose product reaches XNNPACK on wasm). When the permutation swaps the last two
// axes of 4-byte elements, assembly/transpose.ts does it in SIMD 4x4 blocks on the backend's
// memory; any other permutation goes to tfjs's kernel.

interface Kernel {
  transpose(x: number, out: number, batch: number, rows: number, columns: number): void;
}

const original = getKernel(Transpose, 'wasm');
if (!original) throw new Error("Transpose override: tfjs-backend-wasm registered no 'Transpose' kernel; has it changed?");
const fallback = original.kernelFunc;

/** Whether `perm` keeps the leading axes and swaps the last two. */
function swapsLastTwo(perm: number[]): boolean {
  const rank = perm.length;
  return rank >= 2 && perm[rank - 2] === rank - 1 && perm[rank - 1] === rank - 2 && perm.slice(0, -2).every((axis, i) => axis === i);
}

function transposeKernel(args: Parameters<KernelFunc>[0]): TensorInfo | TensorInfo[] {
  const { inputs, backend, attrs } = args;
  const { x } = inputs as { x: TensorInfo };
  const { perm } = attrs as unknown as TransposeAttrs;
  if ((x.dtype !== 'float32' && x.dtype !== 'int32') || !swapsLastTwo(perm)) return fallback(args);
  const wasm = backend as unknown as WasmBackend & { makeOutput(shape: number[], dtype: 'float32' | 'int32'): TensorInfo };
  const shape = x.shape;
  const [rows, columns] = shape.slice(-2) as [number, number];
  const out = wasm.makeOutput([...shape.slice(0, -2), columns, rows], x.dtype);
  const batch = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  if (batch * rows * columns > 0)
    moduleOn<Kernel>(wasm, transposeWasm, 'Transpose').transpose(wasm.getMemoryOffset(x.dataId), wasm.getMemoryOffset(out.dataId), batch, rows, columns);
  return out;
}

unregisterKernel(Transpose, 'wasm');
registerKernel({ ...original, kernelFunc: transposeKernel as KernelFunc, ...RUNTIME_OVERRIDE });
