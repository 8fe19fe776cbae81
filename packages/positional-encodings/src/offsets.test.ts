import { ready, tf } from '@embedlab/runtime';
import { maxDifference } from '@embedlab/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { ALiBi } from './alibi.js';
import { LearnedPositionalEmbedding } from './learned.js';
import { RotaryEmbedding } from './rope.js';
import { SinusoidalPositionalEncoding } from './sinusoidal.js';

// Far positions (cached decoding deep into a long context, or a hostile offset) must cost only
// the rows asked for: the caches stay bounded and the values still follow the formulas, written
// out here.

const FAR = 1e7;

/** "Attention Is All You Need" §3.5: PE(p, 2i) = sin(p / 10000^(2i/d)), PE(p, 2i+1) = cos(same). */
function paperRows(offset: number, length: number, d: number): number[] {
  const values: number[] = [];
  for (let p = offset; p < offset + length; p++) {
    for (let column = 0; column < d; column++) {
      const angle = p / 10000 ** ((2 * Math.floor(column / 2)) / d);
      values.push(column % 2 === 0 ? Math.sin(angle) : Math.cos(angle));
    }
  }
  return values;
}

/** RoPE, GPT-NeoX's `rotate_half` form: x * cos(pθ) + rotate_half(x) * sin(pθ), θ_i = 10000^(-2i/d). */
function ropeHalf(x: number[], position: number): number[] {
  const half = x.length / 2;
  const out = new Array<number>(x.length);
  for (let i = 0; i < half; i++) {
    const angle = position * 10000 ** ((-2 * i) / x.length);
    out[i] = x[i]! * Math.cos(angle) - x[i + half]! * Math.sin(angle);
    out[i + half] = x[i + half]! * Math.cos(angle) + x[i]! * Math.sin(angle);
  }
  return out;
}

const BAD_OFFSETS: [unknown, string][] = [
  [-1, 'offset must be a non-negative integer, got -1'],
  [1.5, 'offset must be a non-negative integer, got 1.5'],
  [Number.NaN, 'offset must be a non-negative integer, got NaN'],
  [Number.POSITIVE_INFINITY, 'offset must be a non-negative integer, got Infinity'],
  ['3', 'offset must be a non-negative integer, got "3"'],
  [2 ** 53, 'offset + sequence length must be at most Number.MAX_SAFE_INTEGER (9007199254740991), got offset 9007199254740992 and sequence length 2'],
];

describe.each(['wasm', 'cpu'] as const)('far offsets on %s', (backend) => {
  beforeAll(async () => {
    await ready({ backend });
  });

  it('sinusoidal: computes the rows past its bounded cache for the call only, by the formula', () => {
    const pe = new SinusoidalPositionalEncoding({ dim: 16 });
    expect(pe.cacheLength).toBe(4096);
    pe.apply(10).dispose();
    expect(pe.cachedLength).toBe(64);
    const far = pe.apply(4, { offset: FAR });
    expect(far.shape).toEqual([4, 16]);
    expect(maxDifference(far.dataSync(), paperRows(FAR, 4, 16))).toBeLessThan(1e-6);
    far.dispose();
    expect(pe.cachedLength).toBe(4096); // grown to its cap, not to 1e7 rows
    const bytes = tf.memory().numBytes;
    const further = pe.apply(3, { offset: 2 * FAR });
    expect(tf.memory().numBytes - bytes).toBe(3 * 16 * 4); // the result, and nothing else kept
    expect(maxDifference(further.dataSync(), paperRows(2 * FAR, 3, 16))).toBeLessThan(1e-6);
    expect(pe.cachedLength).toBe(4096);
    // A span across the cap is computed whole; the cache stays at its cap.
    expect(maxDifference(pe.apply(3, { offset: 4094 }).dataSync(), paperRows(4094, 3, 16))).toBeLessThan(1e-6);
    expect(pe.cachedLength).toBe(4096);
    pe.dispose();
    expect(pe.cachedLength).toBe(0);
  });

  it('sinusoidal: takes a cacheLength, 0 for no cache', () => {
    const none = new SinusoidalPositionalEncoding({ dim: 4, layout: 'concatenated', cacheLength: 0 });
    expect(
      maxDifference(none.apply(2, { offset: 7 }).dataSync(), [
        Math.sin(7),
        Math.sin(7e-4),
        Math.cos(7),
        Math.cos(7e-4),
        Math.sin(8),
        Math.sin(8e-4),
        Math.cos(8),
        Math.cos(8e-4),
      ]),
    ).toBeLessThan(1e-6);
    expect(none.cachedLength).toBe(0);
    const small = new SinusoidalPositionalEncoding({ dim: 8, cacheLength: 10 });
    small.apply(3).dispose();
    expect(small.cachedLength).toBe(10);
    expect(maxDifference(small.apply(6, { offset: 8 }).dataSync(), paperRows(8, 6, 8))).toBeLessThan(1e-6);
    expect(small.cachedLength).toBe(10);
    expect(() => new SinusoidalPositionalEncoding({ dim: 8, cacheLength: -1 })).toThrow(
      'SinusoidalPositionalEncoding: cacheLength must be a non-negative integer, got -1',
    );
    expect(() => new SinusoidalPositionalEncoding({ dim: 8, cacheLength: Number.POSITIVE_INFINITY })).toThrow(
      'cacheLength must be a non-negative integer, got Infinity',
    );
  });

  it('RoPE: rotates at a far position by the formula without growing its cos/sin cache', () => {
    const rope = new RotaryEmbedding({ headDim: 8 });
    const x = [0.3, -1.2, 0.7, 2, -0.4, 1.1, 0.05, -0.9];
    const near = rope.apply(tf.tensor4d(x, [1, 1, 1, 8]), { offset: 5 });
    expect(maxDifference(near.dataSync(), ropeHalf(x, 5))).toBeLessThan(1e-5);
    expect(rope.cachedLength).toBe(64);
    tf.dispose(Object.values(rope.cosSin(1, FAR)));
    expect(rope.cachedLength).toBe(4096); // grown to its cap, not to 1e7 positions
    const bytes = tf.memory().numBytes;
    const { cos, sin } = rope.cosSin(3, FAR);
    expect(tf.memory().numBytes - bytes).toBe(2 * 3 * 4 * 4); // the two [3, 4] tables asked for
    const angles = (p: number) => Array.from({ length: 4 }, (_, i) => p * 10000 ** ((-2 * i) / 8));
    expect(
      maxDifference(
        cos.dataSync(),
        [FAR, FAR + 1, FAR + 2].flatMap((p) => angles(p).map(Math.cos)),
      ),
    ).toBeLessThan(1e-6);
    expect(
      maxDifference(
        sin.dataSync(),
        [FAR, FAR + 1, FAR + 2].flatMap((p) => angles(p).map(Math.sin)),
      ),
    ).toBeLessThan(1e-6);
    const far = rope.apply(tf.tensor4d([...x, ...x], [1, 1, 2, 8]), { offset: FAR });
    expect(maxDifference(far.dataSync(), [...ropeHalf(x, FAR), ...ropeHalf(x, FAR + 1)])).toBeLessThan(1e-5);
    expect(rope.cachedLength).toBe(4096);
    const capped = new RotaryEmbedding({ headDim: 8, cacheLength: 100 });
    tf.dispose(Object.values(capped.cosSin(90)));
    expect(capped.cachedLength).toBe(90);
    tf.dispose(Object.values(capped.cosSin(5, 92)));
    expect(capped.cachedLength).toBe(100); // doubling stops at cacheLength
    expect(maxDifference(capped.apply(tf.tensor4d(x, [1, 1, 1, 8]), { offset: 100 }).dataSync(), ropeHalf(x, 100))).toBeLessThan(1e-5);
    expect(capped.cachedLength).toBe(100);
    expect(() => new RotaryEmbedding({ headDim: 8, cacheLength: 0.5 })).toThrow('RotaryEmbedding: cacheLength must be a non-negative integer, got 0.5');
  });

  it('RoPE with dynamic NTK: a cache grown past the original length keeps plain RoPE below it', () => {
    // Up to originalMaxPositions dynamic NTK is plain RoPE, whatever length the cache was grown to.
    const rope = new RotaryEmbedding({ headDim: 8, scaling: { type: 'dynamic', factor: 2, originalMaxPositions: 100 } });
    const x = [1, 0.5, -0.25, 2, 0.75, -1, 0.1, 0.3];
    tf.dispose(Object.values(rope.cosSin(60)));
    const at79 = rope.apply(tf.tensor4d(Array.from({ length: 20 }, () => x).flat(), [1, 1, 20, 8]), { offset: 60 });
    expect(rope.cachedLength).toBe(128);
    expect(maxDifference(Array.from(at79.dataSync()).slice(19 * 8), ropeHalf(x, 79))).toBeLessThan(1e-5);
  });

  it('ALiBi: biases a query at a far position by slope * (j - i), building nothing per position', () => {
    const alibi = new ALiBi({ heads: 2 });
    const bias = alibi.bias(2, 3, { offset: FAR });
    expect(bias.shape).toEqual([2, 2, 3]);
    const expected = [1 / 16, 1 / 256].flatMap((slope) => [FAR, FAR + 1].flatMap((i) => [0, 1, 2].map((j) => slope * (j - i))));
    expect(Array.from(bias.dataSync())).toEqual(expected); // exact: powers of two times integers below 2^24
  });

  it.each(BAD_OFFSETS)('refuses offset %s in every encoding, naming it', (offset, message) => {
    const options = { offset: offset as number };
    expect(() => new SinusoidalPositionalEncoding({ dim: 8 }).apply(2, options)).toThrow(`SinusoidalPositionalEncoding: ${message}`);
    expect(() => new RotaryEmbedding({ headDim: 8 }).apply(tf.zeros([1, 1, 2, 8]), options)).toThrow(`RotaryEmbedding: ${message}`);
    expect(() => new RotaryEmbedding({ headDim: 8 }).cosSin(2, offset as number)).toThrow(`RotaryEmbedding: ${message}`);
    expect(() => new ALiBi({ heads: 2 }).bias(2, 3, options)).toThrow(`ALiBi: ${message}`);
    expect(() => new LearnedPositionalEmbedding({ maxLength: 8, dim: 2 }).apply(2, options)).toThrow(`LearnedPositionalEmbedding: ${message}`);
  });

  it('refuses a bad length, naming it', () => {
    const pe = new SinusoidalPositionalEncoding({ dim: 8 });
    expect(() => pe.apply(Number.NaN)).toThrow('SinusoidalPositionalEncoding: the sequence length must be a positive integer, got NaN');
    expect(() => pe.apply(Number.POSITIVE_INFINITY)).toThrow('the sequence length must be a positive integer, got Infinity');
    expect(() => pe.table(0)).toThrow('the sequence length must be a positive integer, got 0');
    expect(() => new RotaryEmbedding({ headDim: 8 }).table(-2)).toThrow('RotaryEmbedding: the sequence length must be a positive integer, got -2');
    expect(() => new ALiBi({ heads: 2 }).bias(2, Number.NaN)).toThrow('ALiBi: keyLength must be a positive integer, got NaN');
  });
});
