#!/usr/bin/env node
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { ready, tf } from '@embedlab/runtime';
import { CharTokenizer, fromGpt2Files, fromHuggingFace, fromTiktoken, GPT2_SPECIAL_TOKENS, type Tokenizer, trainBpe } from '@embedlab/tokenizer';
import { SingleBar } from 'cli-progress';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { checkpointToFiles, loadHuggingFaceGPT2 } from './checkpoint.js';
import { type GPTConfig, PRESETS, type PresetName } from './config.js';
import { namesCorpus } from './corpus.js';
import { TokenDataset } from './data.js';
import { generateText } from './generate.js';
import { createModel, type MiniGPT } from './model.js';
import { loadCheckpoint, saveCheckpoint } from './node.js';
import { AdamW } from './optimizer.js';
import { type EvalEvent, type StepEvent, type TrainOptions, train } from './train.js';

class UserError extends Error {}

function integer(name: string, min = 1) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
    return n;
  };
}

function number(name: string, check: (n: number) => boolean, allowed: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || !check(n)) throw new InvalidArgumentError(`${name} must be ${allowed}, got ${JSON.stringify(value)}`);
    return n;
  };
}

function readText(path: string): string {
  try {
    if (statSync(path).isDirectory()) {
      const files = readdirSync(path).filter((f) => f.endsWith('.txt')).sort();
      if (files.length === 0) throw new UserError(`${path} has no .txt files`);
      return files.map((f) => readFileSync(join(path, f), 'utf8')).join('\n');
    }
    return readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError((error as NodeJS.ErrnoException).code === 'ENOENT' ? `no such file or directory: ${path}` : `cannot read ${path}: ${(error as Error).message}`);
  }
}

/** `char`, `bpe:SIZE` (trained on the corpus) or `gpt2:FILE` (a .tiktoken rank file or a tokenizer.json). */
function buildTokenizer(spec: string, corpus: string, log: (line: string) => void): Tokenizer {
  if (spec === 'char') return CharTokenizer.fromCorpus(corpus);
  const [kind, argument] = [spec.slice(0, spec.indexOf(':')), spec.slice(spec.indexOf(':') + 1)];
  if (kind === 'bpe') {
    const size = Number(argument);
    if (!Number.isInteger(size)) throw new UserError(`--tokenizer bpe:SIZE needs an integer size, got ${JSON.stringify(argument)}`);
    log(`training a ${size}-token BPE on the corpus`);
    return trainBpe(corpus, { vocabSize: size });
  }
  if (kind === 'gpt2') {
    const text = readText(argument);
    try {
      return extname(argument) === '.json' ? fromHuggingFace(text) : fromTiktoken(text, { specialTokens: GPT2_SPECIAL_TOKENS });
    } catch (error) {
      throw new UserError(`${argument}: ${(error as Error).message}`);
    }
  }
  throw new UserError(`--tokenizer must be char, bpe:SIZE or gpt2:FILE, got ${JSON.stringify(spec)}`);
}

async function sampleLines(model: MiniGPT, tokenizer: Tokenizer, prompt: string, count: number, tokens: number, seed: number): Promise<string[]> {
  const newline = tokenizer.encode('\n').length === 1 ? tokenizer.encode('\n') : [];
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    let text = '';
    for await (const piece of generateText(model, tokenizer, prompt, { maxNewTokens: tokens, seed: seed + i, temperature: 0.8, stop: newline })) text += piece;
    lines.push(text.replace(/\n$/, ''));
  }
  return lines;
}

interface TrainFlags {
  data?: string;
  tokenizer: string;
  preset: PresetName;
  steps?: number;
  out: string;
  resume?: boolean;
  batchSize?: number;
  lr?: number;
  seed: number;
  position?: GPTConfig['position'];
  untied?: boolean;
  evalInterval?: number;
  samples: number;
  json?: boolean;
}

async function trainCommand(flags: TrainFlags): Promise<void> {
  const json = Boolean(flags.json);
  const say = (event: Record<string, unknown>, line: string) => (json ? console.log(JSON.stringify(event)) : console.log(line));
  const preset = PRESETS[flags.preset];
  let model: MiniGPT;
  let tokenizer: Tokenizer;
  let options: TrainOptions;
  let startStep = 0;
  let optimizer: AdamW;
  const corpus = flags.data ? readText(flags.data) : flags.preset === 'names' ? namesCorpus() : undefined;
  if (corpus === undefined) throw new UserError(`--data FILE|DIR is required for the ${flags.preset} preset (only names has a built-in corpus)`);
  if (flags.resume) {
    const checkpoint = loadCheckpoint(flags.out, { optimizer: true });
    if (!checkpoint.optimizer || !checkpoint.training) throw new UserError(`${flags.out} has no optimizer state to resume from (optimizer.safetensors)`);
    ({ model, tokenizer } = checkpoint);
    optimizer = checkpoint.optimizer;
    startStep = checkpoint.step;
    options = { ...(checkpoint.training.options as TrainOptions), ...(flags.steps ? { steps: flags.steps } : {}) };
    say({ event: 'resume', step: startStep, out: flags.out }, `resuming ${flags.out} at step ${startStep}`);
  } else {
    tokenizer = buildTokenizer(flags.tokenizer, corpus, (line) => say({ event: 'info', message: line }, line));
    const config: GPTConfig = { ...preset.model, vocabSize: tokenizer.vocabSize, ...(flags.position ? { position: flags.position } : {}), ...(flags.untied ? { tieWeights: false } : {}) };
    model = createModel(config, flags.seed);
    const { training } = preset;
    options = {
      steps: flags.steps ?? training.steps,
      batchSize: flags.batchSize ?? training.batchSize,
      learningRate: flags.lr ?? training.learningRate,
      minLearningRate: (flags.lr ?? training.learningRate) / 10,
      warmupSteps: training.warmupSteps,
      weightDecay: training.weightDecay,
      evalInterval: flags.evalInterval ?? training.evalInterval,
      seed: flags.seed,
    };
    options.decaySteps = options.steps;
    optimizer = new AdamW({ weightDecay: training.weightDecay });
  }
  let ids: number[];
  try {
    ids = tokenizer.encode(corpus, { disallowedSpecial: [] });
  } catch (error) {
    throw new UserError(`the data does not fit the checkpoint's tokenizer: ${(error as Error).message}`);
  }
  const dataset = new TokenDataset(ids);
  const parts = model.parameterCount();
  say({ event: 'model', parameters: parts, config: model.config }, `model: ${(parts.total / 1e6).toFixed(3)}M parameters, ${model.config.nLayer} layers, ${model.config.nHead} heads, ${model.config.nEmbd} dims, vocabulary ${model.config.vocabSize}, ${model.config.position} positions; ${ids.length} tokens of data`);
  const prompt = '\n';
  const showSamples = async (when: string) => {
    if (flags.samples === 0 || tokenizer.encode(prompt).length === 0) return;
    const lines = await sampleLines(model, tokenizer, prompt, flags.samples, Math.min(model.config.blockSize, 64), 7);
    say({ event: 'samples', when, samples: lines }, `samples ${when}: ${lines.map((l) => JSON.stringify(l)).join(' ')}`);
  };
  if (startStep === 0) await showSamples('before training');

  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  const save = (step: number) => saveCheckpoint(flags.out, checkpointToFiles(model, tokenizer, { optimizer, training: { step, options } }));

  const bar = !json && process.stderr.isTTY ? new SingleBar({ format: 'step {value}/{total} [{bar}] loss {loss} | {speed} tok/s | ETA {eta_formatted}', hideCursor: true }) : undefined;
  bar?.start(options.steps, startStep, { loss: '-', speed: '-' });
  const every = Math.max(1, Math.floor(options.steps / 20));
  const onStep = (e: StepEvent) => {
    if (json) console.log(JSON.stringify({ event: 'step', ...e }));
    else if (bar) bar.update(e.step + 1, { loss: e.loss.toFixed(4), speed: e.tokensPerSecond.toFixed(0) });
    else if ((e.step + 1) % every === 0) console.log(`step ${e.step + 1}/${options.steps}  loss ${e.loss.toFixed(4)}  ${e.tokensPerSecond.toFixed(0)} tok/s`);
  };
  const onEval = (e: EvalEvent) => {
    bar?.stop();
    say({ event: 'eval', ...e }, `eval at step ${e.step}: train loss ${e.trainLoss.toFixed(4)}, validation loss ${e.validationLoss.toFixed(4)}, perplexity ${e.perplexity.toFixed(2)}`);
    if (bar && e.step < options.steps) bar.start(options.steps, e.step, { loss: '-', speed: '-' });
  };
  const onEvalAndSave = (e: EvalEvent) => {
    onEval(e);
    save(e.step);
  };
  const result = await train(model, dataset, { ...options, startStep, optimizer }, { onStep, onEval: onEvalAndSave, signal: controller.signal });
  process.off('SIGINT', onSigint);
  bar?.stop();
  save(result.step);
  if (result.stoppedBy === 'non-finite-loss') {
    throw new UserError(`${result.message}; the checkpoint in ${flags.out} holds the weights from before it`);
  }
  if (result.stoppedBy === 'aborted') {
    say({ event: 'interrupted', step: result.step, out: flags.out }, `interrupted at step ${result.step}; checkpoint saved to ${flags.out} (continue with --resume)`);
    process.exitCode = 130;
    return;
  }
  await showSamples('after training');
  say({ event: 'done', step: result.step, out: flags.out, validationLoss: result.lastEval?.validationLoss }, `saved ${flags.out} at step ${result.step}`);
}

interface ModelSource {
  checkpoint?: string;
  hf?: string;
}

/**
 * A checkpoint directory of this package, or a Hugging Face GPT-2 directory (`model.safetensors`,
 * `config.json`, and `tokenizer.json` or `vocab.json` + `merges.txt`), as `gpt2` is published.
 */
function loadModel(source: ModelSource): { model: MiniGPT; tokenizer: Tokenizer; step: number; label: string } {
  if ((source.checkpoint === undefined) === (source.hf === undefined)) throw new UserError('give either --checkpoint DIR or --hf DIR');
  if (source.checkpoint !== undefined) return { ...loadCheckpoint(source.checkpoint), label: `checkpoint ${source.checkpoint}` };
  const dir = source.hf!;
  const file = (name: string) => join(dir, name);
  for (const name of ['model.safetensors', 'config.json']) if (!existsSync(file(name))) throw new UserError(`${dir} is not a Hugging Face GPT-2 directory: ${name} is missing`);
  let tokenizer: Tokenizer;
  if (existsSync(file('tokenizer.json'))) tokenizer = fromHuggingFace(readFileSync(file('tokenizer.json'), 'utf8'));
  else if (existsSync(file('vocab.json')) && existsSync(file('merges.txt'))) tokenizer = fromGpt2Files(readFileSync(file('vocab.json'), 'utf8'), readFileSync(file('merges.txt'), 'utf8'));
  else throw new UserError(`${dir} has no tokenizer: tokenizer.json, or vocab.json and merges.txt, are needed`);
  const model = loadHuggingFaceGPT2(new Uint8Array(readFileSync(file('model.safetensors'))), readFileSync(file('config.json'), 'utf8'));
  if (tokenizer.vocabSize > model.config.vocabSize) throw new UserError(`${dir}: the tokenizer has ${tokenizer.vocabSize} tokens but the model only ${model.config.vocabSize}`);
  return { model, tokenizer, step: 0, label: `Hugging Face model ${dir}` };
}

async function sampleCommand(flags: ModelSource & { prompt: string; tokens: number; temperature: number; topK?: number; topP?: number; minP?: number; seed: number; cache: boolean; extrapolate?: boolean }): Promise<void> {
  const { model, tokenizer } = loadModel(flags);
  process.stdout.write(flags.prompt);
  const options = {
    maxNewTokens: flags.tokens,
    temperature: flags.temperature,
    seed: flags.seed,
    cache: flags.cache,
    allowExtrapolation: Boolean(flags.extrapolate),
    ...(flags.topK ? { topK: flags.topK } : {}),
    ...(flags.topP ? { topP: flags.topP } : {}),
    ...(flags.minP ? { minP: flags.minP } : {}),
  };
  for await (const piece of generateText(model, tokenizer, flags.prompt, options)) process.stdout.write(piece);
  process.stdout.write('\n');
}

function evalCommand(flags: ModelSource & { data: string; maxTokens: number }): void {
  const { model, tokenizer } = loadModel(flags);
  const ids = tokenizer.encode(readText(flags.data), { disallowedSpecial: [] }).slice(0, flags.maxTokens + 1);
  const { blockSize } = model.config;
  if (ids.length < blockSize + 1) throw new UserError(`${flags.data} has ${ids.length} tokens, fewer than blockSize + 1 = ${blockSize + 1}`);
  // Consecutive, non-overlapping windows: every token predicted once, deterministically.
  let total = 0;
  let count = 0;
  for (let start = 0; start + blockSize < ids.length; start += blockSize) {
    const x = [ids.slice(start, start + blockSize)];
    const y = [ids.slice(start + 1, start + blockSize + 1)];
    total += tf.tidy(() => model.loss(x, y).dataSync()[0]!) * blockSize;
    count += blockSize;
  }
  const loss = total / count;
  console.log(`loss ${loss.toFixed(4)}  perplexity ${Math.exp(loss).toFixed(2)}  (${count} tokens of ${flags.data})`);
}

function inspectCommand(flags: ModelSource): void {
  const { model, tokenizer, step, label } = loadModel(flags);
  const parts = model.parameterCount();
  const rows: [string, number][] = [
    ['token embedding (wte)', parts.tokenEmbedding],
    ['positions (wpe)', parts.positions],
    ['attention', parts.attention],
    ['MLP', parts.mlp],
    ['LayerNorms', parts.norms],
    ['output head (lm_head)', parts.head],
    ['total', parts.total],
    ['saved by weight tying', parts.savedByTying],
  ];
  console.log(`${label}, step ${step}`);
  for (const [label, count] of rows) console.log(`  ${label.padEnd(24)} ${count.toLocaleString('en-US').padStart(14)}`);
  console.log(`config ${JSON.stringify(model.config)}`);
  const specials = [...tokenizer.specialTokens.keys()];
  console.log(`tokenizer ${tokenizer.kind}, ${tokenizer.vocabSize} tokens${specials.length ? `, special ${specials.join(' ')}` : ''}`);
}

const program = new Command()
  .name('minigpt')
  .description('Train, sample, evaluate and inspect small GPTs on TensorFlow.js WASM')
  .addOption(new Option('--backend <name>', 'tfjs backend').choices(['wasm', 'cpu']).default('wasm'))
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(`minigpt: ${text.replace(/^error: /, '').trim()} (see --help)\n`) })
  .hook('preAction', async (command) => {
    await ready({ backend: command.opts().backend });
  });

program
  .command('train')
  .description('train a model and save a checkpoint directory')
  .option('--data <path>', 'a text file, or a directory of .txt files (default for the names preset: the built-in names corpus)')
  .option('--tokenizer <spec>', 'char, bpe:SIZE, or gpt2:FILE (.tiktoken or tokenizer.json)', 'char')
  .addOption(new Option('--preset <name>', 'model and training shape').choices(Object.keys(PRESETS)).default('names'))
  .option('--steps <n>', 'total optimizer steps', integer('--steps'))
  .requiredOption('--out <dir>', 'checkpoint directory')
  .option('--resume', 'continue the run saved in --out')
  .option('--batch-size <n>', 'sequences per step', integer('--batch-size'))
  .option('--lr <rate>', 'peak learning rate', number('--lr', (n) => n > 0, 'a positive number'))
  .option('--seed <n>', 'seed for initialisation, batches and dropout', integer('--seed', 0), 1337)
  .addOption(new Option('--position <kind>', 'position encoding').choices(['learned', 'sinusoidal', 'rope', 'alibi', 'none']))
  .option('--untied', 'give the output head its own matrix')
  .option('--eval-interval <n>', 'steps between validation and checkpoint saves', integer('--eval-interval'))
  .option('--samples <n>', 'samples to print before and after training', integer('--samples', 0), 3)
  .option('--json', 'one JSON object per event on stdout')
  .action(trainCommand);

program
  .command('sample')
  .description('generate text from a checkpoint (or a Hugging Face GPT-2 directory)')
  .option('--checkpoint <dir>', 'checkpoint directory')
  .option('--hf <dir>', 'Hugging Face GPT-2 directory: model.safetensors, config.json, tokenizer.json (or vocab.json + merges.txt)')
  .option('--prompt <text>', 'text to continue', '\n')
  .option('--tokens <n>', 'tokens to generate', integer('--tokens'), 200)
  .option('--temperature <t>', 'sampling temperature (0 = greedy)', number('--temperature', (n) => n >= 0, 'a number >= 0'), 0.8)
  .option('--top-k <k>', 'keep the k most likely tokens', integer('--top-k'))
  .option('--top-p <p>', 'nucleus sampling mass', number('--top-p', (n) => n > 0 && n <= 1, 'in (0, 1]'))
  .option('--min-p <p>', 'drop tokens below p times the most likely', number('--min-p', (n) => n >= 0 && n <= 1, 'in [0, 1]'))
  .option('--seed <n>', 'sampling seed', integer('--seed', 0), 1337)
  .option('--no-cache', 'recompute the whole context at every step')
  .option('--extrapolate', 'read past blockSize (sinusoidal, rope, alibi)')
  .action(sampleCommand);

program
  .command('eval')
  .description('loss and perplexity of a checkpoint on a text')
  .option('--checkpoint <dir>', 'checkpoint directory')
  .option('--hf <dir>', 'Hugging Face GPT-2 directory')
  .requiredOption('--data <path>', 'a text file or a directory of .txt files')
  .option('--max-tokens <n>', 'evaluate at most this many tokens', integer('--max-tokens'), 200_000)
  .action(evalCommand);

program
  .command('inspect')
  .description('parameters by part, config and tokenizer of a checkpoint')
  .option('--checkpoint <dir>', 'checkpoint directory')
  .option('--hf <dir>', 'Hugging Face GPT-2 directory')
  .action(inspectCommand);

// `minigpt ... | head` closes stdout early: stop quietly, as Unix tools do.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode;
  } else {
    console.error(`minigpt: ${(error as Error).message.split('\n')[0]}`);
    process.exitCode = 1;
  }
}
