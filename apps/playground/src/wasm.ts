// The wasm backend's binaries, emitted by Vite as assets of this app (never fetched from a CDN).
import plain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import simd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import threadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { ready, type RuntimeInfo } from '@embedlab/runtime';

export const wasmPaths = {
  'tfjs-backend-wasm.wasm': new URL(plain, location.href).href,
  'tfjs-backend-wasm-simd.wasm': new URL(simd, location.href).href,
  'tfjs-backend-wasm-threaded-simd.wasm': new URL(threadedSimd, location.href).href,
};

/** Starts the runtime with the app's wasm files; threads when the page is cross-origin isolated. */
export function startRuntime(): Promise<RuntimeInfo> {
  const threads = globalThis.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : undefined;
  return ready({ wasmPaths, ...(threads ? { threads } : {}) });
}

export function describeRuntime(info: RuntimeInfo, where: string): string {
  return `${where}: ${info.backend}${info.simd ? ' + SIMD' : ''}, ${info.threads} thread${info.threads === 1 ? '' : 's'}${info.fallbackReason ? ` (fell back: ${info.fallbackReason})` : ''}`;
}
