import { type Tensor, tf, type Variable } from '@embedlab/runtime';
import type { TokenDataset } from '../data/data.js';
import type { MiniGPT } from '../model/model.js';
import { localGradients } from './data-parallel.js';
import { checkMemory } from '../model/memory-estimate.js';
import { AdamW, clipScale } from './optimizer.js';
import { createRng } from './rng.js';
import { learningRateAt } from './schedule.js';
import { settingsOf, type TrainOptions, validateTrainOptions } from './train-options.js';
import { trainedNames, trainedSizes } from './trained-parameters.js';
import { yieldToEventLoop } from '../event-loop.js';

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
  const o = validateTrainOptions(settingsOf(options));
  const { workers, optimizer: given, startStep = 0 } = options;
  if (!Number.isSafeInteger(startStep) || startStep < 0) throw new RangeError(`train: startStep must be an integer >= 0, got ${startStep}`);
  const { blockSize } = model.config;
  dataset.check(blockSize);
  // Before any window or tensor: the step must fit each thread's heap.
  // What trains (the rest is frozen: no gradient, no moments), resolved before anything is built.
  const trainedSet = new Set(trainedNames(model.config, o.train));
  const variables = [...model.stateDict()].filter(([name]) => trainedSet.has(name)).map(([, variable]) => variable);
  checkMemory(
    model.config,
    { mode: 'train', batchSize: o.batchSize, microBatches: o.gradientAccumulation, workers: workers?.size ?? 1, ...trainedSizes(model.config, o.train) },
    { label: 'train' },
  );
  const optimizer = given ?? new AdamW({ beta1: o.beta1, beta2: o.beta2, weightDecay: o.weightDecay });
  const schedule = { learningRate: o.learningRate, minLearningRate: o.minLearningRate, warmupSteps: o.warmupSteps, decaySteps: o.decaySteps };
  const evaluate = async (step: number): Promise<EvalEvent> => {
    const trainLoss = estimateLoss(model, dataset, 'train', o.evalBatches, o.batchSize, o.seed + step);
    const validationLoss = estimateLoss(model, dataset, 'validation', o.evalBatches, o.batchSize, o.seed + step);
    const event = { step, trainLoss, validationLoss, perplexity: Math.exp(validationLoss) };
    await callbacks.onEval?.(event);
    return event;
  };

  await workers?.connect(model, variables);
  let lastLoss = Number.NaN;
  let lastEval: EvalEvent | undefined;
  let step = startStep;
  for (; step < o.steps; step++) {
    if (callbacks.signal?.aborted)
      return { step, stoppedBy: 'aborted', message: `stopped at step ${step}`, lastLoss, ...(lastEval ? { lastEval } : {}), optimizer };
    const started = performance.now();
    const micros = o.gradientAccumulation;
    const { loss, grads: summed } = workers
      ? await workers.gradients(model, dataset, step, micros, o.batchSize, o.seed, variables)
      : localGradients(model, dataset, step, micros, o.batchSize, o.seed, variables);
    const grads = new Map<Variable, Tensor>(variables.map((variable, i) => [variable, summed[i]!]));
    if (!Number.isFinite(loss)) {
      tf.dispose([...grads.values()]);
      const message = `the loss became ${loss} at step ${step}; stopped before updating, so the weights are those after step ${step - 1}`;
      return { step, stoppedBy: 'non-finite-loss', message, lastLoss: loss, ...(lastEval ? { lastEval } : {}), optimizer };
    }
    // Clipping folds into the update: the gradients are scaled as they are read.
    const { norm: gradNorm, scale } = clipScale(grads, o.gradClip);
    const learningRate = learningRateAt(step, schedule);
    optimizer.apply(grads, learningRate, scale);
    tf.dispose([...grads.values()]);
    lastLoss = loss;
    const seconds = (performance.now() - started) / 1000;
    await callbacks.onStep?.({ step, loss, learningRate, gradNorm, tokensPerSecond: (o.batchSize * blockSize * o.gradientAccumulation) / seconds });
    if ((step + 1) % o.evalInterval === 0 || step + 1 === o.steps) lastEval = await evaluate(step + 1);
    await yieldToEventLoop();
  }
  return { step, stoppedBy: 'done', lastLoss, ...(lastEval ? { lastEval } : {}), optimizer };
}
