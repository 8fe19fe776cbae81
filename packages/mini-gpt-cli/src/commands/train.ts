import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  type DataSource,
  type EvalEvent,
  namesCorpus,
  type Overrides,
  type PositionKind,
  type PresetName,
  PRESETS,
  type SessionResult,
  type SessionTrainOptions,
  type StepEvent,
  TrainingSession,
} from '@embedlab/mini-gpt';
import {
  availableWorkers,
  loadCheckpoint,
  prepareCheckpointDirectory,
  readCorpus,
  saveCheckpoint,
  startWorkers,
  stopOnSignals,
  tokenizerFromSpec,
} from '@embedlab/mini-gpt/node';
import { SingleBar } from 'cli-progress';
import { Command, Option } from 'commander';
import { integer, number } from './arguments.js';

function workersArgument(value: string): number | 'auto' {
  return value === 'auto' ? value : integer('--workers')(value);
}

interface TrainFlags {
  data?: string;
  tokenizer: string;
  preset: PresetName;
  steps?: number;
  out: string;
  resume?: boolean;
  force?: boolean;
  batchSize?: number;
  lr?: number;
  seed: number;
  position?: PositionKind;
  untied?: boolean;
  evalInterval?: number;
  samples: number;
  workers: number | 'auto';
  json?: boolean;
}

// What a resumed run cannot change (the checkpoint fixes it) and what it applies, by flag.
const FIXED_BY_CHECKPOINT = { tokenizer: '--tokenizer', preset: '--preset', position: '--position', untied: '--untied', seed: '--seed' } as const;

function corpusOf(data: DataSource): string {
  if (data.kind === 'builtin') {
    if (data.name !== 'names')
      throw new Error(`the checkpoint was trained on a built-in corpus ${JSON.stringify(data.name)} this version does not have; give --data`);
    return namesCorpus();
  }
  if (!existsSync(data.path)) throw new Error(`the checkpoint was trained on ${data.path}, which is gone; give --data FILE|DIR`);
  return readCorpus(data.path);
}

function requestedWorkers(workers: number | 'auto'): number {
  return workers === 'auto' ? availableWorkers() : workers;
}

/**
 * How many threads a new run's batches are split for: `--workers N` exactly (the batch must
 * divide), `auto` the most of the cores that divide the batch.
 */
function batchShare(flags: TrainFlags): number {
  const batchSize = flags.batchSize ?? PRESETS[flags.preset].training.batchSize;
  if (flags.workers !== 'auto') return flags.workers;
  let share = Math.min(availableWorkers(), batchSize);
  while (batchSize % share !== 0) share--;
  return share;
}

function describe(data: DataSource): string {
  return data.kind === 'builtin' ? `the built-in ${data.name} corpus` : data.path;
}

/** A resumed session: the checkpoint's data and options, with each flag given on the command line rejected or applied, and said. */
function resumeSession(flags: TrainFlags, given: (flag: keyof TrainFlags) => boolean, say: (line: string) => void): TrainingSession {
  const fixed = Object.entries(FIXED_BY_CHECKPOINT).filter(([flag]) => given(flag as keyof TrainFlags));
  if (fixed.length > 0)
    throw new Error(
      `${fixed.map(([, name]) => name).join(', ')} cannot change when resuming: the checkpoint in ${flags.out} fixes the model, tokenizer and seed`,
    );
  const checkpoint = loadCheckpoint(flags.out, { optimizer: true });
  const recorded = checkpoint.training?.data;
  let data = recorded;
  let corpus: string;
  if (flags.data !== undefined) {
    data = { kind: 'file', path: resolve(flags.data) };
    corpus = readCorpus(flags.data);
    if (!recorded || describe(recorded) !== describe(data))
      say(`training on ${flags.data}${recorded ? ` (the checkpoint was trained on ${describe(recorded)})` : ''}`);
  } else {
    if (!recorded) throw new Error(`the checkpoint in ${flags.out} does not say what text it was trained on; give --data FILE|DIR`);
    corpus = corpusOf(recorded);
  }
  const saved = checkpoint.training?.options;
  const overrides: Overrides<SessionTrainOptions> = {};
  const apply = (flag: string, field: keyof SessionTrainOptions, value: number) => {
    say(`applying ${flag} ${value} (was ${saved?.[field] ?? 'unset'})`);
    (overrides as Record<string, number>)[field] = value;
  };
  if (given('steps') && flags.steps !== undefined && flags.steps !== saved?.steps) {
    apply('--steps', 'steps', flags.steps);
    say(`the learning-rate decay now ends at step ${flags.steps} (was ${saved?.decaySteps ?? saved?.steps})`);
    overrides.decaySteps = flags.steps;
  }
  if (given('lr') && flags.lr !== undefined) {
    apply('--lr', 'learningRate', flags.lr);
    overrides.minLearningRate = flags.lr / 10;
  }
  if (given('batchSize') && flags.batchSize !== undefined) apply('--batch-size', 'batchSize', flags.batchSize);
  if (given('evalInterval') && flags.evalInterval !== undefined) apply('--eval-interval', 'evalInterval', flags.evalInterval);
  return TrainingSession.resume(checkpoint, corpus, overrides, data);
}

async function trainAction(flags: TrainFlags, command: Command): Promise<void> {
  const json = Boolean(flags.json);
  const say = (event: Record<string, unknown>, line: string) => (json ? console.log(JSON.stringify(event)) : console.log(line));
  const info = (line: string) => say({ event: 'info', message: line }, line);
  const given = (flag: keyof TrainFlags) => command.getOptionValueSource(flag) === 'cli';
  if (!flags.resume && !flags.data && flags.preset !== 'names')
    throw new Error(`--data FILE|DIR is required for the ${flags.preset} preset (only names has a built-in corpus)`);
  const fresh = flags.resume
    ? undefined
    : {
        data: (flags.data ? { kind: 'file', path: resolve(flags.data) } : { kind: 'builtin', name: 'names' }) as DataSource,
        corpus: flags.data ? readCorpus(flags.data) : namesCorpus(),
      };
  // Checked and locked before any training, so a bad --out never costs a run.
  const lock = prepareCheckpointDirectory(flags.out, { resume: Boolean(flags.resume), force: Boolean(flags.force) });
  try {
    await trainInto(flags, fresh, given, say, info);
  } finally {
    lock.release();
  }
}

async function trainInto(
  flags: TrainFlags,
  fresh: { data: DataSource; corpus: string } | undefined,
  given: (flag: keyof TrainFlags) => boolean,
  say: (event: Record<string, unknown>, line: string) => void,
  info: (line: string) => void,
): Promise<void> {
  const json = Boolean(flags.json);
  let session: TrainingSession;
  if (!fresh) {
    session = resumeSession(flags, given, info);
    say({ event: 'resume', step: session.step, out: flags.out }, `resuming ${flags.out} at step ${session.step}`);
  } else {
    const { data, corpus } = fresh;
    if (flags.tokenizer.startsWith('bpe:')) info(`training a ${flags.tokenizer.slice(4)}-token BPE on the corpus`);
    session = TrainingSession.create({
      corpus,
      data,
      workers: batchShare(flags),
      tokenizer: tokenizerFromSpec(flags.tokenizer, corpus),
      preset: flags.preset,
      model: { position: flags.position, ...(flags.untied ? { tieWeights: false } : {}) },
      training: { steps: flags.steps, batchSize: flags.batchSize, learningRate: flags.lr, evalInterval: flags.evalInterval },
      seed: flags.seed,
    });
  }
  const { model, options } = session;
  // A resumed run keeps the micro-batches it was created with; any number of threads shares them.
  const threads = Math.min(requestedWorkers(flags.workers), options.gradientAccumulation ?? 1);
  const parts = model.parameterCount();
  const c = model.config;
  const tokens = session.dataset.train.length + session.dataset.validation.length;
  say(
    { event: 'model', parameters: parts, config: c, threads },
    `model: ${(parts.total / 1e6).toFixed(3)}M parameters, ${c.nLayer} layers, ${c.nHead} heads, ${c.nEmbd} dims, vocabulary ${c.vocabSize}, ${c.position} positions; ${tokens} tokens of data; ${threads} thread${threads === 1 ? '' : 's'}`,
  );
  const showSamples = async (when: string) => {
    if (flags.samples === 0) return;
    const lines = await session.samples({ count: flags.samples, tokens: Math.min(c.blockSize, 64), seed: 7 });
    if (lines.length > 0) say({ event: 'samples', when, samples: lines }, `samples ${when}: ${lines.map((l) => JSON.stringify(l)).join(' ')}`);
  };
  if (session.step === 0) await showSamples('before training');

  const bar =
    !json && process.stderr.isTTY
      ? new SingleBar({ format: 'step {value}/{total} [{bar}] loss {loss} | {speed} tok/s | ETA {eta_formatted}', hideCursor: true })
      : undefined;
  bar?.start(options.steps, session.step, { loss: '-', speed: '-' });
  const every = Math.max(1, Math.floor(options.steps / 20));
  const onStep = (e: StepEvent) => {
    if (json) console.log(JSON.stringify({ event: 'step', ...e }));
    else if (bar) bar.update(e.step + 1, { loss: e.loss.toFixed(4), speed: e.tokensPerSecond.toFixed(0) });
    else if ((e.step + 1) % every === 0) console.log(`step ${e.step + 1}/${options.steps}  loss ${e.loss.toFixed(4)}  ${e.tokensPerSecond.toFixed(0)} tok/s`);
  };
  const onEval = (e: EvalEvent) => {
    bar?.stop();
    say(
      { event: 'eval', ...e },
      `eval at step ${e.step}: train loss ${e.trainLoss.toFixed(4)}, validation loss ${e.validationLoss.toFixed(4)}, perplexity ${e.perplexity.toFixed(2)}`,
    );
    if (bar && e.step < options.steps) bar.start(options.steps, e.step, { loss: '-', speed: '-' });
  };
  const pool = threads > 1 ? await startWorkers(threads) : undefined;
  const stopListening = stopOnSignals(session);
  let result: SessionResult;
  try {
    result = await session.run(
      {
        onStep,
        onEval,
        onCheckpoint: (files) => saveCheckpoint(flags.out, files),
        onWorkersUnavailable: (reason) => info(`worker threads unavailable (${reason}); training on one thread`),
      },
      pool ? { workers: pool } : {},
    );
  } finally {
    stopListening();
    pool?.close();
  }
  bar?.stop();
  if (result.stoppedBy === 'non-finite-loss') {
    const kept =
      result.savedStep !== undefined
        ? `the checkpoint in ${flags.out} holds step ${result.savedStep}, the last with finite weights and evaluation`
        : flags.resume
          ? `the checkpoint in ${flags.out} is unchanged`
          : `no checkpoint was saved (no evaluation had finite numbers yet)`;
    throw new Error(`the loss became non-finite at step ${result.step}; ${kept}. Try a lower --lr`);
  }
  if (result.stoppedBy === 'aborted') {
    say(
      { event: 'interrupted', step: result.step, out: flags.out },
      `interrupted at step ${result.step}; checkpoint saved to ${flags.out} (continue with --resume)`,
    );
    process.exitCode = 130;
    return;
  }
  await showSamples('after training');
  say({ event: 'done', step: result.step, out: flags.out, validationLoss: result.lastEval?.validationLoss }, `saved ${flags.out} at step ${result.step}`);
}

export const trainCommand = new Command('train')
  .description('train a model and save a checkpoint directory')
  .option('--data <path>', 'a text file, or a directory of .txt files (default for the names preset: the built-in names corpus)')
  .option('--tokenizer <spec>', 'char, bpe:SIZE, or gpt2:FILE (.tiktoken or tokenizer.json)', 'char')
  .addOption(new Option('--preset <name>', 'model and training shape').choices(Object.keys(PRESETS)).default('names'))
  .option('--steps <n>', 'total optimizer steps', integer('--steps'))
  .requiredOption('--out <dir>', 'checkpoint directory')
  .option('--resume', 'continue the run saved in --out (on the text it was trained on, unless --data says otherwise)')
  .option('--force', 'replace a checkpoint already in --out')
  .option('--batch-size <n>', 'sequences per step', integer('--batch-size'))
  .option(
    '--lr <rate>',
    'peak learning rate',
    number('--lr', (n) => n > 0, 'a positive number'),
  )
  .option('--seed <n>', 'seed for initialisation, batches and dropout', integer('--seed', 0), 1337)
  .addOption(new Option('--position <kind>', 'position encoding').choices(['learned', 'sinusoidal', 'rope', 'alibi', 'none']))
  .option('--untied', 'give the output head its own matrix')
  .option('--eval-interval <n>', 'steps between validation and checkpoint saves', integer('--eval-interval'))
  .option('--samples <n>', 'samples to print before and after training', integer('--samples', 0), 3)
  .option('--workers <n|auto>', 'threads sharing each batch (data parallel); auto: one per core', workersArgument, 'auto')
  .option('--json', 'one JSON object per event on stdout')
  .action(trainAction);
