import type { MiniGPT, TrainingState } from '@embedlab/mini-gpt';
import { loadCheckpoint, loadHuggingFaceDirectory } from '@embedlab/mini-gpt/node';
import type { Tokenizer } from '@embedlab/tokenizer';
import { type Command, InvalidArgumentError } from 'commander';

// Number() also reads 0x10, 0b11, 0o7, '' (as 0) and ' 5 ': a flag takes decimal notation only.
const DECIMAL_INTEGER = /^\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** `value` as a number if it is written in decimal notation (3, 0.5, .5, 3e-4), else undefined. */
export function decimal(value: string): number | undefined {
  return DECIMAL.test(value) ? Number(value) : undefined;
}

/** A commander parser for an integer flag of at least `min`, written in decimal digits. */
export function integer(name: string, min = 1) {
  return (value: string) => {
    const n = DECIMAL_INTEGER.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(`${name} must be an integer >= ${min} in decimal digits, got ${JSON.stringify(value)}`);
    return n;
  };
}

/** A commander parser for a finite number flag that `check` accepts, written in decimal notation. */
export function number(name: string, check: (n: number) => boolean, allowed: string) {
  return (value: string) => {
    const n = decimal(value);
    if (n === undefined || !Number.isFinite(n) || !check(n))
      throw new InvalidArgumentError(`${name} must be ${allowed}${n === undefined ? ' in decimal notation' : ''}, got ${JSON.stringify(value)}`);
    return n;
  };
}

/**
 * Makes `command` and its subcommands refuse a flag given twice, and both forms of a boolean
 * (`--bias --no-bias`): commander would keep the last one silently.
 */
export function refuseRepeatedFlags(command: Command): void {
  const given = new Map<string, string>();
  for (const option of command.options) {
    const flag = option.long ?? option.flags;
    command.on(`option:${option.name()}`, () => {
      const before = given.get(option.attributeName());
      if (before === flag) command.error(`${flag} is given twice; give it once`);
      if (before !== undefined) command.error(`${before} and ${flag} contradict each other; give one`);
      given.set(option.attributeName(), flag);
    });
  }
  for (const subcommand of command.commands) refuseRepeatedFlags(subcommand);
}

export interface ModelSource {
  checkpoint?: string;
  hf?: string;
}

/** What `loadModel` returns: the model, and for a checkpoint asked for with `training`, how it was trained. */
export interface LoadedModel {
  model: MiniGPT;
  tokenizer: Tokenizer;
  step: number;
  label: string;
  /** The run's options, with the saved optimizer's AdamW settings (the checkpoint's optimizer.safetensors). */
  training?: TrainingState['options'];
}

/**
 * The model of `--checkpoint DIR` (this package's format) or `--hf DIR` (a Hugging Face GPT-2
 * directory); with `training`, a checkpoint's training options too.
 */
export function loadModel(source: ModelSource, { training = false }: { training?: boolean } = {}): LoadedModel {
  if ((source.checkpoint === undefined) === (source.hf === undefined)) throw new Error('give either --checkpoint DIR or --hf DIR');
  if (source.checkpoint === undefined) return { ...loadHuggingFaceDirectory(source.hf!), step: 0, label: `Hugging Face model ${source.hf}` };
  const { model, tokenizer, step, optimizer, training: state } = loadCheckpoint(source.checkpoint, { optimizer: training });
  const loaded = { model, tokenizer, step, label: `checkpoint ${source.checkpoint}` };
  if (!optimizer || !state) return loaded;
  // The optimizer's state is read for its settings only.
  const { beta1, beta2, weightDecay } = optimizer;
  optimizer.dispose();
  return { ...loaded, training: { ...state.options, beta1, beta2, weightDecay } };
}
