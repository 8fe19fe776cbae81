import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { LayerNorm, type LayerNormAttrs, LayerNormGrad, type LayerNormGradInputs, type LayerNormInputs } from '../../kernel-names.js';
import type { CpuBackend } from './cpu-backend.js';

// The cpu backend's LayerNorm forward and backward: the loops of assembly/layer-norm.ts in plain
// JavaScript (see that file for the formulas).

function forwardKernel({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo[] {
  const { x, weight, bias } = inputs as LayerNormInputs;
  const cpu = backend as unknown as CpuBackend;
  const width = x.shape[x.shape.length - 1]!;
  const rows = x.shape.reduce((a, b) => a * b, 1) / width;
  const [xs, w] = [cpu.readSync(x.dataId), cpu.readSync(weight.dataId)];
  const b = bias.shape[0] === 0 ? undefined : cpu.readSync(bias.dataId);
  const y = new Float32Array(rows * width);
  const means = new Float32Array(rows);
  const rstds = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let i = 0; i < width; i++) sum += xs[r * width + i]!;
    const mean = sum / width;
    let squares = 0;
    for (let i = 0; i < width; i++) squares += (xs[r * width + i]! - mean) ** 2;
    const rstd = 1 / Math.sqrt(squares / width + (attrs as unknown as LayerNormAttrs).epsilon);
    [means[r], rstds[r]] = [mean, rstd];
    for (let i = 0; i < width; i++) y[r * width + i] = (xs[r * width + i]! - mean) * rstd * w[i]! + (b ? b[i]! : 0);
  }
  const stats = x.shape.slice(0, -1);
  return [cpu.makeTensorInfo(x.shape, 'float32', y), cpu.makeTensorInfo(stats, 'float32', means), cpu.makeTensorInfo(stats, 'float32', rstds)];
}

function backwardKernel({ inputs, backend }: Parameters<KernelFunc>[0]): TensorInfo[] {
  const { dy, x, weight, means, rstds } = inputs as LayerNormGradInputs;
  const cpu = backend as unknown as CpuBackend;
  const width = x.shape[x.shape.length - 1]!;
  const rows = x.shape.reduce((a, b) => a * b, 1) / width;
  const [d, xs, w, m, s] = [dy, x, weight, means, rstds].map((t) => cpu.readSync(t.dataId)) as ArrayLike<number>[];
  const dx = new Float32Array(rows * width);
  const dWeight = new Float32Array(width);
  const dBias = new Float32Array(width);
  for (let r = 0; r < rows; r++) {
    const [mean, rstd] = [m![r]!, s![r]!];
    let gSum = 0;
    let gxSum = 0;
    for (let i = 0; i < width; i++) {
      const normalised = (xs![r * width + i]! - mean) * rstd;
      const g = d![r * width + i]! * w![i]!;
      gSum += g;
      gxSum += g * normalised;
      dWeight[i]! += d![r * width + i]! * normalised;
      dBias[i]! += d![r * width + i]!;
    }
    for (let i = 0; i < width; i++) {
      const normalised = (xs![r * width + i]! - mean) * rstd;
      dx[r * width + i] = (d![r * width + i]! * w![i]! - gSum / width - normalised * (gxSum / width)) * rstd;
    }
  }
  return [cpu.makeTensorInfo(x.shape, 'float32', dx), cpu.makeTensorInfo([width], 'float32', dWeight), cpu.makeTensorInfo([width], 'float32', dBias)];
}

export const layerNormCpuConfigs: KernelConfig[] = [
  { kernelName: LayerNorm, backendName: 'cpu', kernelFunc: forwardKernel as unknown as KernelFunc },
  { kernelName: LayerNormGrad, backendName: 'cpu', kernelFunc: backwardKernel as unknown as KernelFunc },
];
