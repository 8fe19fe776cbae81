import { describe, expect, it } from 'vitest';
import { createRng } from '../training/rng.js';
import { checkSamplingOptions, drawToken, nextTokenProbabilities } from './sample.js';

const logits = [Math.log(0.5), Math.log(0.25), Math.log(0.15), Math.log(0.1)];
const rounded = (p: Float64Array) => Array.from(p, (v) => Math.round(v * 1e6) / 1e6);

describe('nextTokenProbabilities', () => {
  it('is the softmax at temperature 1 and sharpens or flattens with temperature', () => {
    expect(rounded(nextTokenProbabilities(logits))).toEqual([0.5, 0.25, 0.15, 0.1]);
    // T = 0.5 squares the probabilities before renormalising.
    const squares = [0.25, 0.0625, 0.0225, 0.01];
    const total = squares.reduce((a, b) => a + b);
    expect(rounded(nextTokenProbabilities(logits, { temperature: 0.5 }))).toEqual(rounded(Float64Array.from(squares, (s) => s / total)));
    expect(Array.from(nextTokenProbabilities(logits, { temperature: 0 }))).toEqual([1, 0, 0, 0]);
  });

  it('keeps the top k, the nucleus of mass p, and tokens above minP of the best', () => {
    expect(rounded(nextTokenProbabilities(logits, { topK: 2 }))).toEqual([0.666667, 0.333333, 0, 0]);
    expect(rounded(nextTokenProbabilities(logits, { topP: 0.7 }))).toEqual([0.666667, 0.333333, 0, 0]);
    expect(rounded(nextTokenProbabilities(logits, { topP: 0.9 }))).toEqual([0.555556, 0.277778, 0.166667, 0]);
    expect(rounded(nextTokenProbabilities(logits, { minP: 0.35 }))).toEqual([0.666667, 0.333333, 0, 0]); // floor 0.175
    expect(rounded(nextTokenProbabilities(logits, { minP: 0.25 }))).toEqual([0.555556, 0.277778, 0.166667, 0]); // floor 0.125
  });

  it('gives float32 logits (sorted as numbers) exactly the distribution of a comparator sort, ties and zeros included', () => {
    const rng = createRng(11);
    for (let trial = 0; trial < 20; trial++) {
      // Few distinct values, so many ties; both zeros; both signs; magnitudes from 1e-30 to 1e30.
      const values = [0, -0, 1, -1, 2.5, -2.5, 1e-30, -1e30, 1e30, 3.75, -0.125];
      const logits = Float32Array.from({ length: 3000 }, () => values[rng.int(values.length)]! * (rng.float() < 0.5 ? 1 : 1 + rng.int(4)));
      for (const options of [{}, { topK: 40 }, { topK: 1 }, { topP: 0.9, temperature: 0.7 }, { minP: 0.1 }]) {
        const fast = nextTokenProbabilities(logits, options);
        const reference = nextTokenProbabilities(Array.from(logits), options);
        expect(Array.from(fast)).toEqual(Array.from(reference));
      }
    }
    // -0 and +0 tie, so the lower ids are kept.
    expect(Array.from(nextTokenProbabilities(Float32Array.from([-1, 0, -0, 0, -0]), { topK: 2 }))).toEqual([0, 0.5, 0.5, 0, 0]);
  });

  it('refuses bad options', () => {
    expect(() => checkSamplingOptions({ topP: 0 })).toThrow('sampling: topP must be in (0, 1], got 0');
    expect(() => checkSamplingOptions({ temperature: -1 })).toThrow('temperature must be a number >= 0, got -1');
    expect(() => checkSamplingOptions({ topK: 1.5 })).toThrow('topK must be a positive integer, got 1.5');
  });
});

describe('drawToken', () => {
  it('draws each id about as often as its probability', () => {
    const rng = createRng(3);
    const counts = [0, 0, 0, 0];
    const probabilities = Float64Array.from([0.5, 0.25, 0.15, 0.1]);
    for (let i = 0; i < 20000; i++) counts[drawToken(probabilities, rng)]!++;
    counts.forEach((c, i) => {
      expect(Math.abs(c / 20000 - probabilities[i]!)).toBeLessThan(0.015);
    });
  });
});
