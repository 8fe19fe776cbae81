import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { SumRows, type SumRowsInputs } from '../../kernel-names.js';
import type { CpuBackend } from './cpu-backend.js';

// The cpu backend's `EmbedlabSumRows`: column sums in a loop.

function sumRowsKernel({ inputs, backend }: Parameters<KernelFunc>[0]): TensorInfo {
  const { x } = inputs as SumRowsInputs;
  const cpu = backend as unknown as CpuBackend;
  // Any rank: every dimension but the last is a row (as laid out in memory).
  const n = x.shape.at(-1)!;
  const rows = n === 0 ? 0 : x.shape.reduce((size, d) => size * d, 1) / n;
  const values = cpu.readSync(x.dataId);
  const out = new Float32Array(n);
  for (let i = 0; i < rows; i++) for (let j = 0; j < n; j++) out[j]! += values[i * n + j]!;
  return cpu.makeTensorInfo([n], 'float32', out);
}

export const sumRowsCpuConfig: KernelConfig = { kernelName: SumRows, backendName: 'cpu', kernelFunc: sumRowsKernel as unknown as KernelFunc };
