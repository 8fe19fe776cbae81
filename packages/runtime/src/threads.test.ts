// Its own file: vitest runs each file in a fresh module graph, so this ready() call is the first.
import { afterAll, describe, expect, it } from 'vitest';
import { ready } from './backend.js';
import { tf } from './tf.js';

class FakeNavigator {
  get hardwareConcurrency(): number {
    return 2;
  }
}

describe('ready({ threads })', () => {
  const hadNavigator = 'navigator' in globalThis;
  const original = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  Object.defineProperty(globalThis, 'navigator', { value: new FakeNavigator(), configurable: true });
  afterAll(() => {
    if (original) Object.defineProperty(globalThis, 'navigator', original);
    else if (!hadNavigator) delete (globalThis as { navigator?: unknown }).navigator;
  });

  it('shows the wasm module enough cores for the asked threads while it starts, then restores the real count', async () => {
    // The module compiles asynchronously; sample what it would read meanwhile.
    const seen = new Set<number>();
    const sampler = setInterval(() => seen.add(globalThis.navigator.hardwareConcurrency), 0);
    const starting = ready({ threads: 3 });
    seen.add(globalThis.navigator.hardwareConcurrency);
    // Node's wasm backend has no threads; what matters here is what the module was shown.
    expect(await starting).toEqual({ backend: 'wasm', simd: true, threads: 1, kernels: 'relaxed-simd' });
    clearInterval(sampler);
    expect([...seen]).toEqual([6]);
    expect(tf.getBackend()).toBe('wasm');
    expect(globalThis.navigator.hardwareConcurrency).toBe(2);
    expect(Object.getOwnPropertyNames(globalThis.navigator)).toEqual([]);
  });
});
