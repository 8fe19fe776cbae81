import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { layerNormWasm } from '../../generated/layer-norm-wasm.js';
import { LayerNorm, type LayerNormAttrs, LayerNormGrad, type LayerNormGradInputs, type LayerNormInputs } from '../../kernel-names.js';
import type { WasmBackend } from './wasm-backend.js';
import { moduleOn } from './module-on-memory.js';

// The wasm backend's LayerNorm: assembly/layer-norm.ts on the backend's own memory, one pass over
// the rows forward and one backward (with the weight and bias gradients summed on the way),
// where tfjs ops took a dozen kernels and two products.

interface Kernel {
  forward(x: number, weight: number, bias: number, y: number, means: number, rstds: number, rows: number, width: number, epsilon: number): void;
  backward(dy: number, x: number, weight: number, means: number, rstds: number, dx: number, dWeight: number, dBias: number, rows: number, width: number): void;
}

function forwardKernel({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo[] {
  const { x, weight, bias } = inputs as LayerNormInputs;
  const wasm = backend as unknown as WasmBackend;
  const width = x.shape[x.shape.length - 1]!;
  const rows = x.shape.reduce((a, b) => a * b, 1) / width;
  const [y, means, rstds] = [
    wasm.makeOutput(x.shape, 'float32'),
    wasm.makeOutput(x.shape.slice(0, -1), 'float32'),
    wasm.makeOutput(x.shape.slice(0, -1), 'float32'),
  ];
  const address = (t: TensorInfo) => wasm.getMemoryOffset(t.dataId);
  const kernel = moduleOn<Kernel>(wasm, layerNormWasm, 'layerNorm');
  kernel.forward(
    address(x),
    address(weight),
    bias.shape[0] === 0 ? 0 : address(bias),
    address(y),
    address(means),
    address(rstds),
    rows,
    width,
    (attrs as unknown as LayerNormAttrs).epsilon,
  );
  return [y, means, rstds];
}

function backwardKernel({ inputs, backend }: Parameters<KernelFunc>[0]): TensorInfo[] {
  const { dy, x, weight, means, rstds } = inputs as LayerNormGradInputs;
  const wasm = backend as unknown as WasmBackend;
  const width = x.shape[x.shape.length - 1]!;
  const rows = x.shape.reduce((a, b) => a * b, 1) / width;
  const [dx, dWeight, dBias] = [wasm.makeOutput(x.shape, 'float32'), wasm.makeOutput([width], 'float32'), wasm.makeOutput([width], 'float32')];
  const address = (t: TensorInfo) => wasm.getMemoryOffset(t.dataId);
  const kernel = moduleOn<Kernel>(wasm, layerNormWasm, 'layerNorm');
  kernel.backward(address(dy), address(x), address(weight), address(means), address(rstds), address(dx), address(dWeight), address(dBias), rows, width);
  return [dx, dWeight, dBias];
}

export const layerNormWasmConfigs: KernelConfig[] = [
  { kernelName: LayerNorm, backendName: 'wasm', kernelFunc: forwardKernel as unknown as KernelFunc },
  { kernelName: LayerNormGrad, backendName: 'wasm', kernelFunc: backwardKernel as unknown as KernelFunc },
];
