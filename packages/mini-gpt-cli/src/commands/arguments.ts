import type { MiniGPT } from '@embedlab/mini-gpt';
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

/** The model of `--checkpoint DIR` (this package's format) or `--hf DIR` (a Hugging Face GPT-2 directory). */
export function loadModel(source: ModelSource): { model: MiniGPT; tokenizer: Tokenizer; step: number; label: string } {
  if ((source.checkpoint === undefined) === (source.hf === undefined)) throw new Error('give either --checkpoint DIR or --hf DIR');
  if (source.checkpoint !== undefined) return { ...loadCheckpoint(source.checkpoint), label: `checkpoint ${source.checkpoint}` };
  return { ...loadHuggingFaceDirectory(source.hf!), step: 0, label: `Hugging Face model ${source.hf}` };
}
