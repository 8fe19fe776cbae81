// Node-only helpers (file system), exported as `@embedlab/mini-gpt/node` so the main entry stays browser-safe.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Checkpoint, type CheckpointFiles, checkpointFromFiles } from './checkpoint.js';

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
