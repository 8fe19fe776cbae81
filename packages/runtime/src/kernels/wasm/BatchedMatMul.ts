import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { BatchedMatMul, type BatchedMatMulAttrs, type BatchedMatMulInputs } from '../../kernel-names.js';
import { batchedMatMulShape } from '../batched-matmul-shape.js';
import { gemmOn } from './gemm-module.js';
import type { WasmBackend } from './wasm-backend.js';

// The wasm backend's `EmbedlabBatchedMatMul`: the runtime's product (assembly/gemm.ts, the module
// behind EmbedlabMatMul) once per batch entry, on the backend's own memory. It reads the operands
// where tfjs keeps them (a transposed one is read transposed while it is packed) and writes into
// an output the backend allocated: no copy, no dataSync, no tensor in between.

function batchedMatMulKernel({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo {
  const { a, b } = inputs as BatchedMatMulInputs;
  const { transposeA, transposeB } = attrs as unknown as BatchedMatMulAttrs;
  const wasm = backend as unknown as WasmBackend;
  const { batchShape, batch, m, k, n } = batchedMatMulShape(a.shape, b.shape, transposeA, transposeB);
  // The output first: allocating may grow the heap, and scratch after it.
  const out = wasm.makeOutput([...batchShape, m, n], 'float32');
  if (batch * m * n === 0) return out;
  const kernel = gemmOn(wasm, 'batchedMatMul');
  const scratch = wasm.wasm._malloc(kernel.scratchFloats(m, k, n) * Float32Array.BYTES_PER_ELEMENT);
  try {
    const [aAt, bAt, outAt] = [wasm.getMemoryOffset(a.dataId), wasm.getMemoryOffset(b.dataId), wasm.getMemoryOffset(out.dataId)];
    for (let entry = 0; entry < batch; entry++) {
      const c = outAt + entry * m * n * Float32Array.BYTES_PER_ELEMENT;
      kernel.gemm(
        aAt + entry * m * k * Float32Array.BYTES_PER_ELEMENT,
        bAt + entry * k * n * Float32Array.BYTES_PER_ELEMENT,
        c,
        c,
        0,
        scratch,
        m,
        k,
        n,
        transposeA ? 1 : 0,
        transposeB ? 1 : 0,
        0,
        0,
      );
    }
  } finally {
    wasm.wasm._free(scratch);
  }
  return out;
}

export const batchedMatMulWasmConfig: KernelConfig = {
  kernelName: BatchedMatMul,
  backendName: 'wasm',
  kernelFunc: batchedMatMulKernel as unknown as KernelFunc,
};
