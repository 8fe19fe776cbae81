// Freezing through the built package (the pool's worker threads run dist/replica-thread.js).
import {
  checkpointFromFiles,
  createModel,
  describeTrained,
  estimateMemory,
  type GPTConfig,
  namesCorpus,
  TokenDataset,
  TrainingSession,
  train,
  trainedNames,
  validateConfig,
} from '@embedlab/mini-gpt';
import { startWorkers } from '@embedlab/mini-gpt/node';
import { ready, type tf } from '@embedlab/runtime';
import { CharTokenizer } from '@embedlab/tokenizer';
import { beforeAll, describe, expect, it } from 'vitest';

const corpus = namesCorpus().slice(0, 20_000);
const tokenizer = CharTokenizer.fromCorpus(corpus);
const dataset = new TokenDataset(tokenizer.encode(corpus));
const config: GPTConfig = validateConfig({ vocabSize: tokenizer.vocabSize, blockSize: 16, nLayer: 3, nHead: 2, nEmbd: 16, tieWeights: false });
const quick = { steps: 4, batchSize: 4, learningRate: 1e-2, evalInterval: 100, evalBatches: 1 };

describe('trained parameters', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    await ready();
  });

  it('resolves a spec to state_dict names in state order, parts unioned', () => {
    const model = createModel(config, 1);
    const all = [...model.stateDict().keys()];
    model.dispose();
    expect(trainedNames(config)).toEqual(all);
    expect(trainedNames(config, 'embeddings')).toEqual(['transformer.wte.weight']);
    expect(trainedNames(config, 'head')).toEqual(['lm_head.weight']);
    expect(trainedNames(config, 'positions,embeddings')).toEqual(['transformer.wte.weight', 'transformer.wpe.weight']);
    expect(trainedNames(config, 'blocks:1')).toEqual(all.filter((name) => name.startsWith('transformer.h.1.')));
    expect(trainedNames(config, 'blocks:1-2')).toEqual(all.filter((name) => /^transformer\.h\.[12]\./.test(name)));
    expect(trainedNames(config, 'blocks')).toEqual(all.filter((name) => name.startsWith('transformer.h.')));
    expect(trainedNames(config, 'norms')).toEqual(all.filter((name) => /\.ln_(1|2|f)\./.test(name)));
    expect(trainedNames(config, 'transformer.h.*.mlp.*')).toEqual(all.filter((name) => name.includes('.mlp.')));
    // Tied: the head is the token table.
    expect(trainedNames({ ...config, tieWeights: true }, 'head')).toEqual(['transformer.wte.weight']);
    expect(describeTrained({ ...config, tieWeights: true }, 'embeddings')).toMatch(
      /^the token table \(the tied head is the same matrix\): 1 of \d+ parameter tensors \([\d,]+ of [\d,]+ numbers\), the rest frozen$/,
    );
    expect(describeTrained(config)).toBe(`all ${all.length} parameter tensors`);
  });

  it('refuses a spec that names nothing, naming the part', () => {
    expect(() => trainedNames(config, 'blocks:5-9')).toThrow(
      'train: train must be blocks within 0-2 (this model has 3), the first no later than the last, got "blocks:5-9"',
    );
    expect(() => trainedNames(config, 'blocks:2-1')).toThrow('the first no later than the last, got "blocks:2-1"');
    expect(() => trainedNames(config, 'blocks:x')).toThrow('blocks, blocks:A or blocks:A-B (block numbers from 0), got "blocks:x"');
    expect(() => trainedNames(config, 'weights')).toThrow('"weights" names no parameter of this model, got "weights"');
    expect(() => trainedNames({ ...config, position: 'rope' }, 'positions')).toThrow('it has no learned position table: position rope');
    expect(() => trainedNames(config, ' ')).toThrow('train: train must be all, or a comma-separated list');
  });

  it('leaves frozen parameters bit for bit as they were, keeps no moments for them, and counts only what trains in the estimate', async () => {
    const model = createModel(config, 3);
    const before = new Map([...model.stateDict()].map(([name, v]) => [name, Array.from(v.dataSync())]));
    const result = await train(model, dataset, { ...quick, train: 'embeddings,blocks:1' });
    const trained = new Set(trainedNames(config, 'embeddings,blocks:1'));
    for (const [name, variable] of model.stateDict()) {
      const same = Array.from(variable.dataSync()).every((value, i) => Object.is(value, before.get(name)![i]));
      expect(same, name).toBe(!trained.has(name));
    }
    const names = new Map([...model.stateDict()].map(([name, v]) => [v, name] as [tf.Variable, string]));
    expect([...result.optimizer.state(names).keys()].sort()).toEqual([...trained].flatMap((name) => [`${name}.exp_avg`, `${name}.exp_avg_sq`]).sort());
    const whole = estimateMemory(config, { mode: 'train', batchSize: 4 });
    const frozen = estimateMemory(config, { mode: 'train', batchSize: 4, trainedParameters: config.vocabSize * config.nEmbd, tokenTableTrains: true });
    expect(frozen.parts.gradients).toBeLessThan(whole.parts.gradients);
    expect(frozen.parts.optimizer).toBe(2 * config.vocabSize * config.nEmbd * 4);
    result.optimizer.dispose();
    model.dispose();
  });

  it('gives a frozen run the same numbers on a pool of workers as on one thread', async () => {
    const run = async (workers?: Awaited<ReturnType<typeof startWorkers>>) => {
      const model = createModel(config, 4);
      await train(model, dataset, { ...quick, gradientAccumulation: 2, train: 'head,blocks:2', ...(workers ? { workers } : {}) });
      const weights = [...model.stateDict().values()].map((v) => Array.from(v.dataSync()));
      model.dispose();
      return weights;
    };
    const alone = await run();
    const pool = await startWorkers(2);
    try {
      expect(await run(pool)).toEqual(alone);
    } finally {
      pool.close();
    }
  });

  it('a session saves what it trains, resumes it, and refuses to train something else on resume', async () => {
    const session = TrainingSession.create({
      corpus,
      model: { nLayer: 2, nHead: 2, nEmbd: 16, blockSize: 16 },
      training: { ...quick, train: ['embeddings', 'blocks:1'] },
      seed: 2,
    });
    await session.run();
    expect(session.options.train).toBe('embeddings,blocks:1');
    const checkpoint = checkpointFromFiles(session.checkpointFiles());
    expect(checkpoint.training!.options.train).toBe('embeddings,blocks:1');
    const resumed = TrainingSession.resume(checkpoint, corpus, { steps: 6 });
    expect(resumed.options.train).toBe('embeddings,blocks:1');
    await resumed.run();
    expect(resumed.step).toBe(6);
    const again = checkpointFromFiles(session.checkpointFiles());
    expect(() => TrainingSession.resume(again, corpus, { train: 'all' })).toThrow(
      `resume: train must be the checkpoint's "embeddings,blocks:1" (a resumed run trains what it trained; start a new run from it with \`initFrom\` to train something else), got "all"`,
    );
    session.dispose();
    resumed.dispose();
  });
});
