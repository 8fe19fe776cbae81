import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { batchedMatMulWasm } from '../../generated/batched-matmul-wasm.js';
import { BatchedMatMul, type BatchedMatMulAttrs, type BatchedMatMulInputs } from '../../kernel-names.js';
import { batchedMatMulShape } from '../batched-matmul-shape.js';

// The wasm backend's `EmbedlabBatchedMatMul`: the SIMD product compiled from
// assembly/batched-matmul.ts (base64 in src/generated/, see scripts/build-kernels.mjs),
// instantiated on the backend's own WebAssembly.Memory. It reads the operands where tfjs keeps
// them and writes the product into an output the backend allocated: no copy, no dataSync, no
// tensor in between. Scratch for transposed operands comes from the backend's allocator.

/** What this kernel uses of tfjs-backend-wasm's `BackendWasm` and of its Emscripten module. */
export interface WasmBackend {
  wasm: {
    /** tfjs's threaded build: its shared memory. */
    wasmMemory?: WebAssembly.Memory;
    /** The other builds: the module's exports, memory among them. */
    asm?: { memory?: WebAssembly.Memory };
    _malloc(bytes: number): number;
    _free(pointer: number): void;
  };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  getMemoryOffset(dataId: object): number;
}

interface Kernel {
  batchedMatMul: (
    a: number,
    b: number,
    c: number,
    uprightA: number,
    uprightB: number,
    batch: number,
    m: number,
    k: number,
    n: number,
    transposeA: number,
    transposeB: number,
  ) => void;
}

const modules = new Map<'plain' | 'shared', WebAssembly.Module>();
const instances = new WeakMap<WebAssembly.Memory, Kernel>();

/** The kernel instantiated on `memory` (once per memory): the shared build for a shared memory. */
export function kernelOn(memory: WebAssembly.Memory): Kernel {
  let kernel = instances.get(memory);
  if (!kernel) {
    const variant = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer ? 'shared' : 'plain';
    let module = modules.get(variant);
    if (!module) {
      // About 1 KB: small enough to compile synchronously even on a browser's main thread.
      module = new WebAssembly.Module(Uint8Array.from(atob(batchedMatMulWasm[variant]), (c) => c.charCodeAt(0)));
      modules.set(variant, module);
    }
    kernel = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Kernel;
    instances.set(memory, kernel);
  }
  return kernel;
}

function memoryOf(backend: WasmBackend): WebAssembly.Memory {
  const memory = backend.wasm.wasmMemory ?? backend.wasm.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) {
    throw new Error(
      "batchedMatMul: cannot find the wasm backend's WebAssembly.Memory (Module.wasmMemory or Module.asm.memory); has @tensorflow/tfjs-backend-wasm changed its build?",
    );
  }
  return memory;
}

function batchedMatMulKernel({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo {
  const { a, b } = inputs as BatchedMatMulInputs;
  const { transposeA, transposeB } = attrs as unknown as BatchedMatMulAttrs;
  const wasm = backend as unknown as WasmBackend;
  const { batchShape, batch, m, k, n } = batchedMatMulShape(a.shape, b.shape, transposeA, transposeB);
  const out = wasm.makeOutput([...batchShape, m, n], 'float32');
  // Transposed operands are copied upright into scratch, one batch entry at a time.
  const uprightABytes = transposeA ? m * k * Float32Array.BYTES_PER_ELEMENT : 0;
  const uprightBBytes = transposeB ? k * n * Float32Array.BYTES_PER_ELEMENT : 0;
  const scratch = uprightABytes + uprightBBytes > 0 ? wasm.wasm._malloc(uprightABytes + uprightBBytes) : 0;
  try {
    const { batchedMatMul: run } = kernelOn(memoryOf(wasm));
    run(
      wasm.getMemoryOffset(a.dataId),
      wasm.getMemoryOffset(b.dataId),
      wasm.getMemoryOffset(out.dataId),
      scratch,
      scratch + uprightABytes,
      batch,
      m,
      k,
      n,
      transposeA ? 1 : 0,
      transposeB ? 1 : 0,
    );
  } finally {
    if (scratch !== 0) wasm.wasm._free(scratch);
  }
  return out;
}

export const batchedMatMulWasmConfig: KernelConfig = {
  kernelName: BatchedMatMul,
  backendName: 'wasm',
  kernelFunc: batchedMatMulKernel as unknown as KernelFunc,
};
