import { ready } from '@embedlab/runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { TokenDataset } from '../data/data.js';
import { createModel } from '../model/model.js';
import { train } from './train.js';
import { validateTrainOptions } from './train-options.js';

const base = { steps: 10, batchSize: 4, learningRate: 1e-3 };

describe('validateTrainOptions', () => {
  it.each([
    [{ steps: 0 }, 'train: steps must be a positive integer, got 0'],
    [{ batchSize: 2.5 }, 'train: batchSize must be a positive integer, got 2.5'],
    [{ learningRate: -1 }, 'train: learningRate must be a non-negative number, got -1'],
    [{ learningRate: Number.NaN }, 'train: learningRate must be a non-negative number, got NaN'],
    [{ minLearningRate: 0.01 }, 'train: minLearningRate must be a number in [0, learningRate = 0.001], got 0.01'],
    [{ warmupSteps: -1 }, 'train: warmupSteps must be an integer >= 0, got -1'],
    [{ decaySteps: 0 }, 'train: decaySteps must be a positive integer, got 0'],
    [{ weightDecay: -0.1 }, 'train: weightDecay must be a non-negative number, got -0.1'],
    [{ beta1: 1 }, 'train: beta1 must be a number in [0, 1), got 1'],
    [{ beta2: -0.5 }, 'train: beta2 must be a number in [0, 1), got -0.5'],
    [{ gradClip: -1 }, 'train: gradClip must be a non-negative number (0 disables clipping), got -1'],
    [{ gradientAccumulation: 0 }, 'train: gradientAccumulation must be a positive integer, got 0'],
    [{ evalInterval: 1.5 }, 'train: evalInterval must be a positive integer, got 1.5'],
    [{ evalBatches: 0 }, 'train: evalBatches must be a positive integer, got 0'],
    [{ seed: -3 }, 'train: seed must be an integer >= 0, got -3'],
    [{ steps: '10' }, 'train: steps must be a positive integer, got "10"'],
    [{ learningrate: 1 }, 'train: unknown key learningrate'],
  ])('names the field, the value and the rule: %o', (bad, message) => {
    expect(() => validateTrainOptions({ ...base, ...bad } as typeof base)).toThrow(message);
  });
});

describe("train's options", { timeout: 60_000 }, () => {
  beforeAll(async () => {
    await ready();
  });

  const dataset = new TokenDataset(Array.from({ length: 400 }, (_, i) => (i * 7) % 11));
  const config = { vocabSize: 11, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8 };

  it("runs on steps and batchSize alone, with nanoGPT's schedule: a 6e-4 peak decaying to a tenth over the run", async () => {
    const model = createModel(config, 2);
    const rates: number[] = [];
    const result = await train(model, dataset, { steps: 4, batchSize: 2 }, { onStep: (event) => void rates.push(event.learningRate) });
    expect(result.stoppedBy).toBe('done');
    // nanoGPT's get_lr with warmup 0, lr_decay_iters = max_iters = 4, min_lr = learning_rate / 10.
    const expected = [0, 1, 2, 3].map((step) => 6e-5 + 0.5 * (1 + Math.cos((Math.PI * step) / 4)) * (6e-4 - 6e-5));
    for (const [step, rate] of rates.entries()) expect(rate).toBeCloseTo(expected[step]!, 12);
    model.dispose();
  });

  it('takes an undefined field as one not given (it made the learning rate NaN, or threw)', async () => {
    const model = createModel(config, 3);
    const losses: number[] = [];
    const result = await train(
      model,
      dataset,
      { steps: 3, batchSize: 2, decaySteps: undefined, evalBatches: undefined, minLearningRate: undefined },
      {
        onStep: (event) => void losses.push(event.loss),
      },
    );
    expect(result.stoppedBy).toBe('done');
    expect(losses.every(Number.isFinite)).toBe(true);
    await expect(train(model, dataset, { ...base, startStep: -1 })).rejects.toThrow('train: startStep must be an integer >= 0, got -1');
    model.dispose();
  });
});
