import type { TensorInfo } from '@tensorflow/tfjs-core';

/** What the runtime's wasm kernels use of tfjs-backend-wasm's `BackendWasm` and of its Emscripten module. */
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
  /** Which data the backend holds (tfjs-core's DataStorage). */
  dataIdMap: { has(dataId: object): boolean };
  getMemoryOffset(dataId: object): number;
}
