import type { WasmBackend } from './wasm-backend.js';

// Instantiates one of the runtime's AssemblyScript kernels (base64 in src/generated/) on the wasm
// backend's own memory, once per memory: the shared build for tfjs's threaded (shared) memory,
// the plain one otherwise. Every wasm kernel of the runtime takes its module from here.

type Binaries = { plain: string; shared: string };

const modules = new WeakMap<Binaries, Map<'plain' | 'shared', WebAssembly.Module>>();
const instances = new WeakMap<WebAssembly.Memory, Map<Binaries, WebAssembly.Exports>>();

/** The backend's WebAssembly.Memory (where its tensors live). */
export function backendMemory(backend: WasmBackend, op: string): WebAssembly.Memory {
  const memory = backend.wasm.wasmMemory ?? backend.wasm.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) {
    throw new Error(
      `${op}: cannot find the wasm backend's WebAssembly.Memory (Module.wasmMemory or Module.asm.memory); has @tensorflow/tfjs-backend-wasm changed its build?`,
    );
  }
  return memory;
}

/** The exports of `binaries` instantiated on `backend`'s memory. */
export function moduleOn<Exports>(backend: WasmBackend, binaries: Binaries, op: string): Exports {
  return moduleOnMemory<Exports>(backendMemory(backend, op), binaries);
}

/** The exports of `binaries` instantiated on `memory` (once per memory and binaries). */
export function moduleOnMemory<Exports>(memory: WebAssembly.Memory, binaries: Binaries): Exports {
  let byBinaries = instances.get(memory);
  if (!byBinaries) {
    byBinaries = new Map();
    instances.set(memory, byBinaries);
  }
  let exports = byBinaries.get(binaries);
  if (!exports) {
    const variant = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer ? 'shared' : 'plain';
    let compiled = modules.get(binaries);
    if (!compiled) {
      compiled = new Map();
      modules.set(binaries, compiled);
    }
    let module = compiled.get(variant);
    if (!module) {
      // A few KB: small enough to compile synchronously even on a browser's main thread.
      module = new WebAssembly.Module(Uint8Array.from(atob(binaries[variant]), (c) => c.charCodeAt(0)));
      compiled.set(variant, module);
    }
    exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
    byBinaries.set(binaries, exports);
  }
  return exports as Exports;
}
