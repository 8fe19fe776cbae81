import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { BatchedMatMul, type BatchedMatMulAttrs, type BatchedMatMulInputs } from '../../kernel-names.js';
import { batchedMatMulShape } from '../batched-matmul-shape.js';

// The cpu backend's `EmbedlabBatchedMatMul`: plain loops on the backend's own arrays. The cpu
// backend is the reference (and the fallback when wasm cannot start), so this is written to be
// obviously right first: C[i, j] = Σ_p op(A)[i, p] · op(B)[p, j], accumulated row by row so the
// innermost loop walks contiguous memory.

/** What this kernel uses of tfjs-backend-cpu's `MathBackendCPU`. */
interface CpuBackend {
  readSync(dataId: object): ArrayLike<number>;
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

function batchedMatMulKernel({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo {
  const { a, b } = inputs as BatchedMatMulInputs;
  const { transposeA, transposeB } = attrs as unknown as BatchedMatMulAttrs;
  const cpu = backend as unknown as CpuBackend;
  const { batchShape, batch, m, k, n } = batchedMatMulShape(a.shape, b.shape, transposeA, transposeB);
  const aValues = cpu.readSync(a.dataId);
  const bValues = cpu.readSync(b.dataId);
  const c = new Float32Array(batch * m * n);
  // op(B) upright, one batch entry at a time: row p of op(B) is contiguous.
  const upright = new Float32Array(k * n);
  for (let index = 0; index < batch; index++) {
    const aAt = index * m * k;
    const bAt = index * k * n;
    const cAt = index * m * n;
    for (let p = 0; p < k; p++) {
      for (let j = 0; j < n; j++) upright[p * n + j] = bValues[bAt + (transposeB ? j * k + p : p * n + j)]!;
    }
    for (let i = 0; i < m; i++) {
      const row = cAt + i * n;
      for (let p = 0; p < k; p++) {
        const x = aValues[aAt + (transposeA ? p * m + i : i * k + p)]!;
        const from = p * n;
        for (let j = 0; j < n; j++) c[row + j]! += x * upright[from + j]!;
      }
    }
  }
  return cpu.makeTensorInfo([...batchShape, m, n], 'float32', c);
}

export const batchedMatMulCpuConfig: KernelConfig = {
  kernelName: BatchedMatMul,
  backendName: 'cpu',
  kernelFunc: batchedMatMulKernel as unknown as KernelFunc,
};
