import { fileURLToPath } from 'node:url';
import { ready, tf, type Variable } from '@embedlab/runtime';
import { maxDifference, runTorch } from '@embedlab/test-utils';
import { describe, expect, it } from 'vitest';
import { adamwUpdate } from '@embedlab/runtime';
import { AdamW, clipByGlobalNorm, UPDATE_GROUP_FLOATS, updateGroups } from './optimizer.js';
import { learningRateAt } from './schedule.js';

describe('AdamW', () => {
  it('takes the same steps as torch.optim.AdamW, decaying matrices only', async () => {
    await ready();
    const matrix = [
      [0.5, -1.0, 2.0],
      [0.1, 0.2, -0.3],
    ];
    const vector = [1.0, -2.0, 0.5];
    const grads = [0, 1, 2].map((s) => [matrix.map((row, i) => row.map((v, j) => Math.sin(v + s + i * j))), vector.map((v) => Math.cos(v * (s + 1)))]);
    const options = { lr: 0.01, betas: [0.9, 0.95], eps: 1e-8, weight_decay: 0.1 };
    const reference = runTorch<{ params: [number[][], number[]] }>(fileURLToPath(new URL('../fixtures/adamw_reference.py', import.meta.url)), {
      params: [matrix, vector],
      grads,
      decay: [true, false],
      ...options,
    });

    const weights = tf.variable(tf.tensor2d(matrix));
    const bias = tf.variable(tf.tensor1d(vector));
    const optimizer = new AdamW({ beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1 });
    for (const [g0, g1] of grads)
      optimizer.apply(
        new Map<Variable, tf.Tensor>([
          [weights, tf.tensor2d(g0 as number[][])],
          [bias, tf.tensor1d(g1 as number[])],
        ]),
        0.01,
      );
    // toBeCloseTo(x, 6) for every element: |a - b| < 0.5e-6.
    expect(maxDifference((weights.arraySync() as number[][]).flat(), reference.params[0].flat())).toBeLessThan(0.5e-6);
    expect(maxDifference(bias.arraySync() as number[], reference.params[1])).toBeLessThan(0.5e-6);
    expect(optimizer.step).toBe(3);
  });

  it('updates in groups of at most UPDATE_GROUP_FLOATS floats (a larger tensor alone), with the numbers of one kernel over all', async () => {
    await ready();
    const M = 2 ** 20;
    expect(UPDATE_GROUP_FLOATS).toBe(4 * M);
    expect(updateGroups([3 * M, 2 * M, 10 * M, M, M, 2 * M, 1])).toEqual([[0], [1], [2], [3, 4, 5], [6]]);
    expect(updateGroups([5, 7])).toEqual([[0, 1]]);
    expect(updateGroups([])).toEqual([]);
    // Three tensors of 3M floats: three kernel calls, against one call over all three.
    const sizes = [3 * M, 3 * M, 1000];
    const start = (i: number) => tf.randomNormal([sizes[i]!], 0, 1, 'float32', i + 1);
    const grads = sizes.map((size, i) => tf.randomNormal([size], 0, 1, 'float32', 10 + i));
    const grouped = sizes.map((_, i) => tf.variable(start(i)));
    const optimizer = new AdamW();
    optimizer.apply(new Map(grouped.map((variable, i) => [variable, grads[i]!])), 0.01, 0.5);
    const whole = sizes.map((_, i) => tf.variable(start(i)));
    const moments = { m: sizes.map((size) => tf.variable(tf.zeros([size]))), v: sizes.map((size) => tf.variable(tf.zeros([size]))) };
    adamwUpdate(whole, grads, moments, { learningRate: 0.01, beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1, step: 1, gradScale: 0.5 });
    for (const [i, variable] of grouped.entries()) expect(maxDifference(variable.dataSync(), whole[i]!.dataSync())).toBe(0);
    expect(maxDifference(grouped[0]!.dataSync(), start(0).dataSync())).toBeGreaterThan(0);
    tf.dispose([...grads, ...grouped, ...whole, ...moments.m, ...moments.v]);
    optimizer.dispose();
  });

  it('refuses out-of-range hyperparameters', () => {
    expect(() => new AdamW({ beta2: 1 })).toThrow('AdamW: beta2 must be a number in [0, 1), got 1');
    expect(() => new AdamW({ epsilon: 0 })).toThrow('AdamW: epsilon must be a positive number, got 0');
    expect(() => new AdamW({ lr: 1 } as never)).toThrow('AdamW: unknown key lr');
  });
});

describe('clipByGlobalNorm', () => {
  it('scales all gradients by max / norm when the norm is larger', () => {
    const a = tf.variable(tf.zeros([2]));
    const b = tf.variable(tf.zeros([1]));
    const grads = new Map<Variable, tf.Tensor>([
      [a, tf.tensor1d([3, 0])],
      [b, tf.tensor1d([4])],
    ]);
    expect(clipByGlobalNorm(grads, 1)).toBeCloseTo(5, 5);
    expect(grads.get(a)!.dataSync()[0]).toBeCloseTo(0.6, 5);
    expect(grads.get(b)!.dataSync()[0]).toBeCloseTo(0.8, 5);
    expect(clipByGlobalNorm(grads, 10)).toBeCloseTo(1, 4);
    expect(grads.get(b)!.dataSync()[0]).toBeCloseTo(0.8, 5);
  });
});

describe('learningRateAt', () => {
  const schedule = { learningRate: 1e-3, minLearningRate: 1e-4, warmupSteps: 10, decaySteps: 110 };
  it("follows nanoGPT's warmup, cosine decay and floor", () => {
    expect(learningRateAt(0, schedule)).toBeCloseTo(1e-3 / 11, 12);
    expect(learningRateAt(9, schedule)).toBeCloseTo(1e-3 * (10 / 11), 12);
    expect(learningRateAt(10, schedule)).toBeCloseTo(1e-3, 12);
    expect(learningRateAt(60, schedule)).toBeCloseTo(1e-4 + 0.5 * 9e-4, 12); // halfway: cos(π/2) = 0
    expect(learningRateAt(110, schedule)).toBeCloseTo(1e-4, 12);
    expect(learningRateAt(500, schedule)).toBe(1e-4);
  });
});
