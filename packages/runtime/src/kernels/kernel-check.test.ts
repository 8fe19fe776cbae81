import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../backend.js';
import { MatMul } from '../kernel-names.js';
import { checkKernels, missingKernels } from './kernel-check.js';

describe('the runtime checks its kernels when a backend starts', () => {
  const removed: tf.KernelConfig[] = [];

  beforeAll(async () => {
    await ready({ backend: 'wasm' });
  });

  afterEach(() => {
    for (const config of removed.splice(0)) {
      if (tf.getKernel(config.kernelName, config.backendName)) tf.unregisterKernel(config.kernelName, config.backendName);
      tf.registerKernel(config);
    }
  });

  /** Replaces a registered kernel for the test (restored after it). */
  function replace(name: string, backend: string, config?: tf.KernelConfig): void {
    const ours = tf.getKernel(name, backend);
    removed.push(ours);
    tf.unregisterKernel(name, backend);
    if (config) tf.registerKernel(config);
  }

  it('finds every kernel registered on both backends', () => {
    expect(missingKernels('wasm')).toEqual([]);
    expect(missingKernels('cpu')).toEqual([]);
  });

  it('names a dropped kernel, and a tfjs kernel where the runtime should have replaced it', () => {
    replace(MatMul, 'wasm');
    const identity = tf.getKernel('Identity', 'wasm');
    // tfjs's own Identity again: the runtime's replacement lost.
    replace('Identity', 'wasm', { kernelName: 'Identity', backendName: 'wasm', kernelFunc: identity.kernelFunc });
    expect(missingKernels('wasm')).toEqual([MatMul, 'Identity']);
    expect(() => checkKernels('wasm')).toThrow(
      '@embedlab/runtime: 2 of its kernels are not registered on the wasm backend (EmbedlabMatMul, Identity): a bundler dropped the package\'s side-effect modules; keep the "sideEffects" list of @embedlab/runtime\'s package.json',
    );
  });
});
