import { type Tensor, tf, type Variable } from '@embedlab/runtime';
import type { TokenDataset } from './data.js';
import type { MiniGPT } from './model.js';
import { localGradients, type ReplicaPool } from './data-parallel.js';
import { checkMemory } from './memory-estimate.js';
import { AdamW, clipByGlobalNorm } from './optimizer.js';
import { createRng } from './rng.js';
import { learningRateAt } from './schedule.js';
import { validateTrainOptions } from './train-options.js';

export interface TrainOptions {
  /** Total optimizer steps of the run (a resumed run counts from `startStep`). */
  steps: number;
  batchSize: number;
  learningRate: number;
  /** Floor of the cosine decay. Default learningRate / 10. */
  minLearningRate?: number;
  warmupSteps?: number;
  /** Step where the decay reaches the floor. Default `steps`. */
  decaySteps?: number;
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  /** Clip gradients to this global L2 norm; 0 disables. Default 1. */
  gradClip?: number;
  /** Micro-batches whose gradients are averaged into one step. Default 1. */
  gradientAccumulation?: number;
  /**
   * Threads that share the micro-batches of each step (`startWorkers(n)` from
   * `@embedlab/mini-gpt/node`, or `connectReplicas` over Web Workers): micro-batch m runs on
   * thread m mod n, and the losses are those of one thread, within float rounding.
   */
  workers?: ReplicaPool;
  /** Validate every this many steps (and at the end). Default 100. */
  evalInterval?: number;
  /** Batches averaged per validation estimate. Default 10. */
  evalBatches?: number;
  /** Seeds batches and dropout: the same seed gives the same run. Default 1337. */
  seed?: number;
  /** Continue a run: the first step to take, and the optimizer that took the earlier ones. */
  startStep?: number;
  optimizer?: AdamW;
}

export interface StepEvent {
  step: number;
  loss: number;
  learningRate: number;
  gradNorm: number;
  tokensPerSecond: number;
}

export interface EvalEvent {
  step: number;
  trainLoss: number;
  validationLoss: number;
  /** exp(validation loss). */
  perplexity: number;
}

export interface TrainCallbacks {
  onStep?: (event: StepEvent) => void | Promise<void>;
  onEval?: (event: EvalEvent) => void | Promise<void>;
  /** Stops the run after the current step. */
  signal?: AbortSignal;
}

export interface TrainResult {
  /** Steps completed in total (the next step to take when resuming). */
  step: number;
  stoppedBy: 'done' | 'aborted' | 'non-finite-loss';
  /** Why it stopped early, for people. */
  message?: string;
  lastLoss: number;
  lastEval?: EvalEvent;
  optimizer: AdamW;
}

function checkOptions(options: TrainOptions): Required<Omit<TrainOptions, 'optimizer' | 'workers'>> & { optimizer?: AdamW; workers?: ReplicaPool } {
  const o = {
    minLearningRate: options.learningRate / 10,
    warmupSteps: 0,
    decaySteps: options.steps,
    weightDecay: 0.1,
    beta1: 0.9,
    beta2: 0.95,
    gradClip: 1,
    gradientAccumulation: 1,
    evalInterval: 100,
    evalBatches: 10,
    seed: 1337,
    startStep: 0,
    ...options,
  };
  const integer = (name: keyof typeof o, min: number) => {
    const value = o[name] as number;
    if (!Number.isInteger(value) || value < min) throw new RangeError(`train: ${name} must be an integer >= ${min}, got ${value}`);
  };
  integer('steps', 1);
  integer('batchSize', 1);
  integer('warmupSteps', 0);
  integer('gradientAccumulation', 1);
  integer('evalInterval', 1);
  integer('evalBatches', 1);
  integer('startStep', 0);
  for (const name of ['learningRate', 'minLearningRate', 'gradClip'] as const) {
    if (!(Number.isFinite(o[name]) && o[name] >= 0)) throw new RangeError(`train: ${name} must be a non-negative number, got ${o[name]}`);
  }
  return o;
}

const nextTick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Mean loss over `batches` random windows of a split, without dropout. */
export function estimateLoss(model: MiniGPT, dataset: TokenDataset, split: 'train' | 'validation', batches: number, batchSize: number, seed: number): number {
  const rng = createRng(seed, split === 'train' ? 21 : 22);
  let total = 0;
  for (let i = 0; i < batches; i++) {
    const { x, y } = dataset.batch(split, batchSize, model.config.blockSize, rng);
    total += tf.tidy(() => model.loss(x, y).dataSync()[0]!);
    tf.dispose([x, y]);
  }
  return total / batches;
}

/**
 * Trains with AdamW, warmup + cosine decay, global-norm clipping, gradient accumulation and
 * seeded dropout. Async: it yields between steps, so a page or worker stays responsive. A loss
 * that is NaN or infinite stops the run before the update, leaving the last good weights.
 */
export async function train(model: MiniGPT, dataset: TokenDataset, options: TrainOptions, callbacks: TrainCallbacks = {}): Promise<TrainResult> {
  const o = checkOptions(validateTrainOptions(options));
  const { blockSize } = model.config;
  dataset.check(blockSize);
  // Before any window or tensor: the step must fit each thread's heap.
  checkMemory(model.config, { mode: 'train', batchSize: o.batchSize, microBatches: o.gradientAccumulation, workers: o.workers?.size ?? 1 }, { label: 'train' });
  const optimizer = o.optimizer ?? new AdamW({ beta1: o.beta1, beta2: o.beta2, weightDecay: o.weightDecay });
  const variables = model.trainableVariables;
  const schedule = { learningRate: o.learningRate, minLearningRate: o.minLearningRate, warmupSteps: o.warmupSteps, decaySteps: o.decaySteps };
  const evaluate = async (step: number): Promise<EvalEvent> => {
    const trainLoss = estimateLoss(model, dataset, 'train', o.evalBatches, o.batchSize, o.seed + step);
    const validationLoss = estimateLoss(model, dataset, 'validation', o.evalBatches, o.batchSize, o.seed + step);
    const event = { step, trainLoss, validationLoss, perplexity: Math.exp(validationLoss) };
    await callbacks.onEval?.(event);
    return event;
  };

  await o.workers?.connect(model);
  let lastLoss = Number.NaN;
  let lastEval: EvalEvent | undefined;
  let step = o.startStep;
  for (; step < o.steps; step++) {
    if (callbacks.signal?.aborted)
      return { step, stoppedBy: 'aborted', message: `stopped at step ${step}`, lastLoss, ...(lastEval ? { lastEval } : {}), optimizer };
    const started = performance.now();
    const micros = o.gradientAccumulation;
    const { loss, grads: summed } = o.workers
      ? await o.workers.gradients(model, dataset, step, micros, o.batchSize, o.seed)
      : localGradients(model, dataset, step, micros, o.batchSize, o.seed);
    const grads = new Map<Variable, Tensor>(variables.map((variable, i) => [variable, summed[i]!]));
    if (!Number.isFinite(loss)) {
      tf.dispose([...grads.values()]);
      const message = `the loss became ${loss} at step ${step}; stopped before updating, so the weights are those after step ${step - 1}`;
      return { step, stoppedBy: 'non-finite-loss', message, lastLoss: loss, ...(lastEval ? { lastEval } : {}), optimizer };
    }
    const gradNorm = clipByGlobalNorm(grads, o.gradClip);
    const learningRate = learningRateAt(step, schedule);
    optimizer.apply(grads, learningRate);
    tf.dispose([...grads.values()]);
    lastLoss = loss;
    const seconds = (performance.now() - started) / 1000;
    await callbacks.onStep?.({ step, loss, learningRate, gradNorm, tokensPerSecond: (o.batchSize * blockSize * o.gradientAccumulation) / seconds });
    if ((step + 1) % o.evalInterval === 0 || step + 1 === o.steps) lastEval = await evaluate(step + 1);
    await nextTick();
  }
  return { step, stoppedBy: 'done', lastLoss, ...(lastEval ? { lastEval } : {}), optimizer };
}
