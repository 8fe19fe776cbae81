import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import {
  SoftmaxCrossEntropy,
  SoftmaxCrossEntropyGrad,
  type SoftmaxCrossEntropyGradInputs,
  type SoftmaxCrossEntropyInputs,
  type SoftmaxCrossEntropyAttrs,
} from '../../kernel-names.js';
import { checkTargets } from '../cross-entropy-targets.js';
import type { CpuBackend } from './cpu-backend.js';

// The cpu backend's softmax cross-entropy: the formulas of assembly/cross-entropy.ts in float64.

function forwardKernel({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo[] {
  const { logits, targets } = inputs as SoftmaxCrossEntropyInputs;
  const perRow = (attrs as unknown as SoftmaxCrossEntropyAttrs).reduction === 'none';
  const cpu = backend as unknown as CpuBackend;
  const [rows, n] = logits.shape as [number, number];
  const values = cpu.readSync(logits.dataId) as Float32Array;
  const ids = cpu.readSync(targets.dataId) as Int32Array;
  checkTargets(ids, n);
  const logSumExp = new Float32Array(rows);
  const losses = new Float32Array(rows);
  let total = 0;
  for (let i = 0; i < rows; i++) {
    const row = values.subarray(i * n, (i + 1) * n);
    const max = row.reduce((a, b) => Math.max(a, b), -Infinity);
    const lse = max + Math.log(row.reduce((sum, x) => sum + Math.exp(x - max), 0));
    logSumExp[i] = lse;
    losses[i] = lse - row[ids[i]!]!;
    total += lse - row[ids[i]!]!;
  }
  const loss = perRow ? cpu.makeTensorInfo([rows], 'float32', losses) : cpu.makeTensorInfo([], 'float32', Float32Array.of(total / rows));
  return [loss, cpu.makeTensorInfo([rows], 'float32', logSumExp)];
}

function backwardKernel({ inputs, backend }: Parameters<KernelFunc>[0]): TensorInfo {
  const { dy, logits, targets, logSumExp } = inputs as SoftmaxCrossEntropyGradInputs;
  const cpu = backend as unknown as CpuBackend;
  const [rows, n] = logits.shape as [number, number];
  const values = cpu.readSync(logits.dataId) as Float32Array;
  const ids = cpu.readSync(targets.dataId) as Int32Array;
  const lse = cpu.readSync(logSumExp.dataId) as Float32Array;
  const upstream = cpu.readSync(dy.dataId) as Float32Array;
  const out = new Float32Array(rows * n);
  for (let i = 0; i < rows; i++) {
    const scale = dy.shape.length === 1 ? upstream[i]! : upstream[0]! / rows;
    for (let j = 0; j < n; j++) out[i * n + j] = Math.exp(values[i * n + j]! - lse[i]!) * scale;
    out[i * n + ids[i]!]! -= scale;
  }
  return cpu.makeTensorInfo([rows, n], 'float32', out);
}

export const softmaxCrossEntropyCpuConfigs: KernelConfig[] = [
  { kernelName: SoftmaxCrossEntropy, backendName: 'cpu', kernelFunc: forwardKernel as unknown as KernelFunc },
  { kernelName: SoftmaxCrossEntropyGrad, backendName: 'cpu', kernelFunc: backwardKernel as unknown as KernelFunc },
];
