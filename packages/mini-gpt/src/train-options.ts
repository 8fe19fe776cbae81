import type { TrainOptions } from './train.js';

/** Every option `train` uses, with the defaults it fills in for those not given. */
export type ResolvedTrainOptions = Required<Omit<TrainOptions, 'optimizer' | 'workers' | 'startStep'>>;

/** The options with `train`'s defaults filled in (nanoGPT's AdamW betas, clipping at 1, the floor at a tenth of the peak). */
export function withTrainDefaults(options: Omit<TrainOptions, 'optimizer' | 'workers' | 'startStep'>): ResolvedTrainOptions {
  const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  return {
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
    ...given,
  } as ResolvedTrainOptions;
}

const shown = (value: unknown) => (typeof value === 'number' ? String(value) : JSON.stringify(value));

function fail(field: string, value: unknown, rule: string): never {
  throw new RangeError(`train: ${field} must be ${rule}, got ${shown(value)}`);
}

/**
 * Checks training options once, before anything is built: each error names the field, the value
 * and the rule. Fields left undefined take `train`'s defaults and are not checked.
 */
export function validateTrainOptions<T extends TrainOptions>(options: T): T {
  if (typeof options !== 'object' || options === null) throw new TypeError('train: options must be an object');
  const o = options as unknown as Record<string, unknown>;
  const integer = (field: keyof TrainOptions, min: number, required = false) => {
    const value = o[field];
    if (value === undefined && !required) return;
    if (!Number.isInteger(value) || (value as number) < min) fail(field, value, `an integer >= ${min}`);
  };
  const number = (field: keyof TrainOptions, check: (n: number) => boolean, rule: string, required = false) => {
    const value = o[field];
    if (value === undefined && !required) return;
    if (typeof value !== 'number' || !Number.isFinite(value) || !check(value)) fail(field, value, rule);
  };
  integer('steps', 1, true);
  integer('batchSize', 1, true);
  number('learningRate', (n) => n >= 0, 'a non-negative number', true);
  number('minLearningRate', (n) => n >= 0 && n <= options.learningRate, `a number in [0, learningRate = ${options.learningRate}]`);
  integer('warmupSteps', 0);
  integer('decaySteps', 1);
  number('weightDecay', (n) => n >= 0, 'a non-negative number');
  for (const beta of ['beta1', 'beta2'] as const) number(beta, (n) => n >= 0 && n < 1, 'a number in [0, 1)');
  number('gradClip', (n) => n >= 0, 'a non-negative number (0 disables clipping)');
  integer('gradientAccumulation', 1);
  integer('evalInterval', 1);
  integer('evalBatches', 1);
  integer('seed', 0);
  integer('startStep', 0);
  return options;
}
