import { describe, expect, it } from 'vitest';
import { validateTrainOptions, withTrainDefaults } from './train-options.js';

const base = { steps: 10, batchSize: 4, learningRate: 1e-3 };

describe('validateTrainOptions', () => {
  it('accepts a full recipe and leaves undefined fields to the defaults', () => {
    const options = { ...base, minLearningRate: 1e-4, warmupSteps: 20, decaySteps: 10, weightDecay: 0, beta1: 0, beta2: 0.999, gradClip: 0 };
    expect(validateTrainOptions(options)).toBe(options);
    // Options spread from a partial object may hold undefined where a field is optional.
    expect(() => validateTrainOptions({ ...base, beta1: undefined, evalBatches: undefined } as unknown as typeof base)).not.toThrow();
  });

  it.each([
    [{ steps: 0 }, 'train: steps must be an integer >= 1, got 0'],
    [{ batchSize: 2.5 }, 'train: batchSize must be an integer >= 1, got 2.5'],
    [{ learningRate: -1 }, 'train: learningRate must be a non-negative number, got -1'],
    [{ learningRate: Number.NaN }, 'train: learningRate must be a non-negative number, got NaN'],
    [{ minLearningRate: 0.01 }, 'train: minLearningRate must be a number in [0, learningRate = 0.001], got 0.01'],
    [{ warmupSteps: -1 }, 'train: warmupSteps must be an integer >= 0, got -1'],
    [{ decaySteps: 0 }, 'train: decaySteps must be an integer >= 1, got 0'],
    [{ weightDecay: -0.1 }, 'train: weightDecay must be a non-negative number, got -0.1'],
    [{ beta1: 1 }, 'train: beta1 must be a number in [0, 1), got 1'],
    [{ beta2: -0.5 }, 'train: beta2 must be a number in [0, 1), got -0.5'],
    [{ gradClip: -1 }, 'train: gradClip must be a non-negative number (0 disables clipping), got -1'],
    [{ gradientAccumulation: 0 }, 'train: gradientAccumulation must be an integer >= 1, got 0'],
    [{ evalInterval: 1.5 }, 'train: evalInterval must be an integer >= 1, got 1.5'],
    [{ evalBatches: 0 }, 'train: evalBatches must be an integer >= 1, got 0'],
    [{ seed: -3 }, 'train: seed must be an integer >= 0, got -3'],
    [{ startStep: -1 }, 'train: startStep must be an integer >= 0, got -1'],
    [{ steps: '10' }, 'train: steps must be an integer >= 1, got "10"'],
  ])('names the field, the value and the rule: %o', (bad, message) => {
    expect(() => validateTrainOptions({ ...base, ...bad } as typeof base)).toThrow(message);
  });
});

describe('withTrainDefaults', () => {
  it("fills in train()'s defaults: nanoGPT's betas, clipping at 1, the floor a tenth of the peak, decay over the run", () => {
    expect(withTrainDefaults({ ...base, warmupSteps: undefined, beta2: 0.99 } as unknown as typeof base)).toEqual({
      ...base,
      minLearningRate: 1e-4,
      warmupSteps: 0,
      decaySteps: 10,
      weightDecay: 0.1,
      beta1: 0.9,
      beta2: 0.99,
      gradClip: 1,
      gradientAccumulation: 1,
      evalInterval: 100,
      evalBatches: 10,
      seed: 1337,
    });
  });
});
