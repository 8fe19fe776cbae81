import { CharTokenizer, type Tokenizer, trainBpe } from '@embedlab/tokenizer';
import { tf } from '@embedlab/runtime';
import { type Checkpoint, type CheckpointFiles, checkpointToFiles, type DataSource, fingerprint } from '../io/checkpoint.js';
import { type GPTConfig, PRESETS, type PresetName, validateConfig } from '../model/config.js';
import { type FieldProblem, OptionsError } from '../schema.js';
import { TokenDataset } from '../data/data.js';
import { generateText } from '../sampling/generate.js';
import type { ReplicaPool } from './data-parallel.js';
import { checkMemory, type MemoryRun } from '../model/memory-estimate.js';
import { createModel, type MiniGPT } from '../model/model.js';
import { AdamW } from './optimizer.js';
import { type EvalEvent, type StepEvent, type TrainResult, train } from './train.js';
import { type ResolvedTrainOptions, type TrainSettings, validateTrainOptions } from './train-options.js';
import { trainedSizes } from './trained-parameters.js';

/** The options a session trains with: every setting, defaults filled in. */
export type SessionTrainOptions = ResolvedTrainOptions;

/** Fields to replace; an undefined field keeps the default. */
export type Overrides<T> = { [K in keyof T]?: T[K] | undefined };

/** `'char'`, `'bpe:SIZE'` (a BPE trained on the corpus), or a tokenizer already built. */
export type TokenizerChoice = 'char' | `bpe:${number}` | Tokenizer;

export interface NewSessionOptions {
  /** The training text, or tokens already made (`dataset`, with the `tokenizer` that made them). */
  corpus?: string;
  /** Tokens to train on instead of a text: e.g. a token directory read by offsets (`openTokenDirectory`). */
  dataset?: TokenDataset;
  /** Default `'char'`; with `dataset`, the tokenizer that made its ids. */
  tokenizer?: TokenizerChoice;
  /** The shape and training recipe to start from. Default `'names'`. */
  preset?: PresetName;
  /** Fields of the model config that replace the preset's (the vocabulary comes from the tokenizer). */
  model?: Overrides<Omit<GPTConfig, 'vocabSize'>>;
  /** Training options that replace the preset's. */
  training?: Overrides<TrainSettings>;
  /** Seeds initialisation, batches and dropout. Default 1337. */
  seed?: number;
  /** Where `corpus` came from: saved with the checkpoint so that resuming reads it again. */
  data?: DataSource;
  /**
   * Threads to share each batch across (default 1): each step becomes `workers` micro-batches of
   * `batchSize / workers` (times the accumulation given), which `run({ workers })` spreads over a
   * pool. Fixed at creation and saved, so a resumed run draws the same batches on any pool.
   */
  workers?: number;
  /**
   * Fine-tune instead of starting from random weights (nanoGPT's `init_from`): the weights and
   * tokenizer of a model already trained (a checkpoint, or a Hugging Face GPT-2 directory loaded).
   * The optimizer starts fresh and the run counts from step 0. Its shape is kept: `model` may
   * change only `dropout`, and shrink `blockSize` (a learned position table keeps its first rows,
   * as nanoGPT's `crop_block_size`); `tokenizer` and `preset` do not apply.
   */
  initFrom?: { model: MiniGPT; tokenizer: Tokenizer };
}

/** What a fine-tuned model may change of the model it starts from. */
const CHANGEABLE_ON_INIT = ['dropout', 'blockSize'];

/**
 * The config of a model fine-tuned from one of config `source` with `overrides`, refused (naming
 * the fields) where they contradict its weights: only `dropout` may change, and `blockSize` shrink.
 * What `TrainingSession.create({ initFrom })` builds, known before any weight is read.
 */
export function fineTuneConfig(source: GPTConfig, given: Overrides<Omit<GPTConfig, 'vocabSize'>>): GPTConfig {
  const overrides = definedOnly(given);
  const problems: FieldProblem[] = [];
  for (const [field, value] of Object.entries(overrides)) {
    const kept = (source as unknown as Record<string, unknown>)[field];
    if (!CHANGEABLE_ON_INIT.includes(field) && JSON.stringify(value) !== JSON.stringify(kept))
      problems.push({ path: field, rule: `the initial model's ${JSON.stringify(kept)} (only dropout may change, and blockSize shrink)`, value });
  }
  const { blockSize = source.blockSize } = overrides;
  if (source.position === 'learned' && blockSize > source.blockSize)
    problems.push({ path: 'blockSize', rule: `at most the initial model's ${source.blockSize} (its learned positions end there)`, value: blockSize });
  if (problems.length > 0) throw new OptionsError('initFrom', problems);
  return validateConfig({ ...source, dropout: overrides.dropout ?? source.dropout, blockSize });
}

/** A new model of `config` holding `source`'s weights: a learned position table cut to `config.blockSize` rows. */
function copyWeights(source: MiniGPT, config: GPTConfig, seed: number): MiniGPT {
  const model = createModel(config, seed);
  const weights = source.stateDict();
  for (const [name, variable] of model.stateDict()) {
    const from = weights.get(name)!;
    tf.tidy(() => variable.assign(name === 'transformer.wpe.weight' ? tf.slice(from, [0, 0], variable.shape) : from));
  }
  return model;
}

export interface SampleOptions {
  count: number;
  /** Tokens per sample at most. */
  tokens: number;
  /** The first sample's seed; sample i uses seed + i. */
  seed: number;
  temperature?: number;
}

export interface SessionCallbacks {
  onStep?: (event: StepEvent) => void | Promise<void>;
  onEval?: (event: EvalEvent) => void | Promise<void>;
  /**
   * Called after each evaluation and when the run ends (done or stopped) with the checkpoint's
   * files: the place to write them (a directory in Node, a download or memory in a browser).
   */
  onCheckpoint?: (files: CheckpointFiles, step: number) => void | Promise<void>;
  /** The worker pool could not start (why); the run continues on this thread. */
  onWorkersUnavailable?: (reason: string) => void | Promise<void>;
}

export interface SessionResult extends TrainResult {
  /** The median speed of the run's steps: evaluations and pauses do not skew it. */
  medianTokensPerSecond: number;
  /** The step of the last checkpoint this run handed to `onCheckpoint` (none: undefined). */
  savedStep?: number;
  /** Its validation loss (undefined for a save at the end without an evaluation). */
  savedValidationLoss?: number;
}

export type SessionStatus = 'ready' | 'running' | 'paused' | 'stopping' | 'finished';

/** A tokenizer from a choice, trained on `corpus` when it is `bpe:SIZE`. */
export function tokenizerFor(choice: TokenizerChoice, corpus: string): Tokenizer {
  if (typeof choice !== 'string') return choice;
  if (choice === 'char') return CharTokenizer.fromCorpus(corpus);
  const match = /^bpe:(\d+)$/.exec(choice);
  if (!match) throw new Error(`tokenizer must be 'char' or 'bpe:SIZE', got ${JSON.stringify(choice)}`);
  return trainBpe(corpus, { vocabSize: Number(match[1]) });
}

/** The preset's recipe with `overrides` on top, checked, every other setting the schema's default (the decay ends with the run, at a tenth of the peak). */
export function trainingOptions(preset: PresetName, overrides: Overrides<TrainSettings>, seed: number): SessionTrainOptions {
  return validateTrainOptions({ ...PRESETS[preset].training, seed, ...definedOnly(overrides) });
}

/** The same step as `batchSize` x `gradientAccumulation` sequences, in micro-batches `workers` threads can share. */
function splitAcross(options: SessionTrainOptions, workers: number): SessionTrainOptions {
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`workers must be a positive integer, got ${workers}`);
  if (workers === 1) return options;
  if (options.batchSize % workers !== 0)
    throw new RangeError(
      `a batch of ${options.batchSize} sequences does not split evenly across ${workers} workers; choose a batch size divisible by ${workers}`,
    );
  return { ...options, batchSize: options.batchSize / workers, gradientAccumulation: options.gradientAccumulation * workers };
}

/** The sizes the memory estimate needs from a session's options: each step is `gradientAccumulation` micro-batches of `batchSize`. */
function trainingRun(options: SessionTrainOptions, workers: number, config: GPTConfig): MemoryRun {
  return { mode: 'train', batchSize: options.batchSize, microBatches: options.gradientAccumulation ?? 1, workers, ...trainedSizes(config, options.train) };
}

/** `object` without its undefined fields, so that they do not replace defaults when spread. */
function definedOnly<T extends object>(object: Overrides<T>): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** The tokenizer and tokens of a new session: the corpus's, or the dataset's given with its tokenizer. */
function sessionData({ corpus, dataset, tokenizer }: NewSessionOptions): { tokenizer: Tokenizer; dataset: TokenDataset } {
  if ((corpus === undefined) === (dataset === undefined)) throw new Error('TrainingSession.create: give either corpus (a text) or dataset (tokens), not both');
  if (corpus !== undefined) {
    const chosen = tokenizerFor(tokenizer ?? 'char', corpus);
    return { tokenizer: chosen, dataset: new TokenDataset(chosen.encode(corpus, { disallowedSpecial: [] })) };
  }
  if (typeof tokenizer !== 'object') throw new Error('TrainingSession.create: a dataset needs the tokenizer that made its ids (a Tokenizer, not a name)');
  return { tokenizer, dataset: dataset! };
}

/** `data` with the fingerprint of its text, so that a resumed run can tell the text changed. */
function withFingerprint(data: DataSource | undefined, text: string): DataSource | undefined {
  return data && data.kind !== 'tokens' ? { ...data, sha256: fingerprint(text) } : data;
}

/**
 * Refuses to resume on text that changed since the run started (the same file or built-in corpus,
 * with another SHA-256): it would train on other text, and the validation split would move.
 * Checkpoints saved before fingerprints were recorded have none, and resume.
 */
function checkUnchanged(recorded: DataSource | undefined, now: DataSource | undefined): void {
  const place = (data: DataSource) => (data.kind === 'builtin' ? `the built-in ${data.name} corpus` : data.path);
  // Only the same text read again is compared: training on another file is the caller's choice.
  if (!recorded || recorded.kind === 'tokens' || !recorded.sha256 || !now || now.kind === 'tokens' || place(now) !== place(recorded)) return;
  if (now.sha256 !== recorded.sha256)
    throw new Error(
      `${place(now)} changed since this run started (SHA-256 ${recorded.sha256.slice(0, 12)}… then, ${now.sha256?.slice(0, 12)}… now): resuming would train on other text and move the validation split; restore the text, or start a new run on it`,
    );
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * One training run of a model on a corpus, the same in the CLI and in a browser worker: it
 * builds the model and tokenizer (or continues a checkpoint), trains with pause, resume and stop,
 * samples for display, and hands out checkpoint files to be written where the caller keeps them.
 */
export class TrainingSession {
  readonly model: MiniGPT;
  readonly tokenizer: Tokenizer;
  readonly dataset: TokenDataset;
  readonly options: SessionTrainOptions;
  readonly optimizer: AdamW;
  /** Where the corpus came from, if the caller said. */
  readonly data: DataSource | undefined;
  /** Steps completed so far (the next step to take). */
  step: number;
  private controller = new AbortController();
  private pausedUntil: { promise: Promise<void>; resume: () => void } | undefined;
  private running = false;
  private finished = false;

  private constructor(parts: {
    model: MiniGPT;
    tokenizer: Tokenizer;
    dataset: TokenDataset;
    options: SessionTrainOptions;
    optimizer: AdamW;
    step: number;
    data: DataSource | undefined;
  }) {
    this.model = parts.model;
    this.tokenizer = parts.tokenizer;
    this.dataset = parts.dataset;
    // Too little text for the context is said at creation, not at the first step.
    this.dataset.check(parts.model.config.blockSize);
    this.options = parts.options;
    this.optimizer = parts.optimizer;
    this.step = parts.step;
    this.data = parts.data;
  }

  /** A fresh model on `corpus` (or `dataset`), shaped by a preset and overrides. */
  static create(setup: NewSessionOptions): TrainingSession {
    const { preset = 'names', seed = 1337, initFrom } = setup;
    if (initFrom && setup.tokenizer !== undefined && setup.tokenizer !== initFrom.tokenizer)
      throw new Error("TrainingSession.create: with initFrom the tokenizer is the initial model's; give no other");
    const options = splitAcross(trainingOptions(preset, setup.training ?? {}, seed), setup.workers ?? 1);
    const { tokenizer, dataset } = sessionData(initFrom ? { ...setup, tokenizer: initFrom.tokenizer } : setup);
    const config = initFrom
      ? fineTuneConfig(initFrom.model.config, setup.model ?? {})
      : validateConfig({ ...PRESETS[preset].model, ...definedOnly(setup.model ?? {}), vocabSize: tokenizer.vocabSize });
    // A step too large for the heap (which more text would not cure), then too little text for the
    // context, is said before the model is built.
    checkMemory(config, trainingRun(options, setup.workers ?? 1, config), { label: 'TrainingSession' });
    dataset.check(config.blockSize);
    const model = initFrom ? copyWeights(initFrom.model, config, seed) : createModel(config, seed);
    const { beta1, beta2, weightDecay } = options;
    const optimizer = new AdamW({ beta1, beta2, weightDecay });
    try {
      const data = setup.corpus === undefined ? setup.data : withFingerprint(setup.data, setup.corpus);
      return new TrainingSession({ model, tokenizer, dataset, options, optimizer, step: 0, data });
    } catch (error) {
      model.dispose();
      optimizer.dispose();
      throw error;
    }
  }

  /**
   * Continues a checkpoint saved with its optimizer state on `corpus` (the text it was trained
   * on, or tokens of the checkpoint's tokenizer: `checkpoint.training.data` says where they came
   * from), with the options it was saved with, and `overrides` on top (their defaults are not
   * applied: only what is given changes). The same text source whose SHA-256 changed since the
   * run started is refused.
   */
  static resume(
    checkpoint: Checkpoint,
    corpus: string | TokenDataset,
    overrides: Overrides<TrainSettings> = {},
    data: DataSource | undefined = checkpoint.training?.data,
  ): TrainingSession {
    if (!checkpoint.optimizer || !checkpoint.training) throw new Error('the checkpoint has no optimizer state to resume from (optimizer.safetensors)');
    if (typeof corpus === 'string') {
      data = withFingerprint(data, corpus);
      checkUnchanged(checkpoint.training.data, data);
    }
    let dataset: TokenDataset;
    try {
      dataset = typeof corpus === 'string' ? new TokenDataset(checkpoint.tokenizer.encode(corpus, { disallowedSpecial: [] })) : corpus;
    } catch (error) {
      throw new Error(`the data does not fit the checkpoint's tokenizer: ${(error as Error).message}`);
    }
    const saved = validateTrainOptions(checkpoint.training.options);
    // What trains is the run's: its optimizer holds moments for those parameters alone.
    if (overrides.train !== undefined && validateTrainOptions({ ...saved, train: overrides.train }).train !== saved.train)
      throw new OptionsError('resume', [
        {
          path: 'train',
          rule: `the checkpoint's ${JSON.stringify(saved.train)} (a resumed run trains what it trained; start a new run from it with \`initFrom\` to train something else)`,
          value: overrides.train,
        },
      ]);
    const options = validateTrainOptions({ ...checkpoint.training.options, ...definedOnly(overrides) });
    checkMemory(checkpoint.model.config, trainingRun(options, 1, checkpoint.model.config), { label: 'TrainingSession' });
    return new TrainingSession({
      model: checkpoint.model,
      tokenizer: checkpoint.tokenizer,
      dataset,
      options,
      optimizer: checkpoint.optimizer,
      step: checkpoint.step,
      data,
    });
  }

  get status(): SessionStatus {
    if (this.finished) return 'finished';
    if (!this.running) return 'ready';
    if (this.controller.signal.aborted) return 'stopping';
    return this.pausedUntil ? 'paused' : 'running';
  }

  /** Holds the run after the current step until `resume()`. */
  pause(): void {
    if (this.pausedUntil || this.finished) return;
    let resume = () => {};
    const promise = new Promise<void>((resolve) => (resume = resolve));
    this.pausedUntil = { promise, resume };
  }

  resume(): void {
    this.pausedUntil?.resume();
    this.pausedUntil = undefined;
  }

  /** Ends the run after the current step (a paused run ends at once); the run still saves. */
  stop(): void {
    this.controller.abort();
    this.resume();
  }

  /**
   * Trains from `step` to `options.steps`, handing checkpoints to `onCheckpoint`: with `keep:
   * 'last'` (the default, nanoGPT's `always_save_checkpoint`) after every evaluation and at the
   * end; with `keep: 'best'` only after an evaluation whose validation loss is the lowest of this
   * run. With `workers`, the micro-batches of each step are shared across the pool's threads;
   * a pool that cannot start is reported through `onWorkersUnavailable` and the run goes on with
   * this thread alone (the same losses, more slowly).
   */
  async run(callbacks: SessionCallbacks = {}, { workers, keep = 'last' }: { workers?: ReplicaPool; keep?: 'last' | 'best' } = {}): Promise<SessionResult> {
    if (keep !== 'last' && keep !== 'best') throw new RangeError(`TrainingSession.run: keep must be 'last' or 'best', got ${JSON.stringify(keep)}`);
    if (this.running || this.finished) throw new Error('TrainingSession.run: a session runs once');
    this.running = true;
    let pool = workers;
    if (pool) {
      try {
        await pool.connect(this.model);
      } catch (error) {
        pool.close();
        pool = undefined;
        await callbacks.onWorkersUnavailable?.((error as Error).message);
      }
    }
    const speeds: number[] = [];
    let savedAt: number | undefined;
    let savedLoss: number | undefined;
    // Only weights that are all finite, after an evaluation that is finite, are ever saved: a
    // diverging run keeps its last good (or best) checkpoint.
    const save = async (step: number, validationLoss?: number) => {
      if (step === savedAt || !this.finiteWeights()) return;
      if (keep === 'best' && !(validationLoss !== undefined && (savedLoss === undefined || validationLoss < savedLoss))) return;
      savedAt = step;
      savedLoss = validationLoss;
      await callbacks.onCheckpoint?.(this.checkpointFiles(step), step);
    };
    try {
      const result = await train(
        this.model,
        this.dataset,
        { ...this.options, startStep: this.step, optimizer: this.optimizer, ...(pool ? { workers: pool } : {}) },
        {
          signal: this.controller.signal,
          onStep: async (event) => {
            this.step = event.step + 1;
            speeds.push(event.tokensPerSecond);
            await callbacks.onStep?.(event);
            if (this.pausedUntil) await this.pausedUntil.promise;
          },
          onEval: async (event) => {
            await callbacks.onEval?.(event);
            if (Number.isFinite(event.trainLoss) && Number.isFinite(event.validationLoss)) await save(event.step, event.validationLoss);
          },
        },
      );
      this.step = result.step;
      if (result.stoppedBy !== 'non-finite-loss') await save(result.step);
      const saved = savedAt === undefined ? {} : { savedStep: savedAt, ...(savedLoss === undefined ? {} : { savedValidationLoss: savedLoss }) };
      return { ...result, medianTokensPerSecond: median(speeds), ...saved };
    } finally {
      this.running = false;
      this.finished = true;
    }
  }

  /** The checkpoint directory's files: weights, tokenizer, optimizer state, the run's options and data source. */
  checkpointFiles(step = this.step): CheckpointFiles {
    return checkpointToFiles(this.model, this.tokenizer, {
      optimizer: this.optimizer,
      training: { step, options: this.options, ...(this.data ? { data: this.data } : {}) },
    });
  }

  /** Whether every weight is a finite number. */
  finiteWeights(): boolean {
    return tf.tidy(() => this.model.trainableVariables.every((variable) => tf.all(tf.isFinite(variable)).dataSync()[0] === 1));
  }

  /** Display samples: lines continuing the tokenizer's separator, each ending at the next. */
  samples(options: SampleOptions): Promise<string[]> {
    return sampleLines(this.model, this.tokenizer, options);
  }

  dispose(): void {
    this.model.dispose();
    this.optimizer.dispose();
  }
}

/**
 * Samples lines as a corpus of lines holds them: each continues the tokenizer's separator (a
 * newline, unless a char vocabulary lacks it) and stops at the next one.
 */
export async function sampleLines(model: MiniGPT, tokenizer: Tokenizer, { count, tokens, seed, temperature = 0.8 }: SampleOptions): Promise<string[]> {
  const separator = tokenizer.separator ?? '\n';
  const stop = tokenizer.encode(separator);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    let text = '';
    for await (const piece of generateText(model, tokenizer, separator, {
      maxNewTokens: tokens,
      seed: seed + i,
      temperature,
      stop: stop.length === 1 ? stop : [],
    }))
      text += piece;
    lines.push(text.endsWith(separator) ? text.slice(0, -separator.length) : text);
  }
  return lines;
}
