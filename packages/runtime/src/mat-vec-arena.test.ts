import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from './backend.js';
import { MatVecArena } from './mat-vec-arena.js';
import { tf } from './tf.js';

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
    [1, 1, 4, false, 0],
    [5, 3, 5, true, 0],
    [64, 4, 32, true, 0],
    [9, 2, 8, false, 40],
  ])(
    'attend gives softmax(q·kᵀ/√d + ALiBi)·v per head for %i positions, %i heads of %i (ALiBi %s, extra row stride %i)',
    (length, heads, headDim, alibi, extra) => {
      const channels = heads * headDim;
      const stride = channels + extra;
      // Scores that rise and fall along the sequence, so the running maximum is overtaken more than once.
      const q = random(channels, 4).map((v) => 3 * v);
      const [keys, values] = [random(length * stride, 5), random(length * stride, 6)];
      const slopes = Array.from({ length: heads }, (_, h) => 2 ** -(h + 1));
      const arena = new MatVecArena(MatVecArena.floatsFor([channels, keys.length, values.length, heads, channels]));
      const out = arena.allocate(channels);
      arena.attend(
        arena.allocate(channels, q),
        arena.allocate(keys.length, keys),
        arena.allocate(values.length, values),
        alibi ? arena.allocate(heads, slopes) : undefined,
        out,
        length,
        heads,
        headDim,
        stride,
      );
      for (let h = 0; h < heads; h++) {
        const scores = Array.from({ length }, (_, j) => {
          let dot = 0;
          for (let d = 0; d < headDim; d++) dot += q[h * headDim + d]! * keys[j * stride + h * headDim + d]!;
          return dot / Math.sqrt(headDim) + (alibi ? slopes[h]! * (j - (length - 1)) : 0);
        });
        const max = Math.max(...scores);
        const weights = scores.map((s) => Math.exp(s - max));
        const sum = weights.reduce((a, b) => a + b, 0);
        for (let d = 0; d < headDim; d++) {
          const expected = weights.reduce((acc, w, j) => acc + (w / sum) * values[j * stride + h * headDim + d]!, 0);
          expect(Math.abs(out.values[h * headDim + d]! - expected), `head ${h}, dim ${d}`).toBeLessThan(1e-5);
        }
      }
    },
  );

  it('matVec with accumulate adds the product to out (a residual connection)', () => {
    const [inFeatures, outFeatures] = [9, 21];
    const [x, w, bias, start] = [random(inFeatures, 7), random(inFeatures * outFeatures, 8), random(outFeatures, 9), random(outFeatures, 10)];
    const arena = new MatVecArena(MatVecArena.floatsFor([inFeatures, w.length, outFeatures, outFeatures]));
    const [xs, ws, bs, out] = [
      arena.allocate(inFeatures, x),
      arena.allocate(w.length, w),
      arena.allocate(outFeatures, bias),
      arena.allocate(outFeatures, start),
    ];
    arena.matVec(xs, ws, bs, out, inFeatures, outFeatures, true);
    const expected = reference(x, w, bias, outFeatures).map((v, j) => v + start[j]!);
    for (const [j, value] of out.values.entries()) expect(Math.abs(value - expected[j]!), `output ${j}`).toBeLessThan(1e-5);
  });

  it.each([7, 128])('layerNorm normalises %i floats, then scales and shifts', (width) => {
    const [x, weight, bias] = [random(width, 11).map((v) => v * 4 + 2), random(width, 12), random(width, 13)];
    const arena = new MatVecArena(MatVecArena.floatsFor([width, width, width, width]));
    const [xs, ws, bs, out] = [arena.allocate(width, x), arena.allocate(width, weight), arena.allocate(width, bias), arena.allocate(width)];
    const mean = x.reduce((a, b) => a + b, 0) / width;
    const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / width;
    for (const withBias of [true, false]) {
      arena.layerNorm(xs, ws, withBias ? bs : undefined, out, width, 1e-5);
      for (const [i, value] of out.values.entries()) {
        const expected = ((x[i]! - mean) / Math.sqrt(variance + 1e-5)) * weight[i]! + (withBias ? bias[i]! : 0);
        expect(Math.abs(value - expected), `${i}`).toBeLessThan(1e-5);
      }
    }
  });

  it("gelu is x·Φ(x) (exact) or GPT-2's tanh form, in place", () => {
    const x = random(11, 14).map((v) => 2.5 * v);
    const arena = new MatVecArena(MatVecArena.floatsFor([11, 11]));
    const [exact, tanh] = [arena.allocate(11, x), arena.allocate(11, x)];
    arena.gelu(exact, 11, 'exact');
    arena.gelu(tanh, 11, 'tanh');
    // Φ by the complementary error function's continued fraction would be overkill: erf from its Taylor series (|x| ≤ 4 here).
    const erf = (z: number) => {
      let [term, sum] = [z, z];
      for (let n = 1; n < 80; n++) {
        term *= (-z * z) / n;
        sum += term / (2 * n + 1);
      }
      return (2 / Math.sqrt(Math.PI)) * sum;
    };
    for (const [i, v] of x.entries()) {
      expect(Math.abs(exact.values[i]! - 0.5 * v * (1 + erf(v / Math.SQRT2))), `exact ${i}`).toBeLessThan(2e-6 * Math.max(1, Math.abs(v)));
      const tanhForm = 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
      expect(Math.abs(tanh.values[i]! - tanhForm), `tanh ${i}`).toBeLessThan(2e-6 * Math.max(1, Math.abs(v)));
    }
  });

  it.each(['half', 'interleaved'] as const)('rotary turns each pair of q and k by its angle (%s layout, 4 of 6 dimensions)', (layout) => {
    const [heads, headDim, rotaryDim] = [2, 6, 4];
    const qk = random(2 * heads * headDim, 15);
    const angles = [0.3, 1.7];
    const arena = new MatVecArena(MatVecArena.floatsFor([qk.length, 2, 2]));
    const rows = arena.allocate(qk.length, qk);
    arena.rotary(rows, arena.allocate(2, angles.map(Math.cos)), arena.allocate(2, angles.map(Math.sin)), heads, headDim, rotaryDim, layout);
    for (let r = 0; r < 2 * heads; r++) {
      const base = r * headDim;
      for (const [i, angle] of angles.entries()) {
        const [a, b] = layout === 'half' ? [base + i, base + i + 2] : [base + 2 * i, base + 2 * i + 1];
        expect(rows.values[a]).toBeCloseTo(qk[a]! * Math.cos(angle) - qk[b]! * Math.sin(angle), 6);
        expect(rows.values[b]).toBeCloseTo(qk[b]! * Math.cos(angle) + qk[a]! * Math.sin(angle), 6);
      }
      for (const d of [4, 5]) expect(rows.values[base + d]).toBe(Math.fround(qk[base + d]!));
    }
  });

  it('extend lengthens the last allocation in place, growing the memory and keeping the contents', () => {
    const arena = new MatVecArena(8);
    const first = arena.allocate(4, [1, 2, 3, 4]);
    const last = arena.allocate(4, [5, 6, 7, 8]);
    expect(() => arena.extend(first, 8)).toThrow(/only the last allocation/);
    const longer = arena.extend(last, 100_000);
    expect(arena.capacity).toBeGreaterThanOrEqual(100_008);
    expect([...longer.values.subarray(0, 5)]).toEqual([5, 6, 7, 8, 0]);
    expect([...first.values]).toEqual([1, 2, 3, 4]);
    expect(longer.subarray(2, 3).values[0]).toBe(7);
    expect(() => longer.subarray(99_999, 2)).toThrow(/outside an array/);
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

describe('MatVecArena on the wasm backend heap', () => {
  beforeAll(async () => {
    await ready({ backend: 'wasm' });
  });

  it('reads tensors in place: a product with a viewed weight equals the one with a copy, and the heap holds no copy', () => {
    const [inFeatures, outFeatures] = [33, 47];
    const weight = tf.tensor2d(random(inFeatures * outFeatures, 2), [inFeatures, outFeatures]);
    const copied = new MatVecArena(MatVecArena.floatsFor([inFeatures, weight.size, outFeatures]));
    const [x1, w1, out1] = [copied.allocate(inFeatures, random(inFeatures, 1)), copied.allocate(weight.size, weight.dataSync()), copied.allocate(outFeatures)];
    copied.matVec(x1, w1, undefined, out1, inFeatures, outFeatures);
    const heapBefore = tf.memory().numBytes;
    const arena = new MatVecArena(MatVecArena.floatsFor([inFeatures, outFeatures, inFeatures]), { onBackend: true });
    const [x2, out2] = [arena.allocate(inFeatures, random(inFeatures, 1)), arena.allocate(outFeatures)];
    const w2 = arena.view(weight);
    expect(w2.values).toEqual(weight.dataSync());
    arena.matVec(x2, w2, undefined, out2, inFeatures, outFeatures);
    expect([...out2.values]).toEqual([...out1.values]);
    // An arena's block is not a tensor: tfjs's count is unchanged.
    expect(tf.memory().numBytes).toBe(heapBefore);
    // LayerNorm's scratch is inside the arena's block.
    const normed = arena.allocate(inFeatures);
    arena.layerNorm(x2, x2, undefined, normed, inFeatures, 1e-5);
    expect(normed.values.every(Number.isFinite)).toBe(true);
    arena.dispose();
    weight.dispose();
  });

  it('extend moves a full last allocation to a larger block, keeping its contents; dispose frees both', () => {
    const arena = new MatVecArena(8, { onBackend: true });
    const first = arena.allocate(4, [1, 2, 3, 4]);
    const last = arena.allocate(4, [5, 6, 7, 8]);
    const longer = arena.extend(last, 50_000);
    expect(longer.offset).not.toBe(last.offset);
    expect([...longer.values.subarray(0, 5)]).toEqual([5, 6, 7, 8, 0]);
    expect(longer.values.subarray(4).every((v) => v === 0)).toBe(true);
    const again = arena.extend(longer, 60_000);
    expect([...again.values.subarray(0, 4)]).toEqual([5, 6, 7, 8]);
    expect([...first.values]).toEqual([1, 2, 3, 4]);
    arena.dispose();
    expect(() => arena.allocate(1)).toThrow('MatVecArena.allocate: the arena was disposed');
    expect(() => arena.gelu(first, 4, 'exact')).toThrow('MatVecArena.gelu: the arena was disposed');
  });

  it('views only live float32 tensors of the wasm backend, and only from an arena on its heap', () => {
    const arena = new MatVecArena(4, { onBackend: true });
    const ids = tf.tensor1d([1, 2], 'int32');
    const gone = tf.ones([2]);
    gone.dispose();
    expect(() => arena.view(ids)).toThrow('MatVecArena.view: the tensor must be a live float32 tensor on the wasm backend, got a int32 tensor');
    expect(() => arena.view(gone)).toThrow('got a disposed tensor');
    expect(() => new MatVecArena(4).view(tf.ones([2]))).toThrow('only an arena on the wasm backend (onBackend) can read tensors in place');
    arena.dispose();
    ids.dispose();
  });
});
