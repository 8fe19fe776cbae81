import type { MiniGPT, TrainingState } from '@embedlab/mini-gpt';
import { loadCheckpoint, loadHuggingFaceDirectory } from '@embedlab/mini-gpt/node';
import type { Tokenizer } from '@embedlab/tokenizer';
import { InvalidArgumentError } from 'commander';

/** A commander parser for an integer flag of at least `min`. */
export function integer(name: string, min = 1) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
    return n;
  };
}

/** A commander parser for a finite number flag that `check` accepts. */
export function number(name: string, check: (n: number) => boolean, allowed: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || !check(n)) throw new InvalidArgumentError(`${name} must be ${allowed}, got ${JSON.stringify(value)}`);
    return n;
  };
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
