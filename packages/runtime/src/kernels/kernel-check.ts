import * as tf from '@tensorflow/tfjs-core';
import * as names from '../kernel-names.js';
import { RUNTIME_OVERRIDE } from './wasm/override.js';

// Every kernel the runtime registers, checked when a backend starts: a bundler that drops the
// runtime's side-effect modules (its package.json `sideEffects` ignored, or a copy of the package
// without it) would otherwise leave the runtime's ops failing at first use with "kernel not
// found", or, for the tfjs kernels it replaces (Identity, Transpose), silently running tfjs's slower
// ones. The names come from kernel-names.ts, which no registration depends on.

/** The runtime's own kernels (every `Embedlab…` name). */
const RUNTIME_KERNELS = (Object.values(names) as unknown[]).filter((value): value is string => typeof value === 'string' && value.startsWith('Embedlab'));
/** tfjs kernels the runtime replaces on wasm. */
const OVERRIDDEN_ON_WASM = ['Identity', 'Transpose'];

/** The runtime's kernels that `backend` lacks (tfjs's own, where the runtime's should replace it, count as lacking). */
export function missingKernels(backend: 'wasm' | 'cpu'): string[] {
  const missing = RUNTIME_KERNELS.filter((name) => tf.getKernel(name, backend) === undefined);
  if (backend === 'wasm')
    for (const name of OVERRIDDEN_ON_WASM)
      if ((tf.getKernel(name, backend) as { overriddenBy?: string } | undefined)?.overriddenBy !== RUNTIME_OVERRIDE.overriddenBy) missing.push(name);
  return missing;
}

/** Throws, naming them, when `backend` lacks any of the runtime's kernels. */
export function checkKernels(backend: 'wasm' | 'cpu'): void {
  const missing = missingKernels(backend);
  if (missing.length > 0)
    throw new Error(
      `@embedlab/runtime: ${missing.length} of its kernels are not registered on the ${backend} backend (${missing.join(', ')}): a bundler dropped the package's side-effect modules; keep the "sideEffects" list of @embedlab/runtime's package.json`,
    );
}
