import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkMemory,
  describeTrained,
  type EvalEvent,
  fineTuneConfig,
  type GPTConfig,
  huggingFaceConfig,
  trainedSizes,
  namesCorpus,
  PRESETS,
  type PresetName,
  type SessionResult,
  type StepEvent,
  TrainingSession,
} from '@embedlab/mini-gpt';
import {
  availableWorkers,
  hasCheckpoint,
  readCheckpointConfig,
  loadCheckpoint,
  prepareCheckpointDirectory,
  saveCheckpoint,
  startWorkers,
  stopOnSignals,
  tokenizerFromSpec,
} from '@embedlab/mini-gpt/node';
import { SingleBar } from 'cli-progress';
import { Command, Option } from 'commander';
import { integer, type LoadedModel, loadModel } from './arguments.js';
import { dryRun } from './dry-run.js';
import { describeData, openTrainingData, resumeData, type TrainingData } from './training-data.js';
import { addKnobOptions, buildExplained, checkRun, readConfigFile, refuseOnResume, resolveRun, resumeOverrides, type RunSetup } from './run-config.js';

function workersArgument(value: string): number | 'auto' {
  return value === 'auto' ? value : integer('--workers')(value);
}

interface TrainFlags {
  data?: string;
  tokenizer: string;
  preset: PresetName;
  out: string;
  resume?: boolean;
  force?: boolean;
  seed: number;
  samples: number;
  workers: number | 'auto';
  keep: 'last' | 'best';
  initFrom?: string;
  json?: boolean;
  config?: string;
  dryRun?: boolean;
  /** The model and training knobs of ./run-config.ts, by commander attribute. */
  [knob: string]: unknown;
}

function requestedWorkers(workers: number | 'auto'): number {
  return workers === 'auto' ? availableWorkers() : workers;
}

/**
 * `--workers N` past the cores is capped to them, and said on stderr: each worker is a thread
 * with a wasm instance and a replica of the model of its own (1,000 took 8 GB and did no more work).
 */
function capWorkers(flags: TrainFlags): void {
  const cores = availableWorkers();
  if (flags.workers === 'auto' || flags.workers <= cores) return;
  console.error(`--workers ${flags.workers}: using ${cores}, the cores this machine has`);
  flags.workers = cores;
}

/**
 * How many threads a new run's batches are split for: `--workers N` exactly (the batch must
 * divide), `auto` the most of the cores that divide the batch.
 */
function batchShare(flags: TrainFlags, batchSize: number): number {
  if (flags.workers !== 'auto') return flags.workers;
  let share = Math.min(availableWorkers(), batchSize);
  while (batchSize % share !== 0) share--;
  return share;
}

/** A resumed session: the checkpoint's data and options, with each flag given on the command line rejected or applied, and said. */
function resumeSession(flags: TrainFlags, setup: RunSetup, say: (line: string) => void): { session: TrainingSession; data: TrainingData } {
  refuseOnResume(setup, flags.out);
  const checkpoint = loadCheckpoint(flags.out, { optimizer: true });
  const recorded = checkpoint.training?.data;
  const data = resumeData(flags.data, recorded, checkpoint.tokenizer);
  if (flags.data !== undefined && (!recorded || describeData(recorded) !== describeData(data.source)))
    say(`training on ${flags.data}${recorded ? ` (the checkpoint was trained on ${describeData(recorded)})` : ''}`);
  const overrides = resumeOverrides(setup, checkpoint.training?.options, say);
  return { session: TrainingSession.resume(checkpoint, data.tokens?.dataset ?? data.corpus!, overrides, data.source), data };
}

async function trainAction(flags: TrainFlags, command: Command): Promise<void> {
  const json = Boolean(flags.json);
  const say = (event: Record<string, unknown>, line: string) => (json ? console.log(JSON.stringify(event)) : console.log(line));
  const info = (line: string) => say({ event: 'info', message: line }, line);
  const given = (flag: string) => command.getOptionValueSource(flag) === 'cli';
  if (flags.out === undefined && !(flags.dryRun && !flags.resume)) throw new Error(`required option '--out <dir>' not specified`);
  capWorkers(flags);
  const setup = resolveRun(flags, given, flags.config === undefined ? undefined : readConfigFile(flags.config));
  // Bad settings are said before any text is read or model built.
  const checked = flags.resume ? undefined : checkRun(setup);
  if (!flags.resume && !flags.data && setup.preset !== 'names')
    throw new Error(`--data FILE|DIR is required for the ${setup.preset} preset (only names has a built-in corpus)`);
  if (flags.initFrom !== undefined && setup.sources.has('tokenizer'))
    throw new Error(`${setup.sources.get('tokenizer')} cannot be given with --init-from: the initial model's tokenizer reads the data`);
  // A fine-tune is planned from the initial model's config alone: its shape against the flags, what
  // trains and the memory a step needs are checked before any weight is read.
  const tuned = flags.initFrom === undefined || !checked ? undefined : planFineTune(setup, checked, flags.initFrom);
  if (flags.dryRun && tuned) {
    const { vocabSize, ...model } = tuned;
    return dryRun(
      setup,
      { checked: { ...checked!, model }, vocabSize, workers: batchShare(flags, checked!.training.batchSize), initFrom: flags.initFrom! },
      say,
    );
  }
  const initial = flags.initFrom === undefined ? undefined : loadInitial(flags.initFrom);
  const fresh: TrainingData | undefined = flags.resume
    ? undefined
    : initial
      ? flags.data
        ? resumeData(flags.data, undefined, initial.tokenizer)
        : { source: { kind: 'builtin', name: 'names' }, corpus: namesCorpus() }
      : flags.data
        ? openTrainingData(flags.data, { given: setup.sources.has('tokenizer'), spec: setup.tokenizer, make: () => tokenizerFromSpec(setup.tokenizer, '') })
        : { source: { kind: 'builtin', name: 'names' }, corpus: namesCorpus() };
  try {
    if (flags.dryRun) {
      const vocabSize = () => (fresh?.tokens ? fresh.tokens.tokenizer : tokenizerFromSpec(setup.tokenizer, fresh!.corpus!)).vocabSize;
      return dryRun(
        setup,
        checked && fresh ? { checked, vocabSize: vocabSize(), workers: batchShare(flags, checked.training.batchSize) } : { out: flags.out },
        say,
      );
    }
    // Checked and locked before any training, so a bad --out never costs a run.
    const lock = prepareCheckpointDirectory(flags.out, { resume: Boolean(flags.resume), force: Boolean(flags.force) });
    try {
      await trainInto(flags, setup, checked, fresh, say, info, initial);
    } catch (error) {
      // A run refused or failed before its first save leaves no claim on a directory it made.
      lock.abandon();
      throw error;
    }
    lock.release();
  } finally {
    fresh?.tokens?.close();
    initial?.model.dispose();
  }
}

/** The largest config.json read (GPT-2's is under 1 kB). */
const MAX_CONFIG_JSON_BYTES = 1 << 20;

/** The config of the model `--init-from DIR` holds, read without its weights. */
function initialConfig(dir: string): GPTConfig {
  const configJson = join(dir, 'config.json');
  if (existsSync(configJson)) {
    const { size } = statSync(configJson);
    if (size > MAX_CONFIG_JSON_BYTES) throw new Error(`${configJson} has ${size} bytes, more than the ${MAX_CONFIG_JSON_BYTES} a config.json may have`);
    return huggingFaceConfig(readFileSync(configJson, 'utf8'));
  }
  if (hasCheckpoint(dir)) return readCheckpointConfig(dir);
  throw new Error(`--init-from ${dir} is neither a minigpt checkpoint nor a Hugging Face GPT-2 directory (no model.safetensors with config.json)`);
}

/** The fine-tuned model's config, checked with what trains and the memory of a step, before any weight is read. */
function planFineTune(setup: RunSetup, checked: NonNullable<ReturnType<typeof checkRun>>, dir: string): GPTConfig {
  const given = { ...checked.model, ...checked.training };
  const config = buildExplained(setup, given, () => fineTuneConfig(initialConfig(dir), setup.model));
  buildExplained(setup, given, () =>
    checkMemory(
      config,
      {
        mode: 'train',
        batchSize: checked.training.batchSize,
        microBatches: checked.training.gradientAccumulation,
        ...trainedSizes(config, checked.training.train),
      },
      { label: 'train' },
    ),
  );
  return config;
}

/** The model and tokenizer `--init-from DIR` starts from: a minigpt checkpoint, or a Hugging Face GPT-2 directory. */
function loadInitial(dir: string): LoadedModel {
  // A Hugging Face directory has a config.json beside its weights; a minigpt checkpoint keeps its config in them.
  if (existsSync(join(dir, 'config.json'))) return loadModel({ hf: dir });
  if (hasCheckpoint(dir)) return loadModel({ checkpoint: dir });
  throw new Error(`--init-from ${dir} is neither a minigpt checkpoint nor a Hugging Face GPT-2 directory (no model.safetensors with config.json)`);
}

async function trainInto(
  flags: TrainFlags,
  setup: RunSetup,
  checked: ReturnType<typeof checkRun> | undefined,
  fresh: TrainingData | undefined,
  say: (event: Record<string, unknown>, line: string) => void,
  info: (line: string) => void,
  initial?: LoadedModel,
): Promise<void> {
  const json = Boolean(flags.json);
  let session: TrainingSession;
  let resumedData: TrainingData | undefined;
  if (!fresh || !checked) {
    ({ session, data: resumedData } = resumeSession(flags, setup, info));
    say({ event: 'resume', step: session.step, out: flags.out }, `resuming ${flags.out} at step ${session.step}`);
  } else {
    if (!initial && !fresh.tokens && setup.tokenizer.startsWith('bpe:')) info(`training a ${setup.tokenizer.slice(4)}-token BPE on the corpus`);
    const text = fresh.tokens ? undefined : fresh.corpus;
    if (initial) info(`starting from ${initial.label} (step ${initial.step}): its weights and tokenizer, a fresh optimizer, step 0`);
    session = buildExplained(setup, { ...checked.model, ...checked.training }, () =>
      TrainingSession.create({
        ...(fresh.tokens ? { dataset: fresh.tokens.dataset } : { corpus: text! }),
        data: fresh.source,
        workers: batchShare(flags, checked.training.batchSize),
        ...(initial
          ? { initFrom: { model: initial.model, tokenizer: initial.tokenizer } }
          : { tokenizer: fresh.tokens ? fresh.tokens.tokenizer : tokenizerFromSpec(setup.tokenizer, text!) }),
        preset: setup.preset,
        model: setup.model,
        training: setup.training,
        seed: setup.seed,
      }),
    );
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
  if (options.train !== 'all') say({ event: 'train', train: options.train }, `training ${describeTrained(c, options.train)}`);
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
      { keep: flags.keep, ...(pool ? { workers: pool } : {}) },
    );
  } finally {
    stopListening();
    pool?.close();
    resumedData?.tokens?.close();
  }
  bar?.stop();
  if (result.stoppedBy === 'non-finite-loss') {
    const kept =
      result.savedStep !== undefined
        ? flags.keep === 'best'
          ? `the checkpoint in ${flags.out} holds step ${result.savedStep}, the best validation loss of this run (${result.savedValidationLoss?.toFixed(4)})`
          : `the checkpoint in ${flags.out} holds step ${result.savedStep}, the last with finite weights and evaluation`
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
  .option(
    '--data <path>',
    "a text file, a directory of .txt files, or a token directory ('minigpt prepare', or nanoGPT's train.bin/val.bin); default for the names preset: the built-in names corpus",
  )
  .option('--tokenizer <spec>', 'char, bpe:SIZE, or gpt2:FILE (.tiktoken or tokenizer.json)', 'char')
  .addOption(new Option('--preset <name>', 'model and training shape').choices(Object.keys(PRESETS)).default('names'))
  .option('--out <dir>', 'checkpoint directory (required, but with --dry-run)')
  .option('--resume', 'continue the run saved in --out (on the text it was trained on, unless --data says otherwise)')
  .addOption(new Option('--force', 'replace a checkpoint already in --out').conflicts('resume'))
  .addOption(
    new Option(
      '--init-from <dir>',
      "fine-tune: start from a minigpt checkpoint's or a Hugging Face GPT-2 directory's weights and tokenizer (a fresh optimizer, step 0; --dropout may change, --block-size shrink)",
    ).conflicts('resume'),
  )
  .option('--config <file>', 'a JSON file of settings: { "preset", "tokenizer", "seed", "model": {...}, "training": {...} }; flags override it')
  .option('--dry-run', 'print the settings the run would use, every field and where it came from, and stop')
  .option('--seed <n>', 'seed for initialisation, batches and dropout', integer('--seed', 0), 1337)
  .option('--samples <n>', 'samples to print before and after training', integer('--samples', 0), 3)
  .option('--workers <n|auto>', 'threads sharing each batch (data parallel); auto: one per core', workersArgument, 'auto')
  .addOption(
    new Option('--keep <which>', 'the checkpoint kept: last (after every evaluation, as nanoGPT) or best (the lowest validation loss of this run)')
      .choices(['last', 'best'])
      .default('last'),
  )
  .option('--json', 'one JSON object per event on stdout');
addKnobOptions(trainCommand).action(trainAction);
