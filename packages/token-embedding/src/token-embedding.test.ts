import { ready, tf } from '@embedlab/runtime';
import { variableGradientCheck } from '@embedlab/runtime/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { TokenEmbedding } from './token-embedding.js';

function stats(values: ArrayLike<number>) {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  const mean = sum / values.length;
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += (values[i]! - mean) ** 2;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    min = Math.min(min, values[i]!);
    max = Math.max(max, values[i]!);
  }
  return { mean, std: Math.sqrt(squares / values.length), min, max };
}

const TABLE = [
  [1, 0, 0],
  [0, 2, 0],
  [0, 0, 3],
  [1, 1, 0],
];

describe.each(['wasm', 'cpu'] as const)('TokenEmbedding on %s', (backend) => {
  beforeAll(async () => {
    await ready({ backend });
  });

  it('maps ids [batch, seq] to rows [batch, seq, dim]', () => {
    const embedding = new TokenEmbedding({ vocabSize: 4, dim: 3, init: { kind: 'values', values: TABLE } });
    const out = embedding.apply([
      [3, 0],
      [2, 2],
    ]);
    expect(out.shape).toEqual([2, 2, 3]);
    expect(out.arraySync()).toEqual([
      [TABLE[3], TABLE[0]],
      [TABLE[2], TABLE[2]],
    ]);
    expect(embedding.apply(tf.tensor1d([1], 'int32')).arraySync()).toEqual([TABLE[1]]);
    expect(embedding.parameterCount).toBe(12);
  });

  it('initialises with the documented statistics', () => {
    const gpt2 = stats(new TokenEmbedding({ vocabSize: 1000, dim: 256, seed: 1 }).weight.dataSync());
    expect(Math.abs(gpt2.mean)).toBeLessThan(5e-4);
    expect(gpt2.std).toBeCloseTo(0.02, 3);
    const torch = stats(new TokenEmbedding({ vocabSize: 1000, dim: 256, init: { kind: 'normal', std: 1 }, seed: 2 }).weight.dataSync());
    expect(torch.std).toBeCloseTo(1, 1);
    const keras = stats(new TokenEmbedding({ vocabSize: 1000, dim: 256, init: { kind: 'uniform' }, seed: 3 }).weight.dataSync());
    expect(keras.min).toBeGreaterThanOrEqual(-0.05);
    expect(keras.max).toBeLessThanOrEqual(0.05);
    expect(keras.std).toBeCloseTo(0.1 / Math.sqrt(12), 3); // U(a, b) has std (b - a) / √12
    const xavier = stats(new TokenEmbedding({ vocabSize: 1000, dim: 200, init: { kind: 'xavier' }, seed: 4 }).weight.dataSync());
    const limit = Math.sqrt(6 / 1200);
    expect(xavier.max).toBeLessThanOrEqual(limit);
    expect(xavier.std).toBeCloseTo((2 * limit) / Math.sqrt(12), 3);
  });

  it('scales by √dim or a number', () => {
    const sqrt = new TokenEmbedding({ vocabSize: 4, dim: 3, scale: 'sqrt-dim', init: { kind: 'values', values: TABLE } });
    expect(sqrt.scale).toBeCloseTo(Math.sqrt(3));
    const row = Array.from(sqrt.apply([1]).dataSync());
    expect(row[1]).toBeCloseTo(2 * Math.sqrt(3), 5);
    const half = new TokenEmbedding({ vocabSize: 4, dim: 3, scale: 0.5, init: { kind: 'values', values: TABLE } });
    expect(Array.from(half.apply([2]).dataSync())).toEqual([0, 0, 1.5]);
  });

  it('sends gradient only to the rows used (scaled), summed over repeats', () => {
    const embedding = new TokenEmbedding({ vocabSize: 4, dim: 3, scale: 2, init: { kind: 'values', values: TABLE } });
    const ids = tf.tensor2d([[1, 3, 1]], [1, 3], 'int32');
    const { grads } = tf.variableGrads(() => tf.sum(embedding.apply(ids)) as tf.Scalar, [embedding.weight]);
    expect(grads[embedding.weight.name]!.arraySync()).toEqual([
      [0, 0, 0],
      [4, 4, 4],
      [0, 0, 0],
      [2, 2, 2],
    ]);
    const padded = new TokenEmbedding({ vocabSize: 4, dim: 3, scale: 'sqrt-dim', paddingId: 2, seed: 9 });
    const loss = () => tf.sum(tf.square(tf.sin(padded.apply([[1, 2, 1, 0]])))) as tf.Scalar;
    expect(variableGradientCheck(loss, [padded.weight]).maxError).toBeLessThan(1e-2);
  });

  it('keeps the padding row at zero and out of the gradient', () => {
    const embedding = new TokenEmbedding({ vocabSize: 4, dim: 3, paddingId: 0, seed: 5 });
    expect(Array.from(embedding.apply([0]).dataSync())).toEqual([0, 0, 0]);
    const { grads } = tf.variableGrads(() => tf.sum(embedding.apply([[0, 2, 0]])) as tf.Scalar, [embedding.weight]);
    expect(grads[embedding.weight.name]!.arraySync()).toEqual([
      [0, 0, 0],
      [0, 0, 0],
      [1, 1, 1],
      [0, 0, 0],
    ]);
  });

  it('names a bad id and where it is, and changes nothing', () => {
    const embedding = new TokenEmbedding({ vocabSize: 4, dim: 3, init: { kind: 'values', values: TABLE } });
    const before = tf.memory().numTensors;
    expect(() =>
      embedding.apply([
        [0, 1],
        [2, 4],
      ]),
    ).toThrow('TokenEmbedding.apply: id 4 at position [1, 1] is outside [0, 4)');
    expect(() => embedding.apply([0, -1])).toThrow('id -1 at position 1 is outside [0, 4)');
    expect(() => embedding.apply([0.5])).toThrow('id 0.5 at position 0 is not an integer');
    expect(() => embedding.apply(tf.tensor1d([1, 2]))).toThrow(/ids must be an int32 tensor, got float32/);
    expect(() => embedding.apply([[0, 1], [2]])).toThrow(/ids row 1 has 1 ids, but row 0 has 2/);
    expect(tf.memory().numTensors).toBe(before + 1); // only the float tensor this test made
    expect(() => embedding.setWeights([[1, 2, 3]])).toThrow('TokenEmbedding.setWeights: weights must have 4 rows, got 1');
    expect(embedding.weight.arraySync()).toEqual(TABLE);
  });

  it('refuses bad configuration, naming the field', () => {
    expect(() => new TokenEmbedding({ vocabSize: 0, dim: 3 })).toThrow('TokenEmbedding: vocabSize must be a positive integer, got 0');
    expect(() => new TokenEmbedding({ vocabSize: 4, dim: -1 })).toThrow('TokenEmbedding: dim must be a positive integer, got -1');
    expect(() => new TokenEmbedding({ vocabSize: 4, dim: 3, paddingId: 4 })).toThrow('paddingId must be an id in [0, 4), got 4');
    expect(() => new TokenEmbedding({ vocabSize: 4, dim: 3, init: { kind: 'values', values: [[1, 2]] } })).toThrow(/weights must have 4 rows/);
    expect(() => new TokenEmbedding({ vocabSize: 4, dim: 3, scale: 'sqrt' as 'sqrt-dim' })).toThrow(/scale must be/);
  });

  it('round-trips weights with getWeights / setWeights', () => {
    const a = new TokenEmbedding({ vocabSize: 4, dim: 3, seed: 6 });
    const b = new TokenEmbedding({ vocabSize: 4, dim: 3, seed: 7 });
    b.setWeights(a.getWeights());
    expect(b.weight.arraySync()).toEqual(a.weight.arraySync());
  });
});

describe('exploring a table', () => {
  beforeAll(async () => {
    await ready();
  });
  // Rows chosen so that the answers are known by hand.
  const words = ['king', 'queen', 'man', 'woman', 'apple'];
  const vectors = [
    [1, 1, 0.1],
    [1, -1, 0.1],
    [0.2, 1, 0],
    [0.2, -1, 0],
    [-1, 0, 5],
  ];
  const table = () => new TokenEmbedding({ vocabSize: 5, dim: 3, init: { kind: 'values', values: vectors } });

  it('finds nearest neighbours by cosine, dot and euclidean', () => {
    const embedding = table();
    expect(embedding.nearest(0, 1, 'cosine')[0]!.id).toBe(2); // king ~ man
    const cosKingMan = (1 * 0.2 + 1 * 1 + 0.01 * 0) / (Math.sqrt(2.01) * Math.sqrt(1.04));
    expect(embedding.nearest(0, 1)[0]!.score).toBeCloseTo(cosKingMan, 5);
    expect(embedding.nearest([0, 0, 1], 1, 'dot')).toEqual([{ id: 4, score: 5 }]);
    const euclid = embedding.nearest(1, 2, 'euclidean');
    expect(euclid[0]).toEqual({ id: 3, score: expect.closeTo(Math.sqrt(0.64 + 0.01), 5) });
    expect(euclid.map((n) => n.id)).not.toContain(1);
  });

  it('solves king - man + woman = queen', () => {
    const [first] = table().analogy(2, 0, 3, 1); // man : king :: woman : ?
    expect(words[first!.id]).toBe('queen');
  });

  it('projects onto the principal components', () => {
    // Points on a line along (3, 4, 0)/5 plus a small wiggle along z that is centred and
    // uncorrelated with the position on the line (symmetric under i -> 19 - i).
    const n = 20;
    const values = Array.from({ length: n }, (_, i) => [((i - 9.5) * 3) / 5, ((i - 9.5) * 4) / 5, Math.abs(i - 9.5) > 5 ? 0.1 : -0.1]);
    const embedding = new TokenEmbedding({ vocabSize: n, dim: 3, init: { kind: 'values', values } });
    const { points, explainedVariance } = embedding.project2d();
    // First coordinate = position along the line (the data are centred already).
    for (const [i, [x, y]] of points.entries()) {
      expect(Math.abs(x)).toBeCloseTo(Math.abs(i - 9.5), 3);
      expect(Math.abs(y)).toBeCloseTo(0.1, 3);
    }
    const total = values.reduce((s, [a, b, c]) => s + a! * a! + b! * b! + c! * c!, 0);
    expect(explainedVariance[0]).toBeCloseTo(values.reduce((s, _, i) => s + (i - 9.5) ** 2, 0) / total, 4);
    expect(explainedVariance[0] + explainedVariance[1]).toBeCloseTo(1, 4);
    expect(() => embedding.project2d([1])).toThrow(/at least 2 ids/);
  });
});
