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
 * models trained here than a thread per core. A value that is not a whole number from 1 to 64 is
 * ignored, and `problem` says so.
 */
export function requestedThreads(): { threads?: number; problem?: string } {
  const asked = new URLSearchParams(location.search).get('threads');
  if (asked === null) return {};
  const threads = Number(asked);
  if (asked.trim() === '' || !Number.isInteger(threads) || threads < 1 || threads > 64)
    return { problem: `ignored ?threads=${asked}: it must be a whole number from 1 to 64` };
  return { threads };
}

/** Starts the runtime with the app's wasm files. */
export function startRuntime(threads: number | undefined): Promise<RuntimeInfo> {
  return ready({ wasmPaths, ...(threads === undefined ? {} : { threads }) });
}

/** What a runtime got; with `asked` threads it did not get, why. */
export function describeRuntime(info: RuntimeInfo, where: string, asked?: number): string {
  let why = '';
  if (asked !== undefined && asked > info.threads) {
    why = globalThis.crossOriginIsolated
      ? ` (asked for ${asked})`
      : ` (asked for ${asked}: threads need a cross-origin-isolated page, served with COOP/COEP headers)`;
  }
  return `${where}: ${info.backend}${info.simd ? ' + SIMD' : ''}, ${info.threads} thread${info.threads === 1 ? '' : 's'}${why}${info.fallbackReason ? ` (fell back: ${info.fallbackReason})` : ''}`;
}
