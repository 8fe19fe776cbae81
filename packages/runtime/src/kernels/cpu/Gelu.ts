import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { Gelu, type GeluAttrs, GeluGrad, type GeluGradInputs, type GeluInputs } from '../../kernel-names.js';
import type { CpuBackend } from './cpu-backend.js';

// The cpu backend's GELU forward and backward: the formulas of assembly/gelu.ts in JavaScript.

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

// erf's numerator (odd powers 1…13) and denominator (even powers 0…8) coefficients, as assembly/shared/gelu.ts.
const NUMERATOR = [
  -1.60960333262415e-2, -2.95459980854025e-3, -7.34990630326855e-4, -5.69250639462346e-5, -2.10102402082508e-6, 2.77068142495902e-8, -2.72614225801306e-10,
];
const DENOMINATOR = [-1.42647390514189e-2, -7.37332916720468e-3, -1.68282697438203e-3, -2.13374055278905e-4, -1.45660718464996e-5];

/** erf by Eigen's rational approximation on [-4, 4] (|error| < 1e-7), as the wasm kernels. */
function erf(input: number): number {
  const x = Math.min(Math.max(input, -4), 4);
  const x2 = x * x;
  const horner = (coefficients: number[]) => coefficients.reduceRight((sum, c) => sum * x2 + c, 0);
  return (x * horner(NUMERATOR)) / horner(DENOMINATOR);
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
