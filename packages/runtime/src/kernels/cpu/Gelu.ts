import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { Gelu, type GeluAttrs, GeluGrad, type GeluGradInputs, type GeluInputs } from '../../kernel-names.js';
import type { CpuBackend } from './cpu-backend.js';

// The cpu backend's GELU forward and backward: the formulas of assembly/gelu.ts in JavaScript.

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** erf by Abramowitz and Stegun 7.1.26, as tfjs's Erf kernels. */
function erf(x: number): number {
  const v = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * v);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-v * v);
  return x < 0 ? -y : y;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** GELU of one value: exact (erf) or GPT-2's tanh form. */
export function geluOf(v: number, tanh: boolean): number {
  return tanh ? v * sigmoid(2 * SQRT_2_OVER_PI * (v + 0.044715 * v * v * v)) : 0.5 * v * (1 + erf(v * Math.SQRT1_2));
}

function forwardKernel({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo {
  const { x } = inputs as GeluInputs;
  const cpu = backend as unknown as CpuBackend;
  const tanh = (attrs as unknown as GeluAttrs).approximate === 'tanh';
  const values = cpu.readSync(x.dataId);
  const y = Float32Array.from(values, (v) => geluOf(v, tanh));
  return cpu.makeTensorInfo(x.shape, 'float32', y);
}

function backwardKernel({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo {
  const { dy, x } = inputs as GeluGradInputs;
  const cpu = backend as unknown as CpuBackend;
  const tanh = (attrs as unknown as GeluAttrs).approximate === 'tanh';
  const [d, values] = [cpu.readSync(dy.dataId), cpu.readSync(x.dataId)];
  const dx = Float32Array.from(values, (v, i) => {
    if (tanh) {
      const s = sigmoid(2 * SQRT_2_OVER_PI * (v + 0.044715 * v * v * v));
      return d[i]! * (s + v * s * (1 - s) * 2 * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * v * v));
    }
    return d[i]! * (0.5 * (1 + erf(v * Math.SQRT1_2)) + (v * Math.exp(-0.5 * v * v)) / Math.sqrt(2 * Math.PI));
  });
  return cpu.makeTensorInfo(x.shape, 'float32', dx);
}

export const geluCpuConfigs: KernelConfig[] = [
  { kernelName: Gelu, backendName: 'cpu', kernelFunc: forwardKernel as unknown as KernelFunc },
  { kernelName: GeluGrad, backendName: 'cpu', kernelFunc: backwardKernel as unknown as KernelFunc },
];
