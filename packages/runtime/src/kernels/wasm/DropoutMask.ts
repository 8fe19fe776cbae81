import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { dropoutMaskWasm } from '../../generated/dropout-mask-wasm.js';
import { DropoutMask, type DropoutMaskAttrs } from '../../kernel-names.js';
import { keepAndScale, seedKeys } from '../dropout-hash.js';
import { moduleOn } from './module-on-memory.js';
import type { WasmBackend } from './wasm-backend.js';

// The wasm backend's dropout mask: assembly/dropout-mask.ts writes it on the backend's memory.

function dropoutMaskKernel({ backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo {
  const { shape, rate, seed } = attrs as unknown as DropoutMaskAttrs;
  const wasm = backend as unknown as WasmBackend;
  const out = wasm.makeOutput(shape, 'float32');
  const { keep, scale } = keepAndScale(rate);
  const { key1, key2 } = seedKeys(seed);
  moduleOn<{ fill(out: number, length: number, key1: number, key2: number, keep: number, scale: number): void }>(wasm, dropoutMaskWasm, 'dropoutMask').fill(
    wasm.getMemoryOffset(out.dataId),
    shape.reduce((a, b) => a * b, 1),
    key1,
    key2,
    keep,
    scale,
  );
  return out;
}

export const dropoutMaskWasmConfig: KernelConfig = { kernelName: DropoutMask, backendName: 'wasm', kernelFunc: dropoutMaskKernel as unknown as KernelFunc };
