// A training run's options, defined once: each field's type, default and range in one schema that
// `train`, `TrainingSession`, checkpoints and the CLI all read.
import * as v from 'valibot';
import { field, fieldIssue, nonNegativeInteger, nonNegativeNumber, parseWith, positiveInteger } from '../schema.js';
import type { ReplicaPool } from './data-parallel.js';
import { type AdamW, AdamWOptionsSchema } from './optimizer.js';
import { TRAIN_SPEC_HELP } from './trained-parameters.js';

const trainPart = field<string>((x) => typeof x === 'string' && x.trim() !== '' && !x.includes(','), 'a part of the spec (no comma)');

/**
 * The settings of a run (what checkpoints save and a config file sets): nanoGPT's defaults for
 * all but `steps` and `batchSize`. `minLearningRate` defaults to a tenth of `learningRate` and
 * `decaySteps` to `steps`.
 */
export const TrainSettingsSchema = v.pipe(
  v.strictObject({
    // Total optimizer steps of the run (a resumed run counts from `startStep`).
    steps: positiveInteger,
    batchSize: positiveInteger,
    // Peak learning rate. Default 6e-4 (nanoGPT's).
    learningRate: v.optional(nonNegativeNumber, 6e-4),
    // Floor of the cosine decay. Default learningRate / 10.
    minLearningRate: v.optional(nonNegativeNumber),
    warmupSteps: v.optional(nonNegativeInteger, 0),
    // Step where the decay reaches the floor. Default `steps`.
    decaySteps: v.optional(positiveInteger),
    // AdamW's own fields and defaults.
    weightDecay: AdamWOptionsSchema.entries.weightDecay,
    beta1: AdamWOptionsSchema.entries.beta1,
    beta2: AdamWOptionsSchema.entries.beta2,
    // Clip gradients to this global L2 norm; 0 disables. Default 1.
    gradClip: v.optional(
      field<number>((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0, 'a non-negative number (0 disables clipping)'),
      1,
    ),
    // Micro-batches whose gradients are averaged into one step. Default 1.
    gradientAccumulation: v.optional(positiveInteger, 1),
    // Validate every this many steps (and at the end). Default 100.
    evalInterval: v.optional(positiveInteger, 100),
    // Batches averaged per validation estimate. Default 10.
    evalBatches: v.optional(positiveInteger, 10),
    // Seeds batches and dropout: the same seed gives the same run. Default 1337.
    seed: v.optional(nonNegativeInteger, 1337),
    // What trains; the rest is frozen (trained-parameters.ts). A list joins with commas. Default 'all'.
    train: v.optional(
      v.pipe(
        v.union([field<string>((x) => typeof x === 'string' && x.trim() !== '', TRAIN_SPEC_HELP), v.pipe(v.array(trainPart), v.minLength(1))]),
        v.transform((spec) => (Array.isArray(spec) ? spec.join(',') : spec)),
      ),
      'all',
    ),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const { minLearningRate, learningRate } = dataset.value;
    if (minLearningRate !== undefined && minLearningRate > learningRate) {
      fieldIssue(addIssue, dataset.value as Record<string, unknown>, 'minLearningRate', `a number in [0, learningRate = ${learningRate}]`);
      fieldIssue(addIssue, dataset.value as Record<string, unknown>, 'learningRate', `at least minLearningRate (${minLearningRate})`);
    }
  }),
  v.transform((settings) => ({
    ...settings,
    minLearningRate: settings.minLearningRate ?? settings.learningRate / 10,
    decaySteps: settings.decaySteps ?? settings.steps,
  })),
);

/** A run's settings as given (all but `steps` and `batchSize` may be left out). */
export type TrainSettings = v.InferInput<typeof TrainSettingsSchema>;
/** Every setting a run uses, defaults filled in. */
export type ResolvedTrainOptions = v.InferOutput<typeof TrainSettingsSchema>;

/** `train`'s options: the settings, and what a run is given rather than set. */
export interface TrainOptions extends TrainSettings {
  /**
   * Threads that share the micro-batches of each step (`startWorkers(n)` from
   * `@embedlab/mini-gpt/node`, or `connectReplicas` over Web Workers): micro-batch m runs on
   * thread m mod n, and the losses are those of one thread, within float rounding.
   */
  workers?: ReplicaPool | undefined;
  /** Continue a run: the first step to take, and the optimizer that took the earlier ones. */
  startStep?: number | undefined;
  optimizer?: AdamW | undefined;
}

/**
 * The settings of `options` checked once, before anything is built, with every default filled
 * in; an error names the field, the value and the rule (an `OptionsError`).
 */
export function validateTrainOptions(options: TrainSettings): ResolvedTrainOptions {
  return parseWith(TrainSettingsSchema, options, 'train');
}

/** The settings part of `train`'s options (what is saved and validated), without the pool, start and optimizer. */
export function settingsOf({ workers: _workers, startStep: _startStep, optimizer: _optimizer, ...settings }: TrainOptions): TrainSettings {
  return settings;
}
