import { describe, expect, it } from 'vitest';
import { batchedMatMulWasm } from '../../generated/batched-matmul-wasm.js';
import { moduleOnMemory } from './module-on-memory.js';

interface Kernel {
  batchedMatMul(...args: number[]): void;
}
const kernelOn = (memory: WebAssembly.Memory) => moduleOnMemory<Kernel>(memory, batchedMatMulWasm);

// The kernel is instantiated on the wasm backend's own memory. Node's backend runs tfjs's plain
// SIMD build (an ordinary memory); browsers with threads run the threaded build, whose memory is
// shared and needs the kernel's `shared` build. Both are checked here on memories of each kind,
// against a product written out by hand.
describe.each([
  ['plain', () => new WebAssembly.Memory({ initial: 1 })],
  ['shared', () => new WebAssembly.Memory({ initial: 1, maximum: 4, shared: true })],
] as const)('the batchedMatMul wasm module on a %s memory', (_, makeMemory) => {
  it('multiplies operands in place, transposed ones through scratch', () => {
    const memory = makeMemory();
    const floats = new Float32Array(memory.buffer);
    // Two [2, 3]ᵀ·[3, 2]... stored as A [batch 2, k 3, m 2] (transposed) and B [batch 2, k 3, n 2].
    const a = [1, 2, 3, 4, 5, 6, -1, 0, 2, 1, 0, -2];
    const b = [1, 0, 0, 1, 1, 1, 2, 3, 4, 5, 6, 7];
    floats.set(a, 16);
    floats.set(b, 64);
    kernelOn(memory).batchedMatMul(16 * 4, 64 * 4, 128 * 4, 256 * 4, 512 * 4, 2, 2, 3, 2, 1, 0);
    // Batch 0: Aᵀ = [[1, 3, 5], [2, 4, 6]], B = [[1, 0], [0, 1], [1, 1]] -> [[6, 8], [8, 10]].
    // Batch 1: Aᵀ = [[-1, 2, 0], [0, 1, -2]], B = [[2, 3], [4, 5], [6, 7]] -> [[6, 7], [-8, -9]].
    expect(Array.from(floats.subarray(128, 136))).toEqual([6, 8, 8, 10, 6, 7, -8, -9]);
    expect(kernelOn(memory)).toBe(kernelOn(memory));
  });
});
