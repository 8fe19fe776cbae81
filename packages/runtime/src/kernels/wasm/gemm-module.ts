import { gemmRelaxedWasm, gemmWasm } from '../../generated/gemm-wasm.js';
import { kernelBuild } from './kernel-build.js';
import { moduleOn } from './module-on-memory.js';
import type { WasmBackend } from './wasm-backend.js';

/** The exports of assembly/gemm.ts (see there for the arguments). */
export interface GemmModule {
  scratchFloats(m: number, k: number, n: number): number;
  gemm(
    a: number,
    b: number,
    c: number,
    y: number,
    bias: number,
    scratch: number,
    m: number,
    k: number,
    n: number,
    transposeA: number,
    transposeB: number,
    hasBias: number,
    gelu: number,
  ): void;
}

/** The product's module on `backend`'s memory, in the build that runs now (relaxed SIMD where the engine has it). */
export function gemmOn(backend: WasmBackend, op: string): GemmModule {
  return moduleOn<GemmModule>(backend, kernelBuild() === 'relaxed-simd' ? gemmRelaxedWasm : gemmWasm, op);
}
