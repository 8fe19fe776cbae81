import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { MatMul, type MatMulAttrs, type MatMulInputs } from '../../kernel-names.js';
import { rowsMatMulShape } from '../batched-matmul-shape.js';
import { gemmOn } from './gemm-module.js';
import type { WasmBackend } from './wasm-backend.js';

// The wasm backend's `EmbedlabMatMul`: assembly/gemm.ts (a 6x8 register-blocked product over
// packed panels) on the backend's own memory, in its relaxed SIMD build where the engine has
// relaxed SIMD (kernel-build.ts), else its plain SIMD build. Transposed operands are read
// transposed while they are packed; the bias and GELU are applied as the product is stored.

const GELU_CODES = { off: 0, exact: 1, tanh: 2 } as const;

function matMulKernel({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo | TensorInfo[] {
  const { a, b, bias } = inputs as MatMulInputs;
  const { transposeA, transposeB, gelu } = attrs as unknown as MatMulAttrs;
  const wasm = backend as unknown as WasmBackend;
  const { m, k, n, outShape } = rowsMatMulShape(a.shape, b.shape, transposeA, transposeB);
  // Outputs first: allocating may grow the heap, and scratch after them.
  const product = wasm.makeOutput(outShape, 'float32');
  const activated = gelu === 'off' ? undefined : wasm.makeOutput(outShape, 'float32');
  if (m === 0 || n === 0) return activated ? [activated, product] : product;
  const kernel = gemmOn(wasm, 'matMul');
  const scratch = wasm.wasm._malloc(kernel.scratchFloats(m, k, n) * Float32Array.BYTES_PER_ELEMENT);
  try {
    const productAt = wasm.getMemoryOffset(product.dataId);
    kernel.gemm(
      wasm.getMemoryOffset(a.dataId),
      wasm.getMemoryOffset(b.dataId),
      productAt,
      activated ? wasm.getMemoryOffset(activated.dataId) : productAt,
      bias.shape[0] === 0 ? 0 : wasm.getMemoryOffset(bias.dataId),
      scratch,
      m,
      k,
      n,
      transposeA ? 1 : 0,
      transposeB ? 1 : 0,
      bias.shape[0] === 0 ? 0 : 1,
      GELU_CODES[gelu],
    );
  } finally {
    wasm.wasm._free(scratch);
  }
  return activated ? [activated, product] : product;
}

export const matMulWasmConfig: KernelConfig = {
  kernelName: MatMul,
  backendName: 'wasm',
  kernelFunc: matMulKernel as unknown as KernelFunc,
};
