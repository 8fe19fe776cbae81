import { ready, tf } from '@embedlab/runtime';
import { expectClose } from '@embedlab/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { SinusoidalPositionalEncoding } from './sinusoidal.js';

/** "Attention Is All You Need" §3.5, written out here: PE(p, 2i) = sin(p / 10000^(2i/d)), PE(p, 2i+1) = cos(p / 10000^(2i/d)). */
function paperTable(length: number, d: number, offset = 0): number[] {
  const values: number[] = [];
  for (let p = offset; p < offset + length; p++) {
    for (let column = 0; column < d; column++) {
      const i = Math.floor(column / 2);
      const angle = p / 10000 ** ((2 * i) / d);
      values.push(column % 2 === 0 ? Math.sin(angle) : Math.cos(angle));
    }
  }
  return values;
}

/**
 * Hugging Face's and Keras's form of the same table, computed the other way round: inverse
 * frequencies exp(2i · (-ln 10000 / d)) (transformers' `create_sinusoidal_embeddings`,
 * `div_term`), sines in the even columns and cosines in the odd ones.
 */
function huggingFaceTable(length: number, d: number): number[] {
  const rows = Array.from({ length }, () => new Array<number>(d).fill(0));
  for (let p = 0; p < length; p++) {
    for (let even = 0; even < d; even += 2) {
      const divTerm = Math.exp(even * (-Math.log(10000) / d));
      rows[p]![even] = Math.sin(p * divTerm);
      if (even + 1 < d) rows[p]![even + 1] = Math.cos(p * divTerm);
    }
  }
  return rows.flat();
}

describe.each(['wasm', 'cpu'] as const)('SinusoidalPositionalEncoding on %s', (backend) => {
  beforeAll(async () => {
    await ready({ backend });
  });

  it("follows the paper's formula (interleaved)", () => {
    // PE(p, 2i) = sin(p / 10000^(2i/d)), PE(p, 2i+1) = cos(p / 10000^(2i/d)); d = 4.
    const pe = new SinusoidalPositionalEncoding({ dim: 4 });
    const rows = pe.apply(3).arraySync() as number[][];
    expectClose(rows[0]!, [0, 1, 0, 1], { tolerance: 1e-6, absolute: true });
    expectClose(rows[1]!, [0.8414709848078965, 0.5403023058681398, 0.009999833334166664, 0.9999500004166653], { tolerance: 1e-6, absolute: true });
    expectClose(rows[2]!, [0.9092974268256817, -0.4161468365471424, 0.01999866669333308, 0.9998000066665778], { tolerance: 1e-6, absolute: true });
    expectClose(pe.apply(1, { offset: 50 }).dataSync(), [Math.sin(50), Math.cos(50), Math.sin(0.5), Math.cos(0.5)], { tolerance: 1e-6, absolute: true });
  });

  it("follows tensor2tensor's concatenated layout, whose frequencies differ from the paper's", () => {
    // timescales exp(-i * ln(10000) / (d/2 - 1)) for d = 4: 1 and 1/10000 (the paper's are 1 and 1/100).
    const pe = new SinusoidalPositionalEncoding({ dim: 4, layout: 'concatenated' });
    expectClose(pe.apply(1, { offset: 3 }).dataSync(), [Math.sin(3), Math.sin(3e-4), Math.cos(3), Math.cos(3e-4)], { tolerance: 1e-6, absolute: true });
  });

  it('handles odd dimensions: a final sine column, or a zero column', () => {
    expectClose(
      new SinusoidalPositionalEncoding({ dim: 5 }).apply(1, { offset: 2 }).dataSync(),
      [Math.sin(2), Math.cos(2), Math.sin(2 / 10000 ** 0.4), Math.cos(2 / 10000 ** 0.4), Math.sin(2 / 10000 ** 0.8)],
      { tolerance: 1e-6, absolute: true },
    );
    const concatenated = new SinusoidalPositionalEncoding({ dim: 5, layout: 'concatenated' }).apply(1, { offset: 2 }).dataSync();
    expectClose(concatenated, [Math.sin(2), Math.sin(2e-4), Math.cos(2), Math.cos(2e-4), 0], { tolerance: 1e-6, absolute: true });
  });

  it('goes to any length and offset from a cached table', () => {
    const pe = new SinusoidalPositionalEncoding({ dim: 8 });
    const long = pe.apply(3, { offset: 5000 }).arraySync() as number[][];
    expectClose(long[2]!, paperTable(1, 8, 5002), { tolerance: 1e-4, absolute: true });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) pe.apply(10, { offset: i }).dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(pe.parameterCount).toBe(0);
    // The whole cached table and what apply() slices from it, against the formula computed here.
    expectClose(pe.table(6).dataSync(), paperTable(6, 8), { tolerance: 1e-6, absolute: true });
    expectClose(pe.apply(6).dataSync(), paperTable(6, 8), { tolerance: 1e-6, absolute: true });
    expectClose(pe.table(6).dataSync(), pe.apply(6).dataSync(), { tolerance: 0, absolute: true });
  });

  it("equals the paper's formula and Hugging Face's div_term form over a long table", () => {
    const pe = new SinusoidalPositionalEncoding({ dim: 16 });
    expectClose(pe.table(200).dataSync(), paperTable(200, 16), { tolerance: 1e-6, absolute: true });
    expectClose(pe.table(200).dataSync(), huggingFaceTable(200, 16), { tolerance: 1e-6, absolute: true });
    expectClose(pe.apply(7, { offset: 4093 }).dataSync(), paperTable(7, 16, 4093), { tolerance: 1e-4, absolute: true });
    expectClose(new SinusoidalPositionalEncoding({ dim: 7 }).table(40).dataSync(), huggingFaceTable(40, 7), { tolerance: 1e-6, absolute: true });
  });

  it('refuses bad input clearly', () => {
    const pe = new SinusoidalPositionalEncoding({ dim: 8 });
    expect(() => pe.apply(2.5)).toThrow('SinusoidalPositionalEncoding: the sequence length must be a positive integer, got 2.5');
    expect(() => pe.apply(2, { offset: -3 })).toThrow('offset must be a non-negative integer, got -3');
    expect(() => new SinusoidalPositionalEncoding({ dim: 0 })).toThrow('dim must be a positive integer, got 0');
    expect(() => new SinusoidalPositionalEncoding({ dim: 2, layout: 'concatenated' })).toThrow(/needs dim >= 4/);
  });
});
