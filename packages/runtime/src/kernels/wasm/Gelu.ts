import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { geluWasm } from '../../generated/gelu-wasm.js';
import { Gelu, type GeluAttrs, GeluGrad, type GeluGradInputs, type GeluInputs } from '../../kernel-names.js';
import type { WasmBackend } from './wasm-backend.js';
import { moduleOn } from './module-on-memory.js';

// The wasm backend's GELU: assembly/gelu.ts on the backend's own memory, one pass each way.

interface Kernel {
  forward(x: number, y: number, length: number, tanh: number): void;
  backward(dy: number, x: number, dx: number, length: number, tanh: number): void;
}

function forwardKernel({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo {
  const { x } = inputs as GeluInputs;
  const wasm = backend as unknown as WasmBackend;
  const y = wasm.makeOutput(x.shape, 'float32');
  const tanh = (attrs as unknown as GeluAttrs).approximate === 'tanh' ? 1 : 0;
  moduleOn<Kernel>(wasm, geluWasm, 'gelu').forward(
    wasm.getMemoryOffset(x.dataId),
    wasm.getMemoryOffset(y.dataId),
    x.shape.reduce((a, b) => a * b, 1),
    tanh,
  );
  return y;
}

function backwardKernel({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo {
  const { dy, x } = inputs as GeluGradInputs;
  const wasm = backend as unknown as WasmBackend;
  const dx = wasm.makeOutput(x.shape, 'float32');
  const tanh = (attrs as unknown as GeluAttrs).approximate === 'tanh' ? 1 : 0;
  moduleOn<Kernel>(wasm, geluWasm, 'gelu').backward(
    wasm.getMemoryOffset(dy.dataId),
    wasm.getMemoryOffset(x.dataId),
    wasm.getMemoryOffset(dx.dataId),
    x.shape.reduce((a, b) => a * b, 1),
    tanh,
  );
  return dx;
}

export const geluWasmConfigs: KernelConfig[] = [
  { kernelName: Gelu, backendName: 'wasm', kernelFunc: forwardKernel as unknown as KernelFunc },
  { kernelName: GeluGrad, backendName: 'wasm', kernelFunc: backwardKernel as unknown as KernelFunc },
];
