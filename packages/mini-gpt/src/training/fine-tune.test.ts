import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ready } from '@embedlab/runtime';
import { NANOGPT_REFERENCE, runTorch } from '@embedlab/test-utils';
import { CharTokenizer } from '@embedlab/tokenizer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { namesCorpus } from '../data/corpus.js';
import { TokenDataset } from '../data/data.js';
import { loadHuggingFaceDirectory, saveHuggingFaceDirectory } from '../io/huggingface-directory.js';
import type { GPTConfig } from '../model/config.js';
import { createModel } from '../model/model.js';
import { microBatchWindows } from './data-parallel.js';
import { learningRateAt } from './schedule.js';
import { TrainingSession } from './session.js';
import { trainedNames } from './trained-parameters.js';

const FINETUNE_REFERENCE = fileURLToPath(new URL('../fixtures/finetune_reference.py', import.meta.url));

interface Reference {
  losses: number[];
  state: Record<string, number[]>;
}

// nanoGPT's init_from='gpt2' path, checked step by step against its PyTorch loop: a random
// GPT-2-shaped model (learned positions, tied head, biases, tanh GELU) written as a Hugging Face
// directory, loaded, cropped from 32 to 16 positions, fine-tuned with clipping and warmup.
describe('fine-tuning from a Hugging Face GPT-2 directory', { timeout: 120_000 }, () => {
  const corpus = namesCorpus().slice(0, 20_000);
  const tokenizer = CharTokenizer.fromCorpus(corpus);
  const config: GPTConfig = {
    vocabSize: tokenizer.vocabSize,
    blockSize: 32,
    nLayer: 2,
    nHead: 2,
    nEmbd: 32,
    dropout: 0,
    bias: true,
    tieWeights: true,
    position: 'learned',
    gelu: 'tanh',
  };
  const training = { steps: 6, batchSize: 4, learningRate: 3e-3, warmupSteps: 2, gradClip: 0.5, weightDecay: 0.1, evalInterval: 100, evalBatches: 1 };
  let dir: string;

  beforeAll(async () => {
    await ready();
    dir = mkdtempSync(join(tmpdir(), 'embedlab-finetune-'));
    const model = createModel(config, 11);
    await saveHuggingFaceDirectory(join(dir, 'gpt2-random'), model, tokenizer);
    model.dispose();
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['everything', 'all'],
    ['the blocks, the tables and ln_f frozen (requires_grad=False in PyTorch)', 'blocks'],
    ['block 1 and the tied head', 'blocks:1,head'],
  ])('takes the same losses and ends on the same weights as nanoGPT in PyTorch, training %s', async (_, train) => {
    const hf = join(dir, 'gpt2-random');
    const source = loadHuggingFaceDirectory(hf);
    const session = TrainingSession.create({
      dataset: new TokenDataset(tokenizer.encode(corpus)),
      initFrom: source,
      model: { blockSize: 16 },
      training: { ...training, train },
      seed: 5,
    });
    const before = new Map([...session.model.stateDict()].map(([name, variable]) => [name, Array.from(variable.dataSync())]));
    source.model.dispose();
    const losses: number[] = [];
    await session.run({ onStep: ({ loss }) => void losses.push(loss) });

    // The batches and learning rates the session used, drawn again from its seed.
    const { options } = session;
    const steps = Array.from({ length: training.steps }, (_, step) => step);
    const batches = steps.map((step) => {
      const { x, y } = microBatchWindows(session.dataset, step, 0, options.batchSize, 16, options.seed);
      const rows = (ids: Int32Array) => Array.from({ length: options.batchSize }, (_, i) => Array.from(ids.subarray(i * 16, (i + 1) * 16)));
      return { x: rows(x), y: rows(y) };
    });
    const reference = runTorch<Reference>(FINETUNE_REFERENCE, {
      reference: NANOGPT_REFERENCE,
      hf_dir: hf,
      config,
      block_size: 16,
      batches,
      learning_rates: steps.map((step) => learningRateAt(step, options)),
      beta1: options.beta1,
      beta2: options.beta2,
      eps: 1e-8,
      weight_decay: options.weightDecay,
      grad_clip: options.gradClip,
      frozen: [...session.model.stateDict().keys()].filter((name) => !trainedNames(session.model.config, train).includes(name)),
    });

    expect(losses).toHaveLength(training.steps);
    for (const [step, loss] of losses.entries()) expect(Math.abs(loss - reference.losses[step]!), `step ${step}`).toBeLessThan(1e-6);
    for (const [name, variable] of session.model.stateDict()) {
      const expected = reference.state[name]!;
      // PyTorch keeps Linear weights [out, in]; this package [in, out].
      const [rows, columns] = variable.shape as [number, number];
      const ours = Array.from(variable.dataSync());
      const theirs =
        variable.rank === 2 && name.match(/\.c_(attn|proj|fc)\.weight$/)
          ? ours.map((_, i) => expected[(i % columns) * rows + Math.floor(i / columns)]!)
          : expected;
      const worst = Math.max(...ours.map((value, i) => Math.abs(value - theirs[i]!)));
      expect(worst, name).toBeLessThan(5e-6);
      // A frozen parameter leaves the run bit for bit as it came in.
      if (!trainedNames(session.model.config, train).includes(name))
        expect(
          ours.every((value, i) => Object.is(value, before.get(name)![i])),
          name,
        ).toBe(true);
    }
    session.dispose();
  });
});
