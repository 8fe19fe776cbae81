import { ready, tf } from '@embedlab/runtime';
import { CharTokenizer } from '@embedlab/tokenizer';
import { tinyGPTConfig } from '@embedlab/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { PRESETS } from '../model/config.js';
import { namesCorpus } from '../data/corpus.js';
import { TokenDataset } from '../data/data.js';
import { createModel } from '../model/model.js';
import { train } from './train.js';

const corpus = namesCorpus();
const tokenizer = CharTokenizer.fromCorpus(corpus);
const dataset = new TokenDataset(tokenizer.encode(corpus));
const trainIds = dataset.train as Int32Array;
const validationIds = dataset.validation as Int32Array;

/** Cross-entropy of predicting each validation character by its training frequency (nats). */
function unigramBaseline(): number {
  const counts = new Map<number, number>();
  for (const id of trainIds) counts.set(id, (counts.get(id) ?? 0) + 1);
  let total = 0;
  for (const id of validationIds) total -= Math.log((counts.get(id) ?? 0.5) / trainIds.length);
  return total / validationIds.length;
}

describe('train', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    await ready();
  });

  it('takes the names preset well below the unigram baseline', async () => {
    const model = createModel({ ...PRESETS.names.model, vocabSize: tokenizer.vocabSize }, 1);
    const { training } = PRESETS.names;
    const evals: number[] = [];
    const result = await train(
      model,
      dataset,
      { ...training, steps: 300, evalInterval: 150, evalBatches: 20 },
      { onEval: (e) => void evals.push(e.validationLoss) },
    );
    const baseline = unigramBaseline();
    expect(result.stoppedBy).toBe('done');
    expect(evals).toHaveLength(2);
    // The bigram structure of names alone is worth ~0.5 nats over the unigram (~2.9).
    expect(result.lastEval!.validationLoss).toBeLessThan(baseline - 0.5);
    model.dispose();
  });

  const small = tinyGPTConfig(tokenizer.vocabSize, { dropout: 0.1 });
  const options = { steps: 12, batchSize: 4, learningRate: 1e-2, warmupSteps: 2, evalInterval: 100, gradientAccumulation: 2 };

  it('repeats the same loss curve for the same seed (dropout and accumulation included)', async () => {
    const curve = async (seed: number) => {
      const model = createModel(small, 7);
      const losses: number[] = [];
      await train(model, dataset, { ...options, seed }, { onStep: (e) => void losses.push(e.loss) });
      model.dispose();
      return losses;
    };
    const first = await curve(1);
    expect(await curve(1)).toEqual(first);
    expect(await curve(2)).not.toEqual(first);
    expect(first.at(-1)!).toBeLessThan(first[0]!);
  });

  it('resumes exactly: N steps equal N/2, then N/2 more with the same optimizer', async () => {
    const straight = createModel(small, 8);
    const whole = await train(straight, dataset, options);
    const resumed = createModel(small, 8);
    // The first half stops at 6 on the whole run's schedule (decaySteps 12), as a saved run would.
    const firstHalf = await train(resumed, dataset, { ...options, steps: 6, decaySteps: 12 });
    const secondHalf = await train(resumed, dataset, { ...options, startStep: firstHalf.step, optimizer: firstHalf.optimizer });
    expect(secondHalf.step).toBe(12);
    expect(secondHalf.lastLoss).toBe(whole.lastLoss);
  });

  it('leaks no tensors over 1,000 steps', async () => {
    const model = createModel({ ...small, nEmbd: 8, blockSize: 4 }, 9);
    const counts: number[] = [];
    await train(
      model,
      dataset,
      { steps: 1000, batchSize: 2, learningRate: 1e-3, evalInterval: 250, evalBatches: 1 },
      { onStep: (e) => void (e.step % 100 === 99 && counts.push(tf.memory().numTensors)) },
    );
    expect(counts).toHaveLength(10);
    expect(new Set(counts).size).toBe(1);
  });

  it('stops on a non-finite loss before updating, keeping the last good weights', async () => {
    const model = createModel(small, 10);
    const poisoned = model.stateDict().get('transformer.ln_f.weight')!;
    poisoned.assign(tf.fill(poisoned.shape, Number.NaN));
    const before = model.stateDict().get('transformer.wte.weight')!.dataSync().slice();
    const result = await train(model, dataset, options);
    expect(result.stoppedBy).toBe('non-finite-loss');
    expect(result.message).toMatch(/the loss became NaN at step 0; stopped before updating/);
    expect(model.stateDict().get('transformer.wte.weight')!.dataSync()).toEqual(before);
  });

  it('stops when asked, and refuses bad options', async () => {
    const model = createModel(small, 11);
    const controller = new AbortController();
    const result = await train(model, dataset, options, { signal: controller.signal, onStep: (e) => void (e.step === 2 && controller.abort()) });
    expect(result).toMatchObject({ stoppedBy: 'aborted', step: 3 });
    await expect(train(model, dataset, { ...options, batchSize: 0 })).rejects.toThrow('train: batchSize must be a positive integer, got 0');
    await expect(train(createModel({ ...small, blockSize: 8 }), new TokenDataset([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), options)).rejects.toThrow(
      /fewer than blockSize \+ 1 = 9/,
    );
  });
});
