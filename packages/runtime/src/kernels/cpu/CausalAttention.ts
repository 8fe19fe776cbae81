import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import {
  CausalAttention,
  type CausalAttentionAttrs,
  CausalAttentionGrad,
  type CausalAttentionGradInputs,
  type CausalAttentionInputs,
} from '../../kernel-names.js';
import { causalAttentionShape } from '../causal-attention-shape.js';
import type { CpuBackend } from './cpu-backend.js';

// The cpu backend's causal attention: the same loops as assembly/causal-attention.ts in plain
// JavaScript on the backend's arrays (see that file for the formulas).

function forwardKernel({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo[] {
  const { qkv, bias, keep } = inputs as CausalAttentionInputs;
  const cpu = backend as unknown as CpuBackend;
  const { batch, seq, heads, headDim, channels } = causalAttentionShape(qkv.shape, (attrs as unknown as CausalAttentionAttrs).heads);
  const x = cpu.readSync(qkv.dataId);
  const biasValues = bias.shape.some((d) => d === 0) ? undefined : cpu.readSync(bias.dataId);
  const keepValues = keep.shape.some((d) => d === 0) ? undefined : cpu.readSync(keep.dataId);
  const out = new Float32Array(batch * seq * channels);
  const weights = new Float32Array(batch * heads * seq * seq);
  const scale = 1 / Math.sqrt(headDim);
  const row = 3 * channels;
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const plane = (b * heads + h) * seq * seq;
      for (let i = 0; i < seq; i++) {
        const q = (b * seq + i) * row + h * headDim;
        const w = plane + i * seq;
        let max = Number.NEGATIVE_INFINITY;
        for (let j = 0; j <= i; j++) {
          const k = (b * seq + j) * row + channels + h * headDim;
          let score = 0;
          for (let d = 0; d < headDim; d++) score += x[q + d]! * x[k + d]!;
          score = Math.fround(score * scale) + (biasValues ? biasValues[(h * seq + i) * seq + j]! : 0);
          weights[w + j] = score;
          max = Math.max(max, weights[w + j]!);
        }
        let sum = 0;
        for (let j = 0; j <= i; j++) {
          weights[w + j] = Math.exp(weights[w + j]! - max);
          sum += weights[w + j]!;
        }
        const o = (b * seq + i) * channels + h * headDim;
        for (let j = 0; j <= i; j++) {
          weights[w + j] = weights[w + j]! / sum;
          const p = weights[w + j]!;
          const kept = keepValues ? p * keepValues[w + j]! : p;
          const v = (b * seq + j) * row + 2 * channels + h * headDim;
          for (let d = 0; d < headDim; d++) out[o + d]! += kept * x[v + d]!;
        }
      }
    }
  }
  return [cpu.makeTensorInfo([batch, seq, channels], 'float32', out), cpu.makeTensorInfo([batch, heads, seq, seq], 'float32', weights)];
}

function backwardKernel({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo {
  const { dy, qkv, keep, weights } = inputs as CausalAttentionGradInputs;
  const cpu = backend as unknown as CpuBackend;
  const { batch, seq, heads, headDim, channels } = causalAttentionShape(qkv.shape, (attrs as unknown as CausalAttentionAttrs).heads);
  const x = cpu.readSync(qkv.dataId);
  const dOut = cpu.readSync(dy.dataId);
  const p = cpu.readSync(weights.dataId);
  const keepValues = keep.shape.some((d) => d === 0) ? undefined : cpu.readSync(keep.dataId);
  const dx = new Float32Array(x.length);
  const dP = new Float64Array(seq);
  const scale = 1 / Math.sqrt(headDim);
  const row = 3 * channels;
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const plane = (b * heads + h) * seq * seq;
      for (let i = 0; i < seq; i++) {
        const dO = (b * seq + i) * channels + h * headDim;
        const w = plane + i * seq;
        let weighted = 0;
        for (let j = 0; j <= i; j++) {
          const keepJ = keepValues ? keepValues[w + j]! : 1;
          const v = (b * seq + j) * row + 2 * channels + h * headDim;
          let dot = 0;
          for (let d = 0; d < headDim; d++) {
            dx[v + d]! += p[w + j]! * keepJ * dOut[dO + d]!;
            dot += dOut[dO + d]! * x[v + d]!;
          }
          dP[j] = keepJ * dot;
          weighted += p[w + j]! * dP[j]!;
        }
        const q = (b * seq + i) * row + h * headDim;
        for (let j = 0; j <= i; j++) {
          const dS = p[w + j]! * (dP[j]! - weighted) * scale;
          const k = (b * seq + j) * row + channels + h * headDim;
          for (let d = 0; d < headDim; d++) {
            dx[q + d]! += dS * x[k + d]!;
            dx[k + d]! += dS * x[q + d]!;
          }
        }
      }
    }
  }
  return cpu.makeTensorInfo(qkv.shape, 'float32', dx);
}

export const causalAttentionCpuConfigs: KernelConfig[] = [
  { kernelName: CausalAttention, backendName: 'cpu', kernelFunc: forwardKernel as unknown as KernelFunc },
  { kernelName: CausalAttentionGrad, backendName: 'cpu', kernelFunc: backwardKernel as unknown as KernelFunc },
];
