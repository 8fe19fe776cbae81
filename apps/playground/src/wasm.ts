// The wasm backend's binaries, exported by the runtime and emitted by Vite as assets of this app
// (never fetched from a CDN).
import { ready, type RuntimeInfo, type WasmFileName } from '@embedlab/runtime';
import plain from '@embedlab/runtime/wasm/tfjs-backend-wasm.wasm?url';
import simd from '@embedlab/runtime/wasm/tfjs-backend-wasm-simd.wasm?url';
import threadedSimd from '@embedlab/runtime/wasm/tfjs-backend-wasm-threaded-simd.wasm?url';

export const wasmPaths: Record<WasmFileName, string> = {
  'tfjs-backend-wasm.wasm': new URL(plain, location.href).href,
  'tfjs-backend-wasm-simd.wasm': new URL(simd, location.href).href,
  'tfjs-backend-wasm-threaded-simd.wasm': new URL(threadedSimd, location.href).href,
};

/**
 * Threads for the training worker from `?threads=N` in the page's address (`?threads=1`: the
 * single-thread SIMD build, to compare). Without it, tfjs decides: on a cross-origin-isolated
 * page, the threaded SIMD build with half the logical cores, which measured faster for the small
 * models trained here than a thread per core.
 */
export function requestedThreads(): number | undefined {
  const asked = new URLSearchParams(location.search).get('threads');
  return asked === null ? undefined : Number(asked);
}

/** Starts the runtime with the app's wasm files. */
export function startRuntime(threads: number | undefined): Promise<RuntimeInfo> {
  return ready({ wasmPaths, ...(threads === undefined ? {} : { threads }) });
}

export function describeRuntime(info: RuntimeInfo, where: string): string {
  return `${where}: ${info.backend}${info.simd ? ' + SIMD' : ''}, ${info.threads} thread${info.threads === 1 ? '' : 's'}${info.fallbackReason ? ` (fell back: ${info.fallbackReason})` : ''}`;
}
