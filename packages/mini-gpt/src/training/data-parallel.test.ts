// Data-parallel training through the built package (worker threads run dist/replica-thread.js).
import { CharTokenizer } from '@embedlab/tokenizer';
import {
  checkpointFromFiles,
  connectReplicas,
  createModel,
  namesCorpus,
  type ReplicaEndpoint,
  type ReplicaPool,
  serveReplica,
  TokenDataset,
  TrainingSession,
  train,
} from '@embedlab/mini-gpt';
import { startWorkers } from '@embedlab/mini-gpt/node';
import { ready, tf } from '@embedlab/runtime';
import { maxRelativeDifference, tinyGPTConfig } from '@embedlab/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';

const corpus = namesCorpus().slice(0, 20_000);
const tokenizer = CharTokenizer.fromCorpus(corpus);
const dataset = new TokenDataset(tokenizer.encode(corpus));
const config = tinyGPTConfig(tokenizer.vocabSize, { dropout: 0.1 });
const options = { steps: 6, batchSize: 4, learningRate: 1e-2, warmupSteps: 2, evalInterval: 100, gradientAccumulation: 2 };

/** A pool of one replica served on a message channel in this thread; `steps` records the micro-batches it was sent. */
function channelPool() {
  const { port1, port2 } = new MessageChannel();
  const steps: number[] = [];
  serveReplica({
    postMessage: (message, transfer) => port2.postMessage(message, transfer ?? []),
    onMessage: (listener) =>
      port2.addEventListener('message', (event) => {
        if ((event.data as { type: string }).type === 'step') steps.push((event.data as { micro: number }).micro);
        listener(event.data);
      }),
  });
  port2.start();
  const pool = connectReplicas([
    {
      postMessage: (message, transfer) => port1.postMessage(message, transfer ?? []),
      onMessage: (listener) => port1.addEventListener('message', (event) => listener(event.data)),
    },
  ]);
  port1.start();
  return { pool, steps, port1 };
}

/** The same model trained alone and on `pool`, four micro-batches a step: both models and both runs' losses. */
async function aloneAndOnPool(modelConfig: typeof config, seed: number, steps: number, pool: ReplicaPool) {
  const alone = createModel(modelConfig, seed);
  const pooled = createModel(modelConfig, seed);
  const losses = { alone: [] as number[], pooled: [] as number[] };
  await train(alone, dataset, { ...options, gradientAccumulation: 4, steps }, { onStep: (e) => void losses.alone.push(e.loss) });
  await train(pooled, dataset, { ...options, gradientAccumulation: 4, steps, workers: pool }, { onStep: (e) => void losses.pooled.push(e.loss) });
  return { alone, pooled, losses };
}

describe('data-parallel training', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    await ready();
  });

  it('gives the losses and weights of gradient accumulation on one thread', async () => {
    const single = createModel(config, 3);
    const singleLosses: number[] = [];
    await train(single, dataset, options, { onStep: (e) => void singleLosses.push(e.loss) });

    const parallel = createModel(config, 3);
    const workers = await startWorkers(2);
    const parallelLosses: number[] = [];
    try {
      expect(workers.size).toBe(2);
      await train(parallel, dataset, { ...options, workers }, { onStep: (e) => void parallelLosses.push(e.loss) });
    } finally {
      workers.close();
    }
    expect(parallelLosses).toHaveLength(options.steps);
    expect(maxRelativeDifference(parallelLosses, singleLosses)).toBeLessThan(1e-5);
    for (const [name, variable] of single.stateDict()) {
      expect(maxRelativeDifference(parallel.stateDict().get(name)!.dataSync(), variable.dataSync()), name).toBeLessThan(1e-4);
    }
    single.dispose();
    parallel.dispose();
  });

  it("splits a session's batch across workers and resumes exactly on any number of threads", async () => {
    const make = () =>
      TrainingSession.create({
        corpus,
        model: { blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 16 },
        training: { steps: 6, batchSize: 8, evalInterval: 3, evalBatches: 1 },
        workers: 2,
      });
    const first = make();
    expect([first.options.batchSize, first.options.gradientAccumulation]).toEqual([4, 2]);
    const workers = await startWorkers(2);
    const losses: number[] = [];
    const saved = new Map<number, ReturnType<typeof first.checkpointFiles>>();
    try {
      await first.run({ onStep: (e) => void losses.push(e.loss), onCheckpoint: (files, step) => void saved.set(step, files) }, { workers });
    } finally {
      workers.close();
    }
    const resumed = TrainingSession.resume(checkpointFromFiles(saved.get(3)!), corpus);
    const rest: number[] = [];
    await resumed.run({ onStep: (e) => void rest.push(e.loss) });
    expect(maxRelativeDifference(rest, losses.slice(3))).toBeLessThan(1e-5);
    first.dispose();
    resumed.dispose();
  });

  it('sends every other micro-batch to the replica (here on a message channel in this thread)', async () => {
    const { pool, steps, port1 } = channelPool();
    const first = await aloneAndOnPool(config, 5, 2, pool);
    // Micro-batches 1 and 3 of each step went to the replica; 0 and 2 stayed here.
    expect(steps).toEqual([1, 3, 1, 3]);
    expect(maxRelativeDifference(first.losses.pooled, first.losses.alone)).toBeLessThan(1e-5);
    // The same pool serves a second model (a listener of the first one answered its messages too).
    const second = await aloneAndOnPool({ ...config, nEmbd: 8 }, 6, 2, pool);
    expect(maxRelativeDifference(second.losses.pooled, second.losses.alone)).toBeLessThan(1e-5);
    port1.close();
    for (const run of [first, second]) {
      run.alone.dispose();
      run.pooled.dispose();
    }
  });

  it("on the cpu backend too, which keeps the arrays tensors are made from: the replica's buffer is copied out before its next micro-batch", async () => {
    await tf.setBackend('cpu');
    const { pool, port1 } = channelPool();
    try {
      const run = await aloneAndOnPool(config, 7, 3, pool);
      expect(maxRelativeDifference(run.losses.pooled, run.losses.alone)).toBeLessThan(1e-5);
      for (const [name, variable] of run.alone.stateDict()) {
        expect(maxRelativeDifference(run.pooled.stateDict().get(name)!.dataSync(), variable.dataSync()), name).toBeLessThan(1e-4);
      }
      run.alone.dispose();
      run.pooled.dispose();
    } finally {
      port1.close();
      await tf.setBackend('wasm');
    }
  });

  it('falls back to this thread when the workers cannot start, with the same losses', async () => {
    const listeners: ((message: unknown) => void)[] = [];
    const failing: ReplicaEndpoint = {
      postMessage: () => queueMicrotask(() => listeners[0]?.({ type: 'error', message: 'no wasm here' })),
      onMessage: (listener) => void listeners.push(listener),
    };
    const setup = { corpus, model: { blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 16 }, training: { steps: 3, batchSize: 8, evalInterval: 100 }, workers: 2 };
    const withFallback = TrainingSession.create(setup);
    const reasons: string[] = [];
    const fallbackLosses: number[] = [];
    await withFallback.run(
      { onStep: (e) => void fallbackLosses.push(e.loss), onWorkersUnavailable: (reason) => void reasons.push(reason) },
      { workers: connectReplicas([failing]) },
    );
    expect(reasons).toEqual(['a training worker failed: no wasm here']);
    const alone = TrainingSession.create(setup);
    const aloneLosses: number[] = [];
    await alone.run({ onStep: (e) => void aloneLosses.push(e.loss) });
    expect(fallbackLosses).toEqual(aloneLosses);
    withFallback.dispose();
    alone.dispose();
    expect(tf.getBackend()).toBe('wasm');
  });
});
