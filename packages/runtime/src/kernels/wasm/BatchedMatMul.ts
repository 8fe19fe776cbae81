import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { batchedMatMulWasm } from '../../generated/batched-matmul-wasm.js';
import { BatchedMatMul, type BatchedMatMulAttrs, type BatchedMatMulInputs } from '../../kernel-names.js';
import { batchedMatMulShape } from '../batched-matmul-shape.js';
import { moduleOn } from './module-on-memory.js';
import type { WasmBackend } from './wasm-backend.js';

// The wasm backend's `EmbedlabBatchedMatMul`: the SIMD product compiled from
// assembly/batched-matmul.ts (base64 in src/generated/, see scripts/build-kernels.mjs),
// instantiated on the backend's own WebAssembly.Memory. It reads the operands where tfjs keeps
// them and writes the product into an output the backend allocated: no copy, no dataSync, no
// tensor in between. Scratch for transposed operands comes from the backend's allocator.

interface Kernel {
  batchedMatMul: (
    a: number,
    b: number,
    c: number,
    uprightA: number,
    uprightB: number,
    batch: number,
    m: number,
    k: number,
    n: number,
    transposeA: number,
    transposeB: number,
  ) => void;
}

function batchedMatMulKernel({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo {
  const { a, b } = inputs as BatchedMatMulInputs;
  const { transposeA, transposeB } = attrs as unknown as BatchedMatMulAttrs;
  const wasm = backend as unknown as WasmBackend;
  const { batchShape, batch, m, k, n } = batchedMatMulShape(a.shape, b.shape, transposeA, transposeB);
  const out = wasm.makeOutput([...batchShape, m, n], 'float32');
  // Transposed operands are copied upright into scratch, one batch entry at a time.
  const uprightABytes = transposeA ? m * k * Float32Array.BYTES_PER_ELEMENT : 0;
  const uprightBBytes = transposeB ? k * n * Float32Array.BYTES_PER_ELEMENT : 0;
  const scratch = uprightABytes + uprightBBytes > 0 ? wasm.wasm._malloc(uprightABytes + uprightBBytes) : 0;
  try {
    const { batchedMatMul: run } = moduleOn<Kernel>(wasm, batchedMatMulWasm, 'batchedMatMul');
    run(
      wasm.getMemoryOffset(a.dataId),
      wasm.getMemoryOffset(b.dataId),
      wasm.getMemoryOffset(out.dataId),
      scratch,
      scratch + uprightABytes,
      batch,
      m,
      k,
      n,
      transposeA ? 1 : 0,
      transposeB ? 1 : 0,
    );
  } finally {
    if (scratch !== 0) wasm.wasm._free(scratch);
  }
  return out;
}

export const batchedMatMulWasmConfig: KernelConfig = {
  kernelName: BatchedMatMul,
  backendName: 'wasm',
  kernelFunc: batchedMatMulKernel as unknown as KernelFunc,
};
