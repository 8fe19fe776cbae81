import { describe, expect, it } from 'vitest';
import { MatVecArena } from './mat-vec-arena.js';

/** x · w with w [in, out], in float64: the reference. */
function reference(x: number[], w: number[], bias: number[] | undefined, outFeatures: number): number[] {
  return Array.from({ length: outFeatures }, (_, j) => x.reduce((sum, xi, i) => sum + xi * w[i * outFeatures + j]!, bias ? bias[j]! : 0));
}

const random = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(seed * 97.1 + i * 12.9898) * 1.5);

describe('MatVecArena', () => {
  it.each([
    [1, 1],
    [7, 5],
    [128, 384],
    [33, 47],
    [16, 16],
  ])('matVec and matVecTransposed give x·w (+ bias) for [%i] x [%i]', (inFeatures, outFeatures) => {
    const x = random(inFeatures, 1);
    const w = random(inFeatures * outFeatures, 2);
    const bias = random(outFeatures, 3);
    const transposed = Array.from({ length: inFeatures * outFeatures }, (_, n) => w[(n % inFeatures) * outFeatures + Math.floor(n / inFeatures)]!);
    const arena = new MatVecArena(MatVecArena.floatsFor([inFeatures, w.length, w.length, outFeatures, outFeatures]));
    const [xs, ws, wt, bs, out] = [
      arena.allocate(inFeatures, x),
      arena.allocate(w.length, w),
      arena.allocate(w.length, transposed),
      arena.allocate(outFeatures, bias),
      arena.allocate(outFeatures),
    ];
    for (const withBias of [false, true]) {
      const expected = reference(x, w, withBias ? bias : undefined, outFeatures);
      arena.matVec(xs, ws, withBias ? bs : undefined, out, inFeatures, outFeatures);
      for (const [j, value] of out.values.entries())
        expect(Math.abs(value - expected[j]!), `matVec ${j}`).toBeLessThan(1e-5 * Math.max(1, Math.abs(expected[j]!)) * Math.sqrt(inFeatures));
      out.values.fill(0);
      arena.matVecTransposed(xs, wt, withBias ? bs : undefined, out, inFeatures, outFeatures);
      for (const [j, value] of out.values.entries())
        expect(Math.abs(value - expected[j]!), `matVecTransposed ${j}`).toBeLessThan(1e-5 * Math.max(1, Math.abs(expected[j]!)) * Math.sqrt(inFeatures));
    }
  });

  it.each([
    [1, 1, 4, false],
    [5, 3, 5, true],
    [64, 4, 32, true],
  ])('attend gives softmax(q·kᵀ/√d + ALiBi)·v per head for %i positions, %i heads of %i', (length, heads, headDim, alibi) => {
    const channels = heads * headDim;
    const [q, keys, values] = [random(channels, 4), random(length * channels, 5), random(length * channels, 6)];
    const slopes = Array.from({ length: heads }, (_, h) => 2 ** -(h + 1));
    const arena = new MatVecArena(MatVecArena.floatsFor([channels, keys.length, values.length, heads, length, channels]));
    const out = arena.allocate(channels);
    arena.attend(
      arena.allocate(channels, q),
      arena.allocate(keys.length, keys),
      arena.allocate(values.length, values),
      alibi ? arena.allocate(heads, slopes) : undefined,
      arena.allocate(length),
      out,
      length,
      heads,
      headDim,
    );
    for (let h = 0; h < heads; h++) {
      const scores = Array.from({ length }, (_, j) => {
        let dot = 0;
        for (let d = 0; d < headDim; d++) dot += q[h * headDim + d]! * keys[j * channels + h * headDim + d]!;
        return dot / Math.sqrt(headDim) + (alibi ? slopes[h]! * (j - (length - 1)) : 0);
      });
      const max = Math.max(...scores);
      const weights = scores.map((s) => Math.exp(s - max));
      const sum = weights.reduce((a, b) => a + b, 0);
      for (let d = 0; d < headDim; d++) {
        const expected = weights.reduce((acc, w, j) => acc + (w / sum) * values[j * channels + h * headDim + d]!, 0);
        expect(Math.abs(out.values[h * headDim + d]! - expected), `head ${h}, dim ${d}`).toBeLessThan(1e-5);
      }
    }
  });

  it('refuses what does not fit, short arrays and arrays of another arena', () => {
    const arena = new MatVecArena(8);
    const x = arena.allocate(2);
    expect(() => arena.allocate(8)).toThrow(/do not fit/);
    const other = new MatVecArena(8).allocate(4);
    expect(() => arena.matVec(x, other, undefined, x, 2, 2)).toThrow(/another arena/);
    expect(() => arena.matVec(x, x, undefined, x, 2, 2)).toThrow(/too short/);
  });
});
