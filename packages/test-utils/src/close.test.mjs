import { describe, expect, it } from 'vitest';
import { expectClose, maxDifference, maxRelativeDifference } from './close.mjs';
import { median, medianMs, timeRuns } from './timing.mjs';

const tensor = (shape, values) => ({ shape, dataSync: () => Float32Array.from(values) });

describe('expectClose', () => {
  it('passes within tolerance: relative above 1, absolute below', () => {
    expectClose([1, 100, -0.5], [1.00005, 100.009, -0.50009]);
    expectClose([0.5], [0.5000009], { tolerance: 1e-6, absolute: true });
    expectClose(tensor([1, 2], [1, 2]), tensor([1, 2], [1, 2]), { tolerance: 0 });
  });

  it('fails for one element out of tolerance, naming it, and for NaN', () => {
    expect(() => expectClose([1, 2, 3], [1, 2, 3.001])).toThrow(/element 2: 3 against 3.001/);
    expect(() => expectClose([100], [100.02], { tolerance: 1e-4 })).toThrow(/element 0/);
    expect(() => expectClose([2.5], [2.5000025], { tolerance: 1e-6, absolute: true })).toThrow(/element 0/);
    expect(() => expectClose([Number.NaN], [0])).toThrow(/element 0/);
  });

  it('fails for a different length or shape', () => {
    expect(() => expectClose([1, 2], [1, 2, 3])).toThrow(/length/);
    expect(() => expectClose(tensor([2, 1], [1, 2]), tensor([1, 2], [1, 2]))).toThrow(/shape/);
  });
});

describe('maxDifference and maxRelativeDifference', () => {
  it('give the worst absolute and scaled differences, and refuse different lengths', () => {
    expect(maxDifference([1, 2, 3], [1, 2.5, 2])).toBe(1);
    expect(maxRelativeDifference([10, 0.5], [20, 0.25])).toBe(0.5);
    expect(maxDifference([Number.NaN], [1])).toBeNaN();
    expect(() => maxDifference([1], [1, 2])).toThrow('maxDifference: lengths differ, 1 and 2');
  });
});

describe('timing', () => {
  it('takes the middle of sorted values, and times every run after warm-up', async () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(3);
    expect(() => median([])).toThrow('no values');
    let calls = 0;
    const times = await timeRuns(() => calls++, { runs: 4, warmup: 2 });
    expect(times).toHaveLength(4);
    expect(calls).toBe(6);
    calls = 0;
    expect(medianMs(() => calls++, 3)).toBeGreaterThanOrEqual(0);
    expect(calls).toBe(4);
  });
});
