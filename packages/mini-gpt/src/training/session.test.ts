import { createHash } from 'node:crypto';
import { ready } from '@embedlab/runtime';
import { CharTokenizer } from '@embedlab/tokenizer';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkpointFromFiles, type CheckpointFiles } from '../io/checkpoint.js';
import { PRESETS } from '../model/config.js';
import { namesCorpus } from '../data/corpus.js';
import { TokenDataset } from '../data/data.js';
import { createModel } from '../model/model.js';
import { AdamW } from './optimizer.js';
import { TrainingSession, trainingOptions } from './session.js';
import { train } from './train.js';

const corpus = namesCorpus().slice(0, 20_000);
const small = { blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 16 };
const quick = { steps: 8, batchSize: 4, evalInterval: 4, evalBatches: 2, warmupSteps: 2 };

describe('TrainingSession', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    await ready();
  });

  it("fills what is not given from the preset's recipe, and decays over the run's own steps", () => {
    // The baby recipe (batch 16, peak 1e-3, warmup 100, weight decay 0.1, eval every 250) and
    // nanoGPT's defaults for the rest: the floor a tenth of the peak, the decay over the run.
    expect(trainingOptions('baby', { steps: 50, learningRate: undefined }, 3)).toEqual({
      steps: 50,
      batchSize: 16,
      learningRate: 1e-3,
      minLearningRate: 1e-4,
      warmupSteps: 100,
      decaySteps: 50,
      weightDecay: 0.1,
      beta1: 0.9,
      beta2: 0.95,
      gradClip: 1,
      gradientAccumulation: 1,
      evalInterval: 250,
      evalBatches: 10,
      seed: 3,
      train: 'all',
    });
    const session = TrainingSession.create({ corpus, preset: 'names', model: { ...small, position: 'rope', tieWeights: undefined }, tokenizer: 'bpe:300' });
    expect(session.model.config).toMatchObject({ ...PRESETS.names.model, ...small, position: 'rope', vocabSize: session.tokenizer.vocabSize });
    expect(session.tokenizer.kind).toBe('byte-bpe');
    expect(session.tokenizer.vocabSize).toBeLessThanOrEqual(300);
    session.dispose();
  });

  it('gives the same losses as train() with the same options', async () => {
    const session = TrainingSession.create({ corpus, model: small, training: quick, seed: 5 });
    const viaSession: number[] = [];
    await session.run({ onStep: (e) => void viaSession.push(e.loss) });

    const tokenizer = CharTokenizer.fromCorpus(corpus);
    const model = createModel({ ...PRESETS.names.model, ...small, vocabSize: tokenizer.vocabSize }, 5);
    const direct: number[] = [];
    const options = trainingOptions('names', quick, 5);
    await train(
      model,
      new TokenDataset(tokenizer.encode(corpus)),
      { ...options, optimizer: new AdamW({ weightDecay: options.weightDecay! }) },
      { onStep: (e) => void direct.push(e.loss) },
    );
    expect(viaSession).toHaveLength(quick.steps);
    expect(viaSession).toEqual(direct);
    session.dispose();
    model.dispose();
  });

  it('pauses after a step until resumed, and stops a paused run, which still saves', async () => {
    const session = TrainingSession.create({ corpus, model: small, training: { ...quick, steps: 100, evalInterval: 1000 } });
    const saved: number[] = [];
    let stepsWhilePaused = 0;
    const finished = session.run({
      onStep: (e) => {
        if (session.status === 'paused') stepsWhilePaused++;
        if (e.step === 2) session.pause();
      },
      onCheckpoint: (_files, step) => void saved.push(step),
    });
    await expect.poll(() => session.step, { timeout: 30_000 }).toBe(3);
    expect(session.status).toBe('paused');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(session.step).toBe(3);
    session.resume();
    await expect.poll(() => session.step, { timeout: 30_000 }).toBeGreaterThan(4);
    session.pause();
    await expect.poll(() => session.status, { timeout: 30_000 }).toBe('paused');
    const pausedAt = session.step;
    session.stop();
    const result = await finished;
    expect(stepsWhilePaused).toBe(0);
    expect(result.stoppedBy).toBe('aborted');
    expect(result.step).toBe(pausedAt);
    expect(saved).toEqual([pausedAt]);
    expect(session.status).toBe('finished');
    await expect(session.run()).rejects.toThrow('a session runs once');
    session.dispose();
  });

  it('saves after each evaluation, and a checkpoint resumes to the same losses as an unbroken run', async () => {
    const unbroken = TrainingSession.create({ corpus, model: small, training: quick });
    const all: number[] = [];
    const saves = new Map<number, CheckpointFiles>();
    const savedSteps: number[] = [];
    await unbroken.run({
      onStep: (e) => void all.push(e.loss),
      onCheckpoint: (files, step) => {
        savedSteps.push(step);
        saves.set(step, files);
      },
    });
    // The last evaluation is at the end: one save there, not two.
    expect(savedSteps).toEqual([4, 8]);

    const resumed = TrainingSession.resume(checkpointFromFiles(saves.get(4)!), corpus);
    expect(resumed.step).toBe(4);
    expect(resumed.options).toEqual(unbroken.options);
    const rest: number[] = [];
    await resumed.run({ onStep: (e) => void rest.push(e.loss) });
    expect(rest).toEqual(all.slice(4));
    unbroken.dispose();
    resumed.dispose();
  });

  it("fine-tunes from a model's weights and tokenizer (initFrom): step 0, a fresh optimizer, a cropped position table", async () => {
    const source = TrainingSession.create({ corpus, model: small, training: quick, seed: 3 });
    await source.run();
    const initFrom = { model: source.model, tokenizer: source.tokenizer };
    const tuned = TrainingSession.create({ corpus: corpus.slice(0, 5_000), initFrom, model: { blockSize: 4, dropout: 0.1 }, training: quick });
    expect(tuned.step).toBe(0);
    expect(tuned.optimizer.step).toBe(0);
    expect(tuned.tokenizer).toBe(source.tokenizer);
    expect(tuned.model.config).toEqual({ ...source.model.config, blockSize: 4, dropout: 0.1 });
    for (const [name, variable] of tuned.model.stateDict()) {
      const from = source.model.stateDict().get(name)!;
      // nanoGPT's crop_block_size: the first rows of the learned position table.
      const expected = name === 'transformer.wpe.weight' ? Array.from(from.dataSync()).slice(0, 4 * 16) : Array.from(from.dataSync());
      expect(Array.from(variable.dataSync()), name).toEqual(expected);
    }
    await tuned.run();
    expect(tuned.step).toBe(quick.steps);
    // The shape stays the initial model's: each field that contradicts it is named.
    expect(() => TrainingSession.create({ corpus, initFrom, model: { nLayer: 2, nEmbd: 32 } })).toThrow(
      "initFrom: nLayer must be the initial model's 1 (only dropout may change, and blockSize shrink), got 2",
    );
    expect(() => TrainingSession.create({ corpus, initFrom, model: { blockSize: 16 } })).toThrow(
      "initFrom: blockSize must be at most the initial model's 8 (its learned positions end there), got 16",
    );
    expect(() => TrainingSession.create({ corpus, initFrom, tokenizer: 'char' })).toThrow("with initFrom the tokenizer is the initial model's");
    for (const session of [source, tuned]) session.dispose();
  });

  it('says at creation when the text is too short for the context', () => {
    expect(() => TrainingSession.create({ corpus: 'abcdefgh\n'.repeat(3), model: small })).toThrow(
      'the validation split has 3 tokens, fewer than blockSize + 1 = 9',
    );
  });

  it('refuses to resume a checkpoint without optimizer state, or on text its tokenizer cannot encode', () => {
    const session = TrainingSession.create({ corpus, model: small, training: quick });
    const { 'optimizer.safetensors': _, ...weightsOnly } = session.checkpointFiles();
    expect(() => TrainingSession.resume(checkpointFromFiles(weightsOnly), corpus)).toThrow('no optimizer state to resume from');
    expect(() => TrainingSession.resume(checkpointFromFiles(session.checkpointFiles()), 'ZZZ')).toThrow("the data does not fit the checkpoint's tokenizer");
    session.dispose();
  });

  it('records the SHA-256 of the text it starts on, and refuses to resume on that file or corpus changed', () => {
    const data = { kind: 'file', path: '/corpora/names.txt' } as const;
    const session = TrainingSession.create({ corpus, data, model: small, training: quick });
    const files = session.checkpointFiles();
    session.dispose();
    const sha256 = createHash('sha256').update(corpus, 'utf8').digest('hex');
    expect(checkpointFromFiles(files).training?.data).toEqual({ ...data, sha256 });
    const edited = `${corpus}anna\n`;
    const refusal =
      /^\/corpora\/names\.txt changed since this run started \(SHA-256 \w{12}… then, \w{12}… now\): resuming would train on other text and move the validation split; restore the text, or start a new run on it$/;
    expect(() => TrainingSession.resume(checkpointFromFiles(files), edited)).toThrow(refusal);
    expect(() => TrainingSession.resume(checkpointFromFiles(files), edited, {}, data)).toThrow(refusal);
    // The same text resumes; another file is the caller's choice, and its fingerprint is recorded from then on.
    for (const [text, source] of [
      [corpus, data],
      [edited, { kind: 'file', path: '/corpora/more-names.txt' }],
    ] as const) {
      const resumed = TrainingSession.resume(checkpointFromFiles(files), text, {}, source);
      expect(resumed.data).toEqual({ ...source, sha256: createHash('sha256').update(text, 'utf8').digest('hex') });
      resumed.dispose();
    }
    // A checkpoint from before fingerprints resumes on any text.
    const old = checkpointFromFiles(files);
    delete (old.training!.data as { sha256?: string }).sha256;
    TrainingSession.resume(old, edited).dispose();
  });

  it("samples one line per seed, starting from the tokenizer's separator even without a newline in the corpus", async () => {
    const session = TrainingSession.create({ corpus, model: small, training: quick });
    const lines = await session.samples({ count: 3, tokens: 12, seed: 1 });
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line).not.toContain('\n');
      expect([...line].every((c) => corpus.includes(c))).toBe(true);
    }
    expect(await session.samples({ count: 3, tokens: 12, seed: 1 })).toEqual(lines);
    const oneLine = TrainingSession.create({ corpus: 'abc defghij '.repeat(40), model: small, training: quick });
    const words = await oneLine.samples({ count: 2, tokens: 5, seed: 1 });
    expect(words).toHaveLength(2);
    for (const word of words) expect(word).toMatch(/^[a-j]*$/);
    session.dispose();
    oneLine.dispose();
  });
});
