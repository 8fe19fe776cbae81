import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { adamwWasm } from '../../generated/adamw-wasm.js';
import { AdamW, type AdamWAttrs, GlobalNorm } from '../../kernel-names.js';
import { adamwScalars } from '../adamw-scalars.js';
import { backendMemory, moduleOn } from './module-on-memory.js';
import type { WasmBackend } from './wasm-backend.js';

// The wasm backend's fused optimizer kernels: assembly/adamw.ts on the backend's own memory. Every
// parameter, gradient and moment is read where tfjs keeps it and the new values are written into
// outputs the backend allocated: one kernel for the global norm, one for the whole AdamW step.

interface Kernel {
  sumSquares(x: number, length: number): number;
  adamw(p: number, g: number, m: number, v: number, pOut: number, mOut: number, vOut: number, length: number, ...scalars: number[]): void;
}

const sizeOf = (t: TensorInfo) => t.shape.reduce((a, b) => a * b, 1);

function globalNormKernel({ inputs, backend }: Parameters<KernelFunc>[0]): TensorInfo {
  const wasm = backend as unknown as WasmBackend;
  const out = wasm.makeOutput([], 'float32');
  const kernel = moduleOn<Kernel>(wasm, adamwWasm, 'globalNorm');
  let total = 0;
  for (const t of Object.values(inputs) as TensorInfo[]) total += kernel.sumSquares(wasm.getMemoryOffset(t.dataId), sizeOf(t));
  new Float32Array(backendMemory(wasm, 'globalNorm').buffer, wasm.getMemoryOffset(out.dataId), 1)[0] = Math.sqrt(total);
  return out;
}

function adamwKernel({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo[] {
  const wasm = backend as unknown as WasmBackend;
  const a = attrs as unknown as AdamWAttrs;
  const k = adamwScalars(a);
  const named = inputs as Record<string, TensorInfo>;
  // Every output first: allocating may grow the heap.
  const outputs: TensorInfo[] = [];
  for (let i = 0; i < a.count; i++) for (const _ of 'pmv') outputs.push(wasm.makeOutput(named[`p${i}`]!.shape, 'float32'));
  const kernel = moduleOn<Kernel>(wasm, adamwWasm, 'adamw');
  const at = (t: TensorInfo) => wasm.getMemoryOffset(t.dataId);
  for (let i = 0; i < a.count; i++) {
    const [p, g, m, v] = [named[`p${i}`]!, named[`g${i}`]!, named[`m${i}`]!, named[`v${i}`]!];
    const [pOut, mOut, vOut] = outputs.slice(3 * i, 3 * i + 3) as [TensorInfo, TensorInfo, TensorInfo];
    kernel.adamw(
      at(p),
      at(g),
      at(m),
      at(v),
      at(pOut),
      at(mOut),
      at(vOut),
      sizeOf(p),
      k.scale,
      k.beta1,
      k.oneMinusBeta1,
      k.beta2,
      k.oneMinusBeta2,
      k.correction1,
      k.correction2,
      k.epsilon,
      k.decayFactor(a.decay[i]!),
      k.learningRate,
    );
  }
  return outputs;
}

export const adamwWasmConfigs: KernelConfig[] = [
  { kernelName: GlobalNorm, backendName: 'wasm', kernelFunc: globalNormKernel as unknown as KernelFunc },
  { kernelName: AdamW, backendName: 'wasm', kernelFunc: adamwKernel as unknown as KernelFunc },
];
