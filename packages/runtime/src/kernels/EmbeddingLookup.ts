import { getKernel, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { EmbeddingLookup, type EmbeddingLookupInputs } from '../kernel-names.js';

// `EmbedlabEmbeddingLookup` on the cpu backend (the wasm backend has its own,
// kernels/wasm/EmbeddingLookup.ts): the forward pass is the backend's own `GatherV2` kernel along axis 0 (tables of [vocab, dim], ids of any shape -> [...ids, dim]). It is a kernel
// of its own only so that its gradient can differ from gather's: see
// src/gradients/EmbeddingLookup_grad.ts.

function lookupOn(backendName: string): KernelFunc {
  return ({ inputs, backend }) => {
    const { table, ids } = inputs as EmbeddingLookupInputs;
    const gather = getKernel('GatherV2', backendName);
    if (!gather) throw new Error(`embeddingLookup: the ${backendName} backend has no GatherV2 kernel`);
    return gather.kernelFunc({ inputs: { x: table, indices: ids }, backend, attrs: { axis: 0, batchDims: 0 } }) as TensorInfo;
  };
}

export const embeddingLookupCpuConfig: KernelConfig = { kernelName: EmbeddingLookup, backendName: 'cpu', kernelFunc: lookupOn('cpu') };
