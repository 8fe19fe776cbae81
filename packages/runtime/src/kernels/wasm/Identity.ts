// Imported first, so the wasm backend's own kernels are registered before the override below.
import '@tensorflow/tfjs-backend-wasm';
import { Identity, type KernelFunc, registerKernel, type TensorInfo, unregisterKernel } from '@tensorflow/tfjs-core';
import { RUNTIME_OVERRIDE } from './override.js';
import type { WasmBackend } from './wasm-backend.js';

// tfjs-backend-wasm's Identity copies the tensor. The engine runs Identity for every tensor a
// gradient saves (`keep(clone(x))`: each linear layer's input and weight, each LayerNorm's input):
// about 190 full copies of activations per baby training step. tfjs's cpu and webgl backends
// share the data instead (one more reference), as Reshape already does on wasm; so does this.
// Tensors are immutable, and the backend frees a buffer only when its last reference goes.

function sharedIdentity({ inputs, backend }: Parameters<KernelFunc>[0]): TensorInfo {
  const { x } = inputs as { x: TensorInfo };
  (backend as unknown as WasmBackend & { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

unregisterKernel(Identity, 'wasm');
registerKernel({ kernelName: Identity, backendName: 'wasm', kernelFunc: sharedIdentity as unknown as KernelFunc, ...RUNTIME_OVERRIDE });
