import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { causalAttentionWasm } from '../../generated/causal-attention-wasm.js';
import {
  CausalAttention,
  type CausalAttentionAttrs,
  CausalAttentionGrad,
  type CausalAttentionGradInputs,
  type CausalAttentionInputs,
} from '../../kernel-names.js';
import { causalAttentionShape } from '../causal-attention-shape.js';
import type { WasmBackend } from './wasm-backend.js';
import { moduleOn } from './module-on-memory.js';

// The wasm backend's causal attention: assembly/causal-attention.ts on the backend's own memory.
// It reads q, k and v where the `[batch, seq, 3·C]` projection left them and writes the output in
// the layout the output projection reads, so no head split, transpose or merge runs at all.

interface Kernel {
  forward(
    qkv: number,
    bias: number,
    keep: number,
    out: number,
    weights: number,
    scratch: number,
    batch: number,
    seq: number,
    heads: number,
    headDim: number,
    scale: number,
  ): void;
  backward(
    qkv: number,
    keep: number,
    weights: number,
    dOut: number,
    dQkv: number,
    scratch: number,
    batch: number,
    seq: number,
    heads: number,
    headDim: number,
    scale: number,
  ): void;
}

/** One head's transposed keys (or values) and a [seq, seq] plane: what both kernels work in. */
const scratchBytes = (seq: number, headDim: number) => seq * (headDim + seq) * Float32Array.BYTES_PER_ELEMENT;

/** The address of an optional input, 0 for an empty tensor (none). */
const addressOf = (wasm: WasmBackend, t: TensorInfo) => (t.shape.some((d) => d === 0) ? 0 : wasm.getMemoryOffset(t.dataId));

function forwardKernel({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo[] {
  const { qkv, bias, keep } = inputs as CausalAttentionInputs;
  const wasm = backend as unknown as WasmBackend;
  const { batch, seq, heads, headDim, channels } = causalAttentionShape(qkv.shape, (attrs as unknown as CausalAttentionAttrs).heads);
  const out = wasm.makeOutput([batch, seq, channels], 'float32');
  const weights = wasm.makeOutput([batch, heads, seq, seq], 'float32');
  const scratch = wasm.wasm._malloc(scratchBytes(seq, headDim));
  try {
    const kernel = moduleOn<Kernel>(wasm, causalAttentionWasm, 'causalAttention');
    kernel.forward(
      wasm.getMemoryOffset(qkv.dataId),
      addressOf(wasm, bias),
      addressOf(wasm, keep),
      wasm.getMemoryOffset(out.dataId),
      wasm.getMemoryOffset(weights.dataId),
      scratch,
      batch,
      seq,
      heads,
      headDim,
      1 / Math.sqrt(headDim),
    );
  } finally {
    wasm.wasm._free(scratch);
  }
  return [out, weights];
}

function backwardKernel({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo {
  const { dy, qkv, keep, weights } = inputs as CausalAttentionGradInputs;
  const wasm = backend as unknown as WasmBackend;
  const { batch, seq, heads, headDim } = causalAttentionShape(qkv.shape, (attrs as unknown as CausalAttentionAttrs).heads);
  const dQkv = wasm.makeOutput(qkv.shape, 'float32');
  const scratch = wasm.wasm._malloc(scratchBytes(seq, headDim));
  try {
    const kernel = moduleOn<Kernel>(wasm, causalAttentionWasm, 'causalAttention');
    kernel.backward(
      wasm.getMemoryOffset(qkv.dataId),
      addressOf(wasm, keep),
      wasm.getMemoryOffset(weights.dataId),
      wasm.getMemoryOffset(dy.dataId),
      wasm.getMemoryOffset(dQkv.dataId),
      scratch,
      batch,
      seq,
      heads,
      headDim,
      1 / Math.sqrt(headDim),
    );
  } finally {
    wasm.wasm._free(scratch);
  }
  return dQkv;
}

export const causalAttentionWasmConfigs: KernelConfig[] = [
  { kernelName: CausalAttention, backendName: 'wasm', kernelFunc: forwardKernel as unknown as KernelFunc },
  { kernelName: CausalAttentionGrad, backendName: 'wasm', kernelFunc: backwardKernel as unknown as KernelFunc },
];
