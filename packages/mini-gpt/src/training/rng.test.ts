import { describe, expect, it } from 'vitest';
import { createRng } from './rng.js';

describe('createRng', () => {
  it('repeats a stream for the same seed and keys', () => {
    const draw = (rng: ReturnType<typeof createRng>) => Array.from({ length: 5 }, () => rng.int(1000));
    expect(draw(createRng(1, 2, 3))).toEqual(draw(createRng(1, 2, 3)));
    expect(draw(createRng(1, 2, 3))).not.toEqual(draw(createRng(1, 2, 4)));
  });

  it('gives unrelated first draws for neighbouring seeds', () => {
    const first = Array.from({ length: 50 }, (_, seed) => createRng(seed).float());
    // Neighbouring seeds must not start close together (xoroshiro seeded raw does).
    const close = first.slice(1).filter((x, i) => Math.abs(x - first[i]!) < 0.02).length;
    expect(close).toBeLessThan(5);
    expect(Math.min(...first)).toBeLessThan(0.2);
    expect(Math.max(...first)).toBeGreaterThan(0.8);
  });
});
