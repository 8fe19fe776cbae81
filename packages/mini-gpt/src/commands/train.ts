import { SingleBar } from 'cli-progress';
import { Command, Option } from 'commander';
import { type PositionKind, PRESETS, type PresetName } from '../config.js';
import { namesCorpus } from '../corpus.js';
import { loadCheckpoint, readCorpus, saveCheckpoint, stopOnSignals, tokenizerFromSpec } from '../node.js';
import { TrainingSession } from '../session.js';
import type { EvalEvent, StepEvent } from '../train.js';
import { integer, number } from './arguments.js';

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
  position?: PositionKind;
  untied?: boolean;
  evalInterval?: number;
  samples: number;
  json?: boolean;
}

async function trainAction(flags: TrainFlags): Promise<void> {
  const json = Boolean(flags.json);
  const say = (event: Record<string, unknown>, line: string) => (json ? console.log(JSON.stringify(event)) : console.log(line));
  const corpus = flags.data ? readCorpus(flags.data) : flags.preset === 'names' ? namesCorpus() : undefined;
  if (corpus === undefined) throw new Error(`--data FILE|DIR is required for the ${flags.preset} preset (only names has a built-in corpus)`);
  let session: TrainingSession;
  if (flags.resume) {
    session = TrainingSession.resume(loadCheckpoint(flags.out, { optimizer: true }), corpus, flags.steps ? { steps: flags.steps } : {});
    say({ event: 'resume', step: session.step, out: flags.out }, `resuming ${flags.out} at step ${session.step}`);
  } else {
    if (flags.tokenizer.startsWith('bpe:')) say({ event: 'info', message: `training a ${flags.tokenizer.slice(4)}-token BPE on the corpus` }, `training a ${flags.tokenizer.slice(4)}-token BPE on the corpus`);
    session = TrainingSession.create({
      corpus,
      tokenizer: tokenizerFromSpec(flags.tokenizer, corpus),
      preset: flags.preset,
      model: { position: flags.position, ...(flags.untied ? { tieWeights: false } : {}) },
      training: { steps: flags.steps, batchSize: flags.batchSize, learningRate: flags.lr, evalInterval: flags.evalInterval },
      seed: flags.seed,
    });
  }
  const { model, options } = session;
  const parts = model.parameterCount();
  const c = model.config;
  const tokens = session.dataset.train.length + session.dataset.validation.length;
  say(
    { event: 'model', parameters: parts, config: c },
    `model: ${(parts.total / 1e6).toFixed(3)}M parameters, ${c.nLayer} layers, ${c.nHead} heads, ${c.nEmbd} dims, vocabulary ${c.vocabSize}, ${c.position} positions; ${tokens} tokens of data`,
  );
  const showSamples = async (when: string) => {
    if (flags.samples === 0) return;
    const lines = await session.samples({ count: flags.samples, tokens: Math.min(c.blockSize, 64), seed: 7 });
    if (lines.length > 0) say({ event: 'samples', when, samples: lines }, `samples ${when}: ${lines.map((l) => JSON.stringify(l)).join(' ')}`);
  };
  if (session.step === 0) await showSamples('before training');

  const bar = !json && process.stderr.isTTY ? new SingleBar({ format: 'step {value}/{total} [{bar}] loss {loss} | {speed} tok/s | ETA {eta_formatted}', hideCursor: true }) : undefined;
  bar?.start(options.steps, session.step, { loss: '-', speed: '-' });
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
  const stopListening = stopOnSignals(session);
  const result = await session.run({ onStep, onEval, onCheckpoint: (files) => saveCheckpoint(flags.out, files) });
  stopListening();
  bar?.stop();
  if (result.stoppedBy === 'non-finite-loss') {
    throw new Error(`${result.message}; the checkpoint in ${flags.out} holds the weights from before it`);
  }
  if (result.stoppedBy === 'aborted') {
    say({ event: 'interrupted', step: result.step, out: flags.out }, `interrupted at step ${result.step}; checkpoint saved to ${flags.out} (continue with --resume)`);
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
  .option('--resume', 'continue the run saved in --out')
  .option('--batch-size <n>', 'sequences per step', integer('--batch-size'))
  .option('--lr <rate>', 'peak learning rate', number('--lr', (n) => n > 0, 'a positive number'))
  .option('--seed <n>', 'seed for initialisation, batches and dropout', integer('--seed', 0), 1337)
  .addOption(new Option('--position <kind>', 'position encoding').choices(['learned', 'sinusoidal', 'rope', 'alibi', 'none']))
  .option('--untied', 'give the output head its own matrix')
  .option('--eval-interval <n>', 'steps between validation and checkpoint saves', integer('--eval-interval'))
  .option('--samples <n>', 'samples to print before and after training', integer('--samples', 0), 3)
  .option('--json', 'one JSON object per event on stdout')
  .action(trainAction);
