import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { sumRowsWasm } from '../../generated/sum-rows-wasm.js';
import { SumRows, type SumRowsInputs } from '../../kernel-names.js';
import { moduleOn } from './module-on-memory.js';
import type { WasmBackend } from './wasm-backend.js';

// The wasm backend's `EmbedlabSumRows`: assembly/sum-rows.ts on the backend's own memory.

function sumRowsKernel({ inputs, backend }: Parameters<KernelFunc>[0]): TensorInfo {
  const { x } = inputs as SumRowsInputs;
  const wasm = backend as unknown as WasmBackend;
  // Any rank: every dimension but the last is a row (as laid out in memory).
  const n = x.shape.at(-1)!;
  const rows = n === 0 ? 0 : x.shape.reduce((size, d) => size * d, 1) / n;
  const out = wasm.makeOutput([n], 'float32');
  moduleOn<{ sumRows(x: number, out: number, rows: number, n: number): void }>(wasm, sumRowsWasm, 'sumRows').sumRows(
    wasm.getMemoryOffset(x.dataId),
    wasm.getMemoryOffset(out.dataId),
    rows,
    n,
  );
  return out;
}

export const sumRowsWasmConfig: KernelConfig = { kernelName: SumRows, backendName: 'wasm', kernelFunc: sumRowsKernel as unknown as KernelFunc };
