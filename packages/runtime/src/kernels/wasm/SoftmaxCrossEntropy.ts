import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { crossEntropyWasm } from '../../generated/cross-entropy-wasm.js';
import {
  SoftmaxCrossEntropy,
  type SoftmaxCrossEntropyAttrs,
  SoftmaxCrossEntropyGrad,
  type SoftmaxCrossEntropyGradInputs,
  type SoftmaxCrossEntropyInputs,
} from '../../kernel-names.js';
import { checkTargets } from '../cross-entropy-targets.js';
import { backendMemory, moduleOn } from './module-on-memory.js';
import type { WasmBackend } from './wasm-backend.js';

// The wasm backend's softmax cross-entropy: assembly/cross-entropy.ts on the backend's own memory.

interface Kernel {
  forward(logits: number, targets: number, logSumExp: number, losses: number, perRow: number, rows: number, n: number): number;
  backward(logits: number, targets: number, logSumExp: number, dy: number, perRow: number, dLogits: number, rows: number, n: number): void;
}

function forwardKernel({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo[] {
  const { logits, targets } = inputs as SoftmaxCrossEntropyInputs;
  const perRow = (attrs as unknown as SoftmaxCrossEntropyAttrs).reduction === 'none';
  const wasm = backend as unknown as WasmBackend;
  const [rows, n] = logits.shape as [number, number];
  const memory = backendMemory(wasm, 'softmaxCrossEntropy');
  checkTargets(new Int32Array(memory.buffer, wasm.getMemoryOffset(targets.dataId), rows), n);
  const loss = wasm.makeOutput(perRow ? [rows] : [], 'float32');
  const logSumExp = wasm.makeOutput([rows], 'float32');
  const mean = moduleOn<Kernel>(wasm, crossEntropyWasm, 'softmaxCrossEntropy').forward(
    wasm.getMemoryOffset(logits.dataId),
    wasm.getMemoryOffset(targets.dataId),
    wasm.getMemoryOffset(logSumExp.dataId),
    wasm.getMemoryOffset(loss.dataId),
    perRow ? 1 : 0,
    rows,
    n,
  );
  // Viewed after the outputs were allocated: the heap may have grown (a new buffer) meanwhile.
  if (!perRow) new Float32Array(memory.buffer, wasm.getMemoryOffset(loss.dataId), 1)[0] = mean;
  return [loss, logSumExp];
}

function backwardKernel({ inputs, backend }: Parameters<KernelFunc>[0]): TensorInfo {
  const { dy, logits, targets, logSumExp } = inputs as SoftmaxCrossEntropyGradInputs;
  const wasm = backend as unknown as WasmBackend;
  const [rows, n] = logits.shape as [number, number];
  const dLogits = wasm.makeOutput([rows, n], 'float32');
  moduleOn<Kernel>(wasm, crossEntropyWasm, 'softmaxCrossEntropy').backward(
    wasm.getMemoryOffset(logits.dataId),
    wasm.getMemoryOffset(targets.dataId),
    wasm.getMemoryOffset(logSumExp.dataId),
    wasm.getMemoryOffset(dy.dataId),
    dy.shape.length === 1 ? 1 : 0,
    wasm.getMemoryOffset(dLogits.dataId),
    rows,
    n,
  );
  return dLogits;
}

export const softmaxCrossEntropyWasmConfigs: KernelConfig[] = [
  { kernelName: SoftmaxCrossEntropy, backendName: 'wasm', kernelFunc: forwardKernel as unknown as KernelFunc },
  { kernelName: SoftmaxCrossEntropyGrad, backendName: 'wasm', kernelFunc: backwardKernel as unknown as KernelFunc },
];
