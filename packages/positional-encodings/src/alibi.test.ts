import { ready } from '@embedlab/runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { ALiBi, alibiSlopes } from './alibi.js';

describe('ALiBi', () => {
  beforeAll(async () => {
    await ready();
  });

  it("uses the paper's slopes: 1/2 ... 1/256 for 8 heads", () => {
    expect(alibiSlopes(8)).toEqual([1 / 2, 1 / 4, 1 / 8, 1 / 16, 1 / 32, 1 / 64, 1 / 128, 1 / 256]);
    expect(alibiSlopes(4)).toEqual([1 / 4, 1 / 16, 1 / 64, 1 / 256]);
  });

  it("extends to other head counts by the paper's rule", () => {
    // 6 heads: the 4-head slopes, then every other slope of 8 heads (1/2, 1/8).
    expect(alibiSlopes(6)).toEqual([1 / 4, 1 / 16, 1 / 64, 1 / 256, 1 / 2, 1 / 8]);
    expect(alibiSlopes(1)).toEqual([1 / 256]);
  });

  it('biases query i against key j by slope * (j - i)', () => {
    const alibi = new ALiBi({ heads: 2 });
    const bias = alibi.bias(2, 3, { offset: 1 }).arraySync() as number[][][];
    // Two heads: slopes 2^(-8/2) = 1/16 and 1/256.
    expect(alibi.slopes).toEqual([1 / 16, 1 / 256]);
    expect(bias[0]).toEqual([
      [-1 / 16, 0, 1 / 16],
      [-2 / 16, -1 / 16, 0],
    ]);
    expect(alibi.table(3).arraySync()).toEqual([
      [-0, -1 / 16, -2 / 16],
      [-0, -1 / 256, -2 / 256],
    ]);
    expect(alibi.kind).toBe('attention-bias');
    expect(alibi.parameterCount).toBe(0);
  });

  it('refuses bad sizes', () => {
    expect(() => new ALiBi({ heads: 0 })).toThrow('ALiBi: heads must be a positive integer, got 0');
    expect(() => new ALiBi({ heads: 2 }).bias(2, 0)).toThrow('keyLength must be a positive integer, got 0');
  });
});
