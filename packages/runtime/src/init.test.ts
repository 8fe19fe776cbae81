import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from './backend.js';
import { GPT2_INIT, initialTable, tableFromValues } from './init.js';
import { tf } from './tf.js';

function stats(values: ArrayLike<number>) {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  const mean = sum / values.length;
  let squares = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    squares += (values[i]! - mean) ** 2;
    min = Math.min(min, values[i]!);
    max = Math.max(max, values[i]!);
  }
  return { mean, std: Math.sqrt(squares / values.length), min, max };
}

describe.each(['wasm', 'cpu'] as const)('table initialisation on %s', (backend) => {
  beforeAll(async () => {
    await ready({ backend });
  });

  it('draws each kind with the documented statistics', () => {
    const gpt2 = initialTable('test', 1000, 256, GPT2_INIT, 1);
    expect(gpt2.shape).toEqual([1000, 256]);
    expect(gpt2.dtype).toBe('float32');
    const g = stats(gpt2.dataSync());
    expect(Math.abs(g.mean)).toBeLessThan(5e-4);
    expect(g.std).toBeCloseTo(0.02, 3);
    const torch = stats(initialTable('test', 1000, 256, { kind: 'normal', std: 1, mean: 3 }, 2).dataSync());
    expect(torch.mean).toBeCloseTo(3, 1);
    expect(torch.std).toBeCloseTo(1, 1);
    const keras = stats(initialTable('test', 1000, 256, { kind: 'uniform' }, 3).dataSync());
    expect(keras.min).toBeGreaterThanOrEqual(-0.05);
    expect(keras.max).toBeLessThanOrEqual(0.05);
    expect(keras.std).toBeCloseTo(0.1 / Math.sqrt(12), 3); // U(a, b) has std (b - a) / √12
    const xavier = stats(initialTable('test', 1000, 200, { kind: 'xavier' }, 4).dataSync());
    const limit = Math.sqrt(6 / 1200);
    expect(xavier.max).toBeLessThanOrEqual(limit);
    expect(xavier.min).toBeGreaterThanOrEqual(-limit);
    expect(xavier.std).toBeCloseTo((2 * limit) / Math.sqrt(12), 3);
    expect(Array.from(initialTable('test', 2, 3, { kind: 'zeros' }).dataSync())).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('is reproducible with a seed', () => {
    const a = initialTable('test', 4, 3, GPT2_INIT, 7).arraySync();
    expect(initialTable('test', 4, 3, GPT2_INIT, 7).arraySync()).toEqual(a);
    expect(initialTable('test', 4, 3, GPT2_INIT, 8).arraySync()).not.toEqual(a);
  });

  it('takes given values as a tensor, nested or flat array, checking the shape', () => {
    const nested = [
      [1, 2, 3],
      [4, 5, 6],
    ];
    expect(initialTable('test', 2, 3, { kind: 'values', values: nested }).arraySync()).toEqual(nested);
    expect(tableFromValues('test', 2, 3, [1, 2, 3, 4, 5, 6]).arraySync()).toEqual(nested);
    expect(tableFromValues('test', 2, 3, Float32Array.from([1, 2, 3, 4, 5, 6])).arraySync()).toEqual(nested);
    const ints = tableFromValues('test', 2, 3, tf.tensor2d(nested, [2, 3], 'int32'));
    expect(ints.dtype).toBe('float32');
    expect(ints.arraySync()).toEqual(nested);
    expect(() => tableFromValues('Owner.set', 2, 3, tf.zeros([3, 2]))).toThrow('Owner.set: weights must have shape [2, 3], got [3,2]');
    expect(() => tableFromValues('Owner.set', 2, 3, [[1, 2, 3]])).toThrow('Owner.set: weights must have 2 rows, got 1');
    expect(() =>
      tableFromValues('Owner.set', 2, 3, [
        [1, 2, 3],
        [4, 5],
      ]),
    ).toThrow('Owner.set: weights row 1 must have 3 values, got 2');
    expect(() => tableFromValues('Owner.set', 2, 3, [1, 2, 3])).toThrow('Owner.set: weights must have 2 x 3 = 6 values, got 3');
  });

  it('refuses a bad init, naming the owner and the field', () => {
    expect(() => initialTable('Owner', 2, 3, { kind: 'normal', std: 0 })).toThrow('Owner: init.std must be a positive number, got 0');
    expect(() => initialTable('Owner', 2, 3, { kind: 'uniform', min: 1, max: 1 })).toThrow('Owner: init.min (1) must be below init.max (1)');
    expect(() => initialTable('Owner', 2, 3, { kind: 'ones' } as never)).toThrow('Owner: unknown init kind "ones"');
  });
});
