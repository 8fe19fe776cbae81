import { ready, tf } from '@embedlab/runtime';
import { variableGradientCheck } from '@embedlab/runtime/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { LearnedPositionalEmbedding } from './learned.js';

describe.each(['wasm', 'cpu'] as const)('LearnedPositionalEmbedding on %s', (backend) => {
  beforeAll(async () => {
    await ready({ backend });
  });
  const values = Array.from({ length: 6 }, (_, p) => [p, 10 * p]);

  it('returns the rows of the positions asked for, from an offset', () => {
    const wpe = new LearnedPositionalEmbedding({ maxLength: 6, dim: 2, init: { kind: 'values', values } });
    expect(wpe.apply(3).arraySync()).toEqual(values.slice(0, 3));
    expect(wpe.apply(2, { offset: 4 }).arraySync()).toEqual(values.slice(4, 6));
    expect(wpe.parameterCount).toBe(12);
  });

  it('trains only the rows it used', () => {
    const wpe = new LearnedPositionalEmbedding({ maxLength: 6, dim: 2, init: { kind: 'values', values } });
    const { grads } = tf.variableGrads(
      () =>
        tf.sum(
          tf.mul(
            wpe.apply(2, { offset: 3 }),
            tf.tensor2d([
              [1, 2],
              [3, 4],
            ]),
          ),
        ) as tf.Scalar,
      [wpe.weight],
    );
    expect(grads[wpe.weight.name]!.arraySync()).toEqual([
      [0, 0],
      [0, 0],
      [0, 0],
      [1, 2],
      [3, 4],
      [0, 0],
    ]);
    const loss = () => tf.sum(tf.square(tf.sin(wpe.apply(3, { offset: 1 })))) as tf.Scalar;
    expect(variableGradientCheck(loss, [wpe.weight]).maxError).toBeLessThan(1e-2);
  });

  it('initialises N(0, 0.02²) by default', () => {
    const values = Array.from(new LearnedPositionalEmbedding({ maxLength: 1024, dim: 128, seed: 3 }).weight.dataSync());
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
    expect(std).toBeCloseTo(0.02, 3);
  });

  it('cannot extrapolate: a longer sequence is an error naming both numbers', () => {
    const wpe = new LearnedPositionalEmbedding({ maxLength: 6, dim: 2 });
    expect(() => wpe.apply(7)).toThrow('positions 0..6 do not fit a table of maxLength 6 (sequence length 7, offset 0); learned positions cannot extrapolate');
    expect(() => wpe.apply(2, { offset: 5 })).toThrow('positions 5..6 do not fit a table of maxLength 6');
    expect(() => new LearnedPositionalEmbedding({ maxLength: 0, dim: 2 })).toThrow('maxLength must be a positive integer, got 0');
  });
});
