// Node-only helpers (file system), exported as `@embedlab/mini-gpt/node` so the main entry stays browser-safe.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fromGpt2Files, fromHuggingFace, fromTiktoken, GPT2_SPECIAL_TOKENS, type Tokenizer } from '@embedlab/tokenizer';
import { type Checkpoint, type CheckpointFiles, checkpointFromFiles, loadHuggingFaceGPT2 } from './checkpoint.js';
import type { MiniGPT } from './model.js';
import { type TokenizerChoice, type TrainingSession, tokenizerFor } from './session.js';

/** Writes `path` atomically: a temporary file in the same directory, then a rename. */
export function writeFileAtomic(path: string, contents: Uint8Array | string): void {
  const temporary = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    writeFileSync(temporary, contents);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/**
 * Saves a checkpoint directory: `model.safetensors`, `tokenizer.json` and, when present,
 * `optimizer.safetensors`, each written atomically (the optimizer last: a crash in between
 * leaves files whose steps differ, which loading refuses, never a torn file).
 */
export function saveCheckpoint(dir: string, files: CheckpointFiles): void {
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, 'model.safetensors'), files['model.safetensors']);
  writeFileAtomic(join(dir, 'tokenizer.json'), files['tokenizer.json']);
  if (files['optimizer.safetensors']) writeFileAtomic(join(dir, 'optimizer.safetensors'), files['optimizer.safetensors']);
  else rmSync(join(dir, 'optimizer.safetensors'), { force: true });
}

/** Reads a checkpoint directory's files (the optimizer state only if asked for and present). */
export function readCheckpointFiles(dir: string, { optimizer = false }: { optimizer?: boolean } = {}): CheckpointFiles {
  for (const name of ['model.safetensors', 'tokenizer.json']) {
    if (!existsSync(join(dir, name))) throw new Error(`${dir} is not a checkpoint directory: ${name} is missing`);
  }
  const files: CheckpointFiles = {
    'model.safetensors': new Uint8Array(readFileSync(join(dir, 'model.safetensors'))),
    'tokenizer.json': readFileSync(join(dir, 'tokenizer.json'), 'utf8'),
  };
  const optimizerPath = join(dir, 'optimizer.safetensors');
  if (optimizer && existsSync(optimizerPath)) files['optimizer.safetensors'] = new Uint8Array(readFileSync(optimizerPath));
  return files;
}

/** Loads a checkpoint directory saved by `saveCheckpoint` (or the CLI, or the playground). */
export function loadCheckpoint(dir: string, options: { optimizer?: boolean } = {}): Checkpoint {
  const files = readCheckpointFiles(dir, options);
  try {
    return checkpointFromFiles(files);
  } catch (error) {
    throw new Error(`${dir}: ${(error as Error).message}`);
  }
}

/** A text file, or the `.txt` files of a directory joined by newlines (sorted by name). */
export function readCorpus(path: string): string {
  try {
    if (statSync(path).isDirectory()) {
      const files = readdirSync(path).filter((f) => f.endsWith('.txt')).sort();
      if (files.length === 0) throw new Error(`${path} has no .txt files`);
      return files.map((f) => readFileSync(join(path, f), 'utf8')).join('\n');
    }
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined) throw error;
    throw new Error(code === 'ENOENT' ? `no such file or directory: ${path}` : `cannot read ${path}: ${(error as Error).message}`);
  }
}

/**
 * A tokenizer from the CLI's spelling: `char`, `bpe:SIZE` (trained on `corpus`), or `gpt2:FILE`
 * (a `.tiktoken` rank file or a Hugging Face `tokenizer.json`).
 */
export function tokenizerFromSpec(spec: string, corpus: string): Tokenizer {
  if (!spec.startsWith('gpt2:')) {
    if (spec !== 'char' && !/^bpe:/.test(spec)) throw new Error(`--tokenizer must be char, bpe:SIZE or gpt2:FILE, got ${JSON.stringify(spec)}`);
    if (spec !== 'char' && !/^bpe:\d+$/.test(spec)) throw new Error(`--tokenizer bpe:SIZE needs an integer size, got ${JSON.stringify(spec.slice(4))}`);
    return tokenizerFor(spec as TokenizerChoice, corpus);
  }
  const file = spec.slice('gpt2:'.length);
  const text = readCorpus(file);
  try {
    return extname(file) === '.json' ? fromHuggingFace(text) : fromTiktoken(text, { specialTokens: GPT2_SPECIAL_TOKENS });
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message}`);
  }
}

/**
 * A Hugging Face GPT-2 directory, as `gpt2` is published: `model.safetensors`, `config.json`,
 * and `tokenizer.json` or `vocab.json` + `merges.txt`.
 */
export function loadHuggingFaceDirectory(dir: string): { model: MiniGPT; tokenizer: Tokenizer } {
  const file = (name: string) => join(dir, name);
  for (const name of ['model.safetensors', 'config.json']) if (!existsSync(file(name))) throw new Error(`${dir} is not a Hugging Face GPT-2 directory: ${name} is missing`);
  let tokenizer: Tokenizer;
  if (existsSync(file('tokenizer.json'))) tokenizer = fromHuggingFace(readFileSync(file('tokenizer.json'), 'utf8'));
  else if (existsSync(file('vocab.json')) && existsSync(file('merges.txt'))) tokenizer = fromGpt2Files(readFileSync(file('vocab.json'), 'utf8'), readFileSync(file('merges.txt'), 'utf8'));
  else throw new Error(`${dir} has no tokenizer: tokenizer.json, or vocab.json and merges.txt, are needed`);
  const model = loadHuggingFaceGPT2(new Uint8Array(readFileSync(file('model.safetensors'))), readFileSync(file('config.json'), 'utf8'));
  if (tokenizer.vocabSize > model.config.vocabSize) {
    model.dispose();
    throw new Error(`${dir}: the tokenizer has ${tokenizer.vocabSize} tokens but the model only ${model.config.vocabSize}`);
  }
  return { model, tokenizer };
}

/** Stops `session` after its current step on SIGINT or SIGTERM (so it saves); returns the undo. */
export function stopOnSignals(session: TrainingSession): () => void {
  const stop = () => session.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  };
}
