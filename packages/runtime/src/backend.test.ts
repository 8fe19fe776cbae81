import { describe, expect, it } from 'vitest';
import { ready } from './backend.js';
import { tf } from './tf.js';

describe('ready', () => {
  // Node 22+ has relaxed SIMD on; on Node 20 the runtime turns on --experimental-wasm-relaxed-simd
  // itself before the first compile, so every supported Node runs the relaxed product kernel.
  it('starts the SIMD wasm backend by default and reports it, with the relaxed SIMD product kernel', async () => {
    const info = await ready();
    expect(info).toEqual({ backend: 'wasm', simd: true, threads: 1, kernels: 'relaxed-simd' });
    expect(tf.getBackend()).toBe('wasm');
  });

  it('is idempotent: repeated calls share one initialisation', () => {
    expect(ready()).toBe(ready({ backend: 'wasm' }));
  });

  it('switches backend when another is asked for, and back', async () => {
    expect(await ready({ backend: 'cpu' })).toEqual({ backend: 'cpu', simd: false, threads: 1 });
    expect(tf.getBackend()).toBe('cpu');
    expect((await ready({ backend: 'wasm' })).backend).toBe('wasm');
  });

  it('rejects bad options with the field and value', () => {
    expect(() => ready({ backend: 'webgl' as 'wasm' })).toThrow(/backend must be 'wasm' or 'cpu', got "webgl"/);
    expect(() => ready({ threads: 0 })).toThrow(/threads must be a positive integer, got 0/);
  });
});
