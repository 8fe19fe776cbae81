import { fileURLToPath } from 'node:url';
import { ready, tf } from '@embedlab/runtime';
import { gradientCheck } from '@embedlab/runtime/testing';
import { expectClose, runTorch } from '@embedlab/test-utils';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RopeScaling } from './rope-scaling.js';
import { permuteRopeWeights, ropeLayoutPermutation, RotaryEmbedding } from './rope.js';

const REFERENCE = fileURLToPath(new URL('./fixtures/rope_reference.py', import.meta.url));

/** Rotates one vector of headDim at one position. */
function rotateAt(rope: RotaryEmbedding, vector: number[], position: number): number[] {
  return tf.tidy(() => Array.from(rope.apply(tf.tensor4d(vector, [1, 1, 1, vector.length]), { offset: position }).dataSync()));
}

const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i]!, 0);

describe.each(['wasm', 'cpu'] as const)('RotaryEmbedding on %s', (backend) => {
  beforeAll(async () => {
    await ready({ backend });
  });

  const scalings: [string, RopeScaling | undefined][] = [
    ['none', undefined],
    ['linear x4', { type: 'linear', factor: 4 }],
    ['dynamic NTK x2', { type: 'dynamic', factor: 2, originalMaxPositions: 16 }],
    ['YaRN x8', { type: 'yarn', factor: 8, originalMaxPositions: 32 }],
    ['Llama 3 x8', { type: 'llama3', factor: 8, originalMaxPositions: 64, lowFreqFactor: 1, highFreqFactor: 4 }],
  ];

  it.each(scalings)("matches Hugging Face's formulas run in PyTorch (%s)", (_name, scaling) => {
    const headDim = 16;
    const positions = [0, 1, 2, 7, 15, 16, 31, 40];
    const x = positions.map((p) => Array.from({ length: headDim }, (_, i) => Math.sin(p * 0.37 + i * 1.3)));
    const reference = runTorch<{ inv_freq: number[]; attention_factor: number; rotated: number[][] }>(REFERENCE, {
      dim: headDim,
      base: 10000,
      positions,
      x,
      scaling: scaling ?? null,
    });
    const rope = new RotaryEmbedding({ headDim, ...(scaling ? { scaling } : {}) });
    const { inverseFrequencies, attentionFactor } = rope.frequencies(Math.max(...positions) + 1);
    expectClose(inverseFrequencies, reference.inv_freq, { tolerance: 1e-6, label: 'inverse frequencies' });
    expect(attentionFactor).toBeCloseTo(reference.attention_factor, 10);
    // Dynamic NTK's schedule depends on the whole length, so rotate the positions in one call.
    const all = Array.from({ length: Math.max(...positions) + 1 }, (_, p) => Array.from({ length: headDim }, (_, i) => Math.sin(p * 0.37 + i * 1.3)));
    const rotated = tf.tidy(() => rope.apply(tf.tensor4d(all.flat(), [1, 1, all.length, headDim])).arraySync() as number[][][][]);
    expectClose(
      positions.flatMap((p) => rotated[0]![0]![p]!),
      reference.rotated.flat(),
      { tolerance: 2e-5, label: 'rotated vectors' },
    );
  });

  it.each(['half', 'interleaved'] as const)('makes q_m . k_n depend only on m - n (%s layout)', (layout) => {
    const rope = new RotaryEmbedding({ headDim: 8, layout, rotaryDim: 6, scaling: { type: 'linear', factor: 2 } });
    const vector = fc.array(fc.float({ min: -2, max: 2, noNaN: true }), { minLength: 8, maxLength: 8 });
    fc.assert(
      fc.property(vector, vector, fc.nat(200), fc.nat(200), fc.nat(500), (q, k, m, n, shift) => {
        const before = dot(rotateAt(rope, q, m), rotateAt(rope, k, n));
        const after = dot(rotateAt(rope, q, m + shift), rotateAt(rope, k, n + shift));
        expect(Math.abs(before - after)).toBeLessThan(1e-3 * Math.max(1, Math.abs(before)));
      }),
      { numRuns: 40 },
    );
  });

  it('preserves norms, and one position at a time equals the whole sequence', () => {
    const rope = new RotaryEmbedding({ headDim: 8, layout: 'interleaved' });
    const x = tf.randomNormal([2, 3, 5, 8], 0, 1, 'float32', 11);
    const whole = rope.apply(x);
    expectClose(tf.norm(whole, 'euclidean', -1).dataSync(), tf.norm(x, 'euclidean', -1).dataSync(), { tolerance: 1e-5, label: 'norms' });
    const steps = Array.from({ length: 5 }, (_, t) => rope.apply(tf.slice(x, [0, 0, t, 0], [2, 3, 1, 8]), { offset: t }));
    expectClose(tf.concat(steps, 2).dataSync(), whole.dataSync(), { tolerance: 1e-6, label: 'incremental' });
  });

  it("rotates [batch, seq, heads, headDim] with axes 'bshd' like the transposed input", () => {
    const rope = new RotaryEmbedding({ headDim: 8 });
    const x = tf.randomNormal([2, 5, 3, 8], 0, 1, 'float32', 12);
    const direct = rope.apply(x, { axes: 'bshd', offset: 3 });
    const viaTranspose = tf.transpose(rope.apply(tf.transpose(x, [0, 2, 1, 3]), { offset: 3 }), [0, 2, 1, 3]);
    expectClose(direct.dataSync(), viaTranspose.dataSync(), { tolerance: 1e-6 });
  });

  it('passes dimensions past rotaryDim through unchanged', () => {
    const rope = new RotaryEmbedding({ headDim: 8, rotaryDim: 4 });
    const out = rotateAt(rope, [1, 2, 3, 4, 5, 6, 7, 8], 9);
    expect(out.slice(4)).toEqual([5, 6, 7, 8]);
  });

  it('converts between layouts with the permutation helper', () => {
    const headDim = 8;
    const half = new RotaryEmbedding({ headDim, layout: 'half' });
    const interleaved = new RotaryEmbedding({ headDim, layout: 'interleaved' });
    const perm = ropeLayoutPermutation(headDim, 'interleaved', 'half');
    expect(perm).toEqual([0, 2, 4, 6, 1, 3, 5, 7]);
    expect(ropeLayoutPermutation(headDim, 'half', 'interleaved')).toEqual([0, 4, 1, 5, 2, 6, 3, 7]);
    const x = Array.from({ length: headDim }, (_, i) => i + 1);
    const rotatedThenPermuted = perm.map((p) => rotateAt(interleaved, x, 5)[p]!);
    expectClose(
      rotateAt(
        half,
        perm.map((p) => x[p]!),
        5,
      ),
      rotatedThenPermuted,
      { tolerance: 1e-6 },
    );
    // Weights: permuting a [out, in] projection's rows permutes its outputs the same way.
    const weight = tf.reshape(tf.range(0, 2 * headDim * 3), [2 * headDim, 3]);
    const permuted = permuteRopeWeights(weight, { heads: 2, headDim, from: 'interleaved', to: 'half', outputAxis: 0 });
    expect((permuted.arraySync() as number[][]).map((row) => row[0]! / 3)).toEqual([...perm, ...perm.map((p) => p + headDim)]);
  });

  it('has gradients that match finite differences', () => {
    const rope = new RotaryEmbedding({ headDim: 4, rotaryDim: 4, layout: 'interleaved', scaling: { type: 'yarn', factor: 4, originalMaxPositions: 8 } });
    const x = tf.randomNormal([1, 2, 3, 4], 0, 1, 'float32', 13);
    const loss = (t: tf.Tensor) => tf.sum(tf.square(tf.sin(rope.apply(t, { offset: 2 })))) as tf.Scalar;
    expect(gradientCheck(loss, [x]).maxError).toBeLessThan(1e-2);
  });

  it('explains bad input', () => {
    expect(() => new RotaryEmbedding({ headDim: 8, rotaryDim: 5 })).toThrow('rotaryDim must be an even integer in [2, headDim = 8], got 5');
    expect(() => new RotaryEmbedding({ headDim: 8, scaling: { type: 'yarn', factor: 2 } as RopeScaling })).toThrow(
      'scaling.originalMaxPositions must be a positive integer, got undefined',
    );
    expect(() => new RotaryEmbedding({ headDim: 8, scaling: { type: 'linear', factor: 0.5 } })).toThrow('scaling.factor must be at least 1, got 0.5');
    const rope = new RotaryEmbedding({ headDim: 8 });
    expect(() => rope.apply(tf.zeros([1, 2, 3, 6]))).toThrow("x's last dimension must be headDim = 8, got shape [1,2,3,6]");
    expect(() => rope.apply(tf.zeros([2, 3, 8]))).toThrow(/x must be 4-D/);
    expect(() => rope.apply(tf.zeros([1, 1, 1, 8]), { offset: -1 })).toThrow('offset must be a non-negative integer, got -1');
  });
});
