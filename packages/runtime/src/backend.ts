import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-cpu';
import './generated/register-gradients.js';
import './register-kernels.js';
import './kernels/wasm/Identity.js';
import './kernels/wasm/Transpose.js';
import { checkKernels } from './kernels/kernel-check.js';
import { detectKernelBuild, type KernelBuild } from './kernels/wasm/kernel-build.js';

export type BackendName = 'wasm' | 'cpu';

/**
 * The wasm backend's binaries. The package exports each as `@embedlab/runtime/wasm/<name>`, so an
 * app can serve them itself (with Vite: `import simd from
 * '@embedlab/runtime/wasm/tfjs-backend-wasm-simd.wasm?url'`) and pass `ready({ wasmPaths })` a map
 * from these names to the URLs.
 */
export const wasmFileNames = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'] as const;
export type WasmFileName = (typeof wasmFileNames)[number];

export interface ReadyOptions {
  /** Backend to run on. Default `'wasm'`; `'cpu'` is the pure-JS reference backend. */
  backend?: BackendName;
  /**
   * WASM threads, in cross-origin-isolated browsers (Node's wasm backend is single-threaded).
   * Default: tfjs's choice, half of `navigator.hardwareConcurrency` (at most 8) on the threaded
   * SIMD build. `1` uses the plain SIMD build, with no thread pool; more than 1 gets that many
   * threads on the threaded SIMD build.
   */
  threads?: number;
  /**
   * Where the `.wasm` binaries are served from: a directory prefix ending in `/`, or a map from
   * file name (`wasmFileNames`: `tfjs-backend-wasm-simd.wasm`, ...) to URL. Node finds them itself.
   * The files are exported as `@embedlab/runtime/wasm/<name>`.
   */
  wasmPaths?: string | Partial<Record<WasmFileName, string>>;
}

export interface RuntimeInfo {
  /** The backend actually in use. */
  backend: BackendName;
  /** Whether the SIMD binary is running (wasm only). */
  simd: boolean;
  /** Threads the WASM backend uses (1 for cpu). */
  threads: number;
  /**
   * Which build of the runtime's product kernel runs (wasm only): `'relaxed-simd'` (fused
   * multiply-add; Node 22+, current Chromium, Node 20 through `--experimental-wasm-relaxed-simd`,
   * which the runtime sets itself) or `'simd'`.
   */
  kernels?: KernelBuild;
  /** Why the requested backend was not used, when it fell back to cpu. */
  fallbackReason?: string;
}

let current: Promise<RuntimeInfo> | undefined;
let currentRequest: BackendName | undefined;
let wasmConfigured = false;

function validate(options: ReadyOptions): void {
  const { backend, threads } = options;
  if (backend !== undefined && backend !== 'wasm' && backend !== 'cpu') {
    throw new TypeError(`ready(): backend must be 'wasm' or 'cpu', got ${JSON.stringify(backend)}`);
  }
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) {
    throw new RangeError(`ready(): threads must be a positive integer, got ${threads}`);
  }
}

async function describe(fallbackReason?: string): Promise<RuntimeInfo> {
  const backend = tf.getBackend() as BackendName;
  checkKernels(backend);
  if (backend !== 'wasm') return fallbackReason === undefined ? { backend, simd: false, threads: 1 } : { backend, simd: false, threads: 1, fallbackReason };
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean;
  return { backend, simd, threads: getThreadsCount(), kernels: detectKernelBuild() };
}

/**
 * tfjs-backend-wasm sizes its thread pool at no more than half of `navigator.hardwareConcurrency`
 * (it assumes two hyperthreads per core), so on a 2-core machine an explicit `threads: 2` would
 * get 1. While the module starts, it is shown enough cores for the request; the real value is
 * back as soon as the backend is up.
 */
async function honouringThreads<T>(threads: number | undefined, run: () => Promise<T>): Promise<T> {
  const navigator = globalThis.navigator as { hardwareConcurrency?: number } | undefined;
  const cores = 2 * (threads ?? 0);
  if (navigator?.hardwareConcurrency === undefined || navigator.hardwareConcurrency >= cores) return run();
  Object.defineProperty(navigator, 'hardwareConcurrency', { value: cores, configurable: true });
  try {
    return await run();
  } finally {
    delete navigator.hardwareConcurrency;
  }
}

async function start(options: ReadyOptions): Promise<RuntimeInfo> {
  const requested = options.backend ?? 'wasm';
  // The cpu backend greets Node users with advice to install tfjs-node on first use; this
  // project runs on wasm by design, so the greeting is noise.
  const quietCpu = () => {
    const cpu = tf.findBackend('cpu') as { firstUse?: boolean } | null;
    if (cpu) cpu.firstUse = false;
  };
  if (requested === 'wasm') {
    if (!wasmConfigured) {
      if (options.wasmPaths !== undefined) setWasmPaths(options.wasmPaths as string);
      if (options.threads === 1) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      else if (options.threads !== undefined) setThreadsCount(options.threads);
      wasmConfigured = true;
    }
    let reason: string | undefined;
    try {
      if (await honouringThreads(options.threads, () => tf.setBackend('wasm'))) await tf.ready();
      else reason = 'the wasm backend failed to initialise';
    } catch (error) {
      reason = `the wasm backend failed to initialise: ${(error as Error).message}`;
    }
    // Outside the try: missing kernels are an error to report, not a reason to fall back.
    if (reason === undefined) return describe();
    console.warn(`@embedlab/runtime: falling back to the cpu backend (much slower): ${reason}`);
    await tf.setBackend('cpu');
    quietCpu();
    return describe(reason);
  }
  await tf.setBackend('cpu');
  quietCpu();
  return describe();
}

/**
 * Initialises TensorFlow.js on the SIMD WASM backend (or cpu) and reports what it got.
 * Idempotent: calls that ask for the same backend share one initialisation, so every package
 * may call it; asking for a different backend switches to it.
 */
export function ready(options: ReadyOptions = {}): Promise<RuntimeInfo> {
  validate(options);
  const requested = options.backend ?? currentRequest ?? 'wasm';
  if (current !== undefined && requested === currentRequest) return current;
  currentRequest = requested;
  const started = start({ ...options, backend: requested });
  current = started;
  started.catch(() => {
    if (current === started) current = currentRequest = undefined;
  });
  return started;
}
