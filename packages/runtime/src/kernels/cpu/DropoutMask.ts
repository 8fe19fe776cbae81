import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { DropoutMask, type DropoutMaskAttrs } from '../../kernel-names.js';
import { keepAndScale, mixIndex, seedKeys } from '../dropout-hash.js';
import type { CpuBackend } from './cpu-backend.js';

// The cpu backend's dropout mask: the numbers of assembly/dropout-mask.ts, element by element.

function dropoutMaskKernel({ backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo {
  const { shape, rate, seed } = attrs as unknown as DropoutMaskAttrs;
  const { keep, scale } = keepAndScale(rate);
  const { key1, key2 } = seedKeys(seed);
  const mask = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < mask.length; i++) mask[i] = Math.fround((mixIndex(i, key1, key2) >>> 8) * 2 ** -24) < keep ? scale : 0;
  return (backend as unknown as CpuBackend).makeTensorInfo(shape, 'float32', mask);
}

export const dropoutMaskCpuConfig: KernelConfig = { kernelName: DropoutMask, backendName: 'cpu', kernelFunc: dropoutMaskKernel as unknown as KernelFunc };
