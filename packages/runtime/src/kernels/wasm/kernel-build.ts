// Which build of the product's module runs: relaxed SIMD (`f32x4.relaxed_madd`, a fused
// multiply-add) where the engine has it, plain SIMD elsewhere. Asked once, of the engine itself,
// with WebAssembly.validate on a 39-byte module holding one relaxed_madd. Relaxed SIMD is on by
// default in Node 22+ and current Chromium; Node 20 has it behind
// `--experimental-wasm-relaxed-simd`, which is set here (v8.setFlagsFromString) before the first
// compile when the engine would otherwise refuse the probe.

/** `'relaxed-simd'`: the relaxed build of the product runs; `'simd'`: the plain SIMD one. */
export type KernelBuild = 'relaxed-simd' | 'simd';

// (module (func (param v128 v128 v128) (result v128) local.get 0 local.get 1 local.get 2 f32x4.relaxed_madd))
const RELAXED_PROBE = Uint8Array.of(
  ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
  ...[0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b],
  ...[0x03, 0x02, 0x01, 0x00],
  ...[0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b],
);

let detected: KernelBuild | undefined;
let forced: KernelBuild | undefined;

/** Node 20: turns relaxed SIMD on before anything is compiled with it. No-op elsewhere. */
function enableRelaxedSimdOnNode(): void {
  const process = (globalThis as { process?: { getBuiltinModule?: (name: string) => unknown } }).process;
  try {
    const v8 = process?.getBuiltinModule?.('node:v8') as { setFlagsFromString(flags: string): void } | undefined;
    v8?.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    // Not Node, or the flag is gone: plain SIMD.
  }
}

/** Detects (once) whether this engine runs relaxed SIMD. */
export function detectKernelBuild(): KernelBuild {
  if (detected === undefined) {
    if (!WebAssembly.validate(RELAXED_PROBE)) enableRelaxedSimdOnNode();
    detected = WebAssembly.validate(RELAXED_PROBE) ? 'relaxed-simd' : 'simd';
  }
  return detected;
}

/** The build the product kernel uses now: the detected one unless a benchmark or test forced one. */
export function kernelBuild(): KernelBuild {
  return forced ?? detectKernelBuild();
}

/**
 * Forces the product's build (`undefined` returns to the detected one), for benchmarks and tests
 * comparing the two in one process. Forcing `'relaxed-simd'` where the engine lacks it throws.
 */
export function forceKernelBuild(build: KernelBuild | undefined): void {
  if (build === 'relaxed-simd' && detectKernelBuild() !== 'relaxed-simd') throw new Error('forceKernelBuild: this engine does not run relaxed SIMD');
  forced = build;
}
