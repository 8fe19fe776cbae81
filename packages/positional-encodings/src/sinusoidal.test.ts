import { ready, tf } from '@embedlab/runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { SinusoidalPositionalEncoding } from './sinusoidal.js';

function closeTo(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = 1e-6) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i]! - expected[i]!), `element ${i}`).toBeLessThanOrEqual(tolerance);
}

describe.each(['wasm', 'cpu'] as const)('SinusoidalPositionalEncoding on %s', (backend) => {
  beforeAll(async () => {
    await ready({ backend });
  });

  it("follows the paper's formula (interleaved)", () => {
    // PE(p, 2i) = sin(p / 10000^(2i/d)), PE(p, 2i+1) = cos(p / 10000^(2i/d)); d = 4.
    const pe = new SinusoidalPositionalEncoding({ dim: 4 });
    const rows = pe.apply(3).arraySync() as number[][];
    closeTo(rows[0]!, [0, 1, 0, 1]);
    closeTo(rows[1]!, [0.8414709848078965, 0.5403023058681398, 0.009999833334166664, 0.9999500004166653]);
    closeTo(rows[2]!, [0.9092974268256817, -0.4161468365471424, 0.019998666693333080, 0.9998000066665778]);
    closeTo(pe.apply(1, { offset: 50 }).dataSync(), [Math.sin(50), Math.cos(50), Math.sin(0.5), Math.cos(0.5)]);
  });

  it("follows tensor2tensor's concatenated layout, whose frequencies differ from the paper's", () => {
    // timescales exp(-i * ln(10000) / (d/2 - 1)) for d = 4: 1 and 1/10000 (the paper's are 1 and 1/100).
    const pe = new SinusoidalPositionalEncoding({ dim: 4, layout: 'concatenated' });
    closeTo(pe.apply(1, { offset: 3 }).dataSync(), [Math.sin(3), Math.sin(3e-4), Math.cos(3), Math.cos(3e-4)]);
  });

  it('handles odd dimensions: a final sine column, or a zero column', () => {
    closeTo(new SinusoidalPositionalEncoding({ dim: 5 }).apply(1, { offset: 2 }).dataSync(), [Math.sin(2), Math.cos(2), Math.sin(2 / 10000 ** 0.4), Math.cos(2 / 10000 ** 0.4), Math.sin(2 / 10000 ** 0.8)]);
    const concatenated = new SinusoidalPositionalEncoding({ dim: 5, layout: 'concatenated' }).apply(1, { offset: 2 }).dataSync();
    closeTo(concatenated, [Math.sin(2), Math.sin(2e-4), Math.cos(2), Math.cos(2e-4), 0]);
  });

  it('goes to any length and offset from a cached table', () => {
    const pe = new SinusoidalPositionalEncoding({ dim: 8 });
    const long = pe.apply(3, { offset: 5000 }).arraySync() as number[][];
    closeTo(long[2]!, Array.from({ length: 8 }, (_, c) => pe.value(5002, c)), 1e-4);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) pe.apply(10, { offset: i }).dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(pe.parameterCount).toBe(0);
    closeTo(pe.table(6).dataSync(), pe.apply(6).dataSync(), 0);
  });

  it('refuses bad input clearly', () => {
    const pe = new SinusoidalPositionalEncoding({ dim: 8 });
    expect(() => pe.apply(2.5)).toThrow('SinusoidalPositionalEncoding: the sequence length must be a positive integer, got 2.5');
    expect(() => pe.apply(2, { offset: -3 })).toThrow('offset must be a non-negative integer, got -3');
    expect(() => new SinusoidalPositionalEncoding({ dim: 0 })).toThrow('dim must be a positive integer, got 0');
    expect(() => new SinusoidalPositionalEncoding({ dim: 2, layout: 'concatenated' })).toThrow(/needs dim >= 4/);
  });
});
