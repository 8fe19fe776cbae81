import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { EmbeddingLookup, type EmbeddingLookupInputs } from '../../kernel-names.js';
import type { WasmBackend } from './wasm-backend.js';
import { backendMemory } from './module-on-memory.js';

// The wasm backend's `EmbedlabEmbeddingLookup`: one row copy per id inside the backend's memory
// (copyWithin, a memmove). tfjs-backend-wasm's GatherV2 computes every element's index on its
// own: 6 ms for a baby batch's 1024 rows of 128, against ~0.05 ms here. An id outside the table
// is an error (the copy would read another tensor's memory).

function lookupKernel({ inputs, backend }: Parameters<KernelFunc>[0]): TensorInfo {
  const { table, ids } = inputs as EmbeddingLookupInputs;
  const wasm = backend as unknown as WasmBackend;
  const [vocabSize, dim] = table.shape as [number, number];
  const count = ids.shape.reduce((a, b) => a * b, 1);
  const out = wasm.makeOutput([...ids.shape, dim], 'float32');
  const buffer = backendMemory(wasm, 'embeddingLookup').buffer;
  const heap = new Float32Array(buffer);
  const idValues = new Int32Array(buffer, wasm.getMemoryOffset(ids.dataId), count);
  const tableStart = wasm.getMemoryOffset(table.dataId) / 4;
  const outStart = wasm.getMemoryOffset(out.dataId) / 4;
  for (let r = 0; r < count; r++) {
    const id = idValues[r]!;
    if (!(id >= 0 && id < vocabSize)) throw new RangeError(`embeddingLookup: id ${id} at index ${r} is outside the table's ${vocabSize} rows`);
    heap.copyWithin(outStart + r * dim, tableStart + id * dim, tableStart + (id + 1) * dim);
  }
  return out;
}

export const embeddingLookupWasmConfig: KernelConfig = {
  kernelName: EmbeddingLookup,
  backendName: 'wasm',
  kernelFunc: lookupKernel as unknown as KernelFunc,
};
