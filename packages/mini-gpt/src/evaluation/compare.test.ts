import { ready } from '@embedlab/runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkpointFromFiles, type CheckpointFiles } from '../io/checkpoint.js';
import { comparisonVariants, runComparison, type VariantResult } from './compare.js';
import { readTokens } from '../data/data.js';
import { evaluate } from './evaluate.js';
import { parseRopeScaling, withRopeScaling } from './rope-scaling.js';
import { connectReplicas, serveReplica } from '../training/data-parallel.js';
import { TrainingSession } from '../training/session.js';
import { namesCorpus } from '../data/corpus.js';

const corpus = namesCorpus().slice(0, 30_000);
const tiny = {
  corpus,
  model: { blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 16 },
  training: { steps: 4, batchSize: 4, evalInterval: 2, evalBatches: 1 },
  multiples: [1, 2],
};

describe('position comparisons', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    await ready();
  });

  it('lists each position x tie, and each RoPE scaling as a row of every rope model', () => {
    expect(comparisonVariants(['learned', 'rope'], 'both', ['yarn:2']).map((v) => [v.name, v.trained.name, v.ropeScaling ?? null])).toEqual([
      ['learned-tied', 'learned-tied', null],
      ['learned-untied', 'learned-untied', null],
      ['rope-tied', 'rope-tied', null],
      ['rope-tied+yarn:2', 'rope-tied', 'yarn:2'],
      ['rope-untied', 'rope-untied', null],
      ['rope-untied+yarn:2', 'rope-untied', 'yarn:2'],
    ]);
  });

  it('trains each model once and evaluates it at each multiple: learned refuses past its length, scaling changes RoPE', async () => {
    const trainedSteps = new Map<string, number>();
    const saved = new Map<string, CheckpointFiles>();
    const results = await runComparison(tiny, comparisonVariants(['learned', 'rope'], 'tied', ['linear:2']), {
      onStep: (variant) => void trainedSteps.set(variant.name, (trainedSteps.get(variant.name) ?? 0) + 1),
      onCheckpoint: (variant, files) => void saved.set(variant.name, files),
    });
    expect([...trainedSteps]).toEqual([
      ['learned-tied', 4],
      ['rope-tied', 4],
    ]);
    const byName = new Map(results.map((r) => [r.name, r]));
    const learned = byName.get('learned-tied')!;
    expect(learned.contexts[0]!.loss).toBeGreaterThan(0);
    expect(learned.contexts[1]).toMatchObject({ multiple: 2, context: 16, loss: null, byPosition: [] });
    expect(learned.contexts[1]!.refused).toMatch(/learned positions have no row past/);
    const rope = byName.get('rope-tied')!;
    for (const context of rope.contexts) {
      expect(Number.isFinite(context.loss)).toBe(true);
      expect(context.byPosition).toHaveLength(context.context);
    }
    // The scaled row is the trained model under linear:2 RoPE, evaluated on the same held-out text.
    const { model } = checkpointFromFiles(saved.get('rope-tied')!);
    const session = TrainingSession.create({ corpus, model: tiny.model, training: tiny.training });
    const ids = readTokens(session.dataset.validation, 0, session.dataset.validation.length);
    session.dispose();
    const scaled = withRopeScaling(model, parseRopeScaling('linear:2', 8));
    const row = byName.get('rope-tied+linear:2')!.contexts[1]!;
    expect(row.loss).toBeCloseTo(evaluate(scaled, ids, { context: 16 }).loss, 6);
    expect(row.loss).not.toBe(rope.contexts[1]!.loss);
    for (const m of [model, scaled]) m.dispose();
    expect(rope.parameters).toBe(learned.parameters - 8 * 16);
  });

  it('stops with the variant and the reason when a loss diverges, keeping what finished', async () => {
    const finished: string[] = [];
    const diverging = { ...tiny, training: { ...tiny.training, learningRate: 1e30 } };
    await expect(runComparison(diverging, comparisonVariants(['none'], 'tied'), { onVariant: (r) => void finished.push(r.name) })).rejects.toThrow(
      /^none-tied: the loss became (NaN|Infinity) at step \d+.*the comparison stops here/,
    );
    expect(finished).toEqual([]);
  });

  it('resumes: finished rows are skipped, and a saved checkpoint continues instead of starting over', async () => {
    const saved = new Map<string, CheckpointFiles>();
    const first: VariantResult[] = [];
    const controller = new AbortController();
    // Interrupted during the second model's training, after its step 2 (which it saves).
    await runComparison(tiny, comparisonVariants(['none', 'alibi'], 'tied'), {
      onVariant: (result) => void first.push(result),
      onStep: (variant, event) => {
        if (variant.name === 'alibi-tied' && event.step === 1) controller.abort();
      },
      onCheckpoint: (variant, files) => void saved.set(variant.name, files),
      signal: controller.signal,
    });
    expect(first.map((r) => r.name)).toEqual(['none-tied']);
    expect(checkpointFromFiles(saved.get('alibi-tied')!).step).toBe(2);
    const steps: string[] = [];
    const rest = await runComparison(tiny, comparisonVariants(['none', 'alibi'], 'tied'), {
      finished: new Map(first.map((r) => [r.name, r])),
      checkpointOf: (variant) => (saved.has(variant.name) ? checkpointFromFiles(saved.get(variant.name)!) : undefined),
      onStep: (variant, event) => void steps.push(`${variant.name}@${event.step}`),
    });
    expect(rest.map((r) => r.name)).toEqual(['none-tied', 'alibi-tied']);
    expect(rest[0]).toBe(first[0]);
    expect(steps).toEqual(['alibi-tied@2', 'alibi-tied@3']);
  });

  it('evaluates every encoding x head with several RoPE scalings in one comparison (an untied copy freed its source head)', async () => {
    const variants = comparisonVariants(['learned', 'sinusoidal', 'rope', 'alibi', 'none'], 'both', ['linear:4', 'yarn:4', 'dynamic:2']);
    const results = await runComparison({ ...tiny, training: { ...tiny.training, steps: 2 } }, variants);
    expect(results.map((r) => r.name)).toEqual(variants.map((v) => v.name));
    for (const result of results.filter((r) => r.name.startsWith('rope')))
      for (const context of result.contexts) expect(Number.isFinite(context.loss)).toBe(true);
  });

  it("shares each step's batch with the pool's workers: the losses of the same split on one thread", async () => {
    const { port1, port2 } = new MessageChannel();
    const served: number[] = [];
    serveReplica({
      postMessage: (message, transfer) => port2.postMessage(message, transfer ?? []),
      onMessage: (listener) =>
        port2.addEventListener('message', (event) => {
          if (event.data.type === 'step') served.push(event.data.micro);
          listener(event.data);
        }),
    });
    port2.start();
    const workers = connectReplicas([
      { postMessage: (message, transfer) => port1.postMessage(message, transfer ?? []), onMessage: (l) => port1.addEventListener('message', (e) => l(e.data)) },
    ]);
    port1.start();
    const shared: number[] = [];
    await runComparison(tiny, comparisonVariants(['alibi'], 'tied'), { onStep: (_, event) => void shared.push(event.loss), workers });
    port1.close();
    // Micro-batch 1 of each of the 4 steps went to the worker (before, the pool got no work).
    expect(served).toEqual([1, 1, 1, 1]);
    const alone = TrainingSession.create({ corpus, model: { ...tiny.model, position: 'alibi' }, training: tiny.training, workers: 2 });
    const expected: number[] = [];
    await alone.run({ onStep: (event) => void expected.push(event.loss) });
    expect(shared.map((loss, i) => Math.abs(loss - expected[i]!))).toEqual(shared.map(() => expect.closeTo(0, 5)));
  });
});
