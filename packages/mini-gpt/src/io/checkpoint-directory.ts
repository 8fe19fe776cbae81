// A checkpoint directory on disk: saves that are all-or-nothing, a lock per directory, and
// checks of the output directory before any training starts. Every path a save creates is
// recorded first (owned-directory.ts), and only recorded paths are ever removed. Node only.
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  renameSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { type Checkpoint, type CheckpointFiles, checkpointFromFiles } from './checkpoint.js';
import { MAX_TOKENIZER_BYTES } from './checkpoint.js';
import { checkFileSize } from '../data/read-capped.js';
import { type GPTConfig, validateConfig } from '../model/config.js';
import { MAX_HEADER } from './safetensors.js';
import { claimDirectory, type DirectoryLock, foreignFilesError, type OwnedDirectory, readRecord, syncDirectory, writeSynced } from './owned-directory.js';

// Layout (one complete save per directory; `current` is switched by an atomic rename once the
// new save is complete, and the old one is removed after):
//   DIR/save-000007/{model.safetensors, tokenizer.json, optimizer.safetensors}
//   DIR/current -> save-000007
//   DIR/model.safetensors -> current/model.safetensors   (and tokenizer.json, optimizer.safetensors),
//   so that PyTorch, the playground and older readers find the files where they always were.
//   DIR/.minigpt-record.json: every path above, recorded before it was created.
const FILES = ['model.safetensors', 'tokenizer.json', 'optimizer.safetensors'] as const;
const CURRENT = 'current';
const SAVE = /^save-(\d+)$/;

/** Checkpoint directories this process holds (claimed by `prepareCheckpointDirectory`), so saves reuse the claim. */
const held = new Map<string, OwnedDirectory>();

/** Runs `use` with `dir` claimed: the claim this process holds, or one taken for the call. */
function withClaim<T>(dir: string, use: (owned: OwnedDirectory) => T): T {
  const claim = held.get(resolve(dir));
  if (claim) return use(claim);
  const owned = claimDirectory(dir, 'checkpoint');
  try {
    return use(owned);
  } finally {
    owned.release();
  }
}

/** Replaces `path` with a symlink to `target` in one rename (never a moment without it), through the recorded `temporary`. */
function replaceWithSymlink(target: string, path: string, temporary: string): void {
  symlinkSync(target, temporary);
  renameSync(temporary, path);
}

/**
 * The directory holding the files of the last complete save (the directory itself for the flat
 * layout). `current` must be a link to a save of this directory: a link leading anywhere else,
 * or a file or directory of that name, is refused rather than followed.
 */
function currentSave(dir: string): string {
  const current = join(dir, CURRENT);
  const stat = lstatSync(current, { throwIfNoEntry: false });
  if (!stat) return dir;
  if (!stat.isSymbolicLink())
    throw new Error(`${current} is a ${stat.isDirectory() ? 'directory' : 'file'}, not a link to a save: not a checkpoint directory of minigpt`);
  const target = readlinkSync(current);
  if (!SAVE.test(target) || !lstatSync(join(dir, target), { throwIfNoEntry: false })?.isDirectory())
    throw new Error(`${current} leads to ${target}, not to a save inside ${dir}; refusing to follow it`);
  return join(dir, target);
}

/**
 * Saves a checkpoint all-or-nothing: the files are written (and fsynced) into a new save
 * directory, which then becomes `current` through one atomic rename; the previous save is kept
 * until that moment and removed after. A crash or a full disk at any point leaves the previous
 * checkpoint loadable and whole. The directory must be new, empty or a checkpoint directory
 * minigpt wrote; files in it that minigpt did not write are never touched.
 */
export function saveCheckpoint(dir: string, files: CheckpointFiles): void {
  withClaim(dir, (owned) => {
    if (existsSync(join(dir, CURRENT)) && !owned.owns(CURRENT)) throw foreignFilesError(dir, [CURRENT], 'move it away to save a checkpoint here');
    currentSave(dir);
    // Numbers above every save-N present, recorded or not, so a new save never meets another's name.
    const numbers = [...owned.entries, ...readdirSync(dir)].flatMap((entry) => SAVE.exec(entry)?.[1] ?? []).map(Number);
    const name = `save-${String(Math.max(0, ...numbers) + 1).padStart(6, '0')}`;
    const staging = `.staging-${name}`;
    if (existsSync(join(dir, staging))) throw foreignFilesError(dir, [staging], 'move it away to save a checkpoint here');
    const written = FILES.filter((file) => files[file] !== undefined);
    // Top-level links only where nothing of someone else's sits.
    const links = FILES.filter((file) => owned.owns(file) || !lstatSync(join(dir, file), { throwIfNoEntry: false }));
    try {
      owned.record({
        entries: [name, ...written.map((file) => `${name}/${file}`), CURRENT, ...links],
        temporary: [staging, ...written.map((file) => `${staging}/${file}`), `${CURRENT}.next`, ...links.map((file) => `${file}.next`)],
      });
      mkdirSync(join(dir, staging));
      for (const file of written) writeSynced(join(dir, staging, file), files[file]!);
      syncDirectory(join(dir, staging));
      renameSync(join(dir, staging), join(dir, name));
    } catch (error) {
      try {
        owned.remove([staging, name]);
      } catch {
        // A full disk may refuse even the record: what was recorded is removed by the next save.
      }
      throw new Error(`could not save the checkpoint in ${dir} (the previous one is intact): ${(error as Error).message}`);
    }
    replaceWithSymlink(name, join(dir, CURRENT), join(dir, `${CURRENT}.next`));
    for (const file of links) {
      const path = join(dir, file);
      if (!lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink()) replaceWithSymlink(join(CURRENT, file), path, join(dir, `${file}.next`));
    }
    syncDirectory(dir);
    const previous = owned.entries.filter((entry) => SAVE.test(entry) && entry !== name);
    owned.remove([...previous, staging, `${CURRENT}.next`, ...links.map((file) => `${file}.next`)]);
  });
}

/** Reads the files of a checkpoint directory's last complete save (the optimizer state only if asked for and present). */
export function readCheckpointFiles(dir: string, { optimizer = false }: { optimizer?: boolean } = {}): CheckpointFiles {
  const base = currentSave(dir);
  for (const name of ['model.safetensors', 'tokenizer.json']) {
    if (!existsSync(join(base, name))) throw new Error(`${dir} is not a checkpoint directory: ${name} is missing`);
  }
  // Read whole: a tokenizer file past the cap is refused before it is read (the weights may be big).
  checkFileSize(join(base, 'tokenizer.json'), MAX_TOKENIZER_BYTES, 'a tokenizer file');
  const files: CheckpointFiles = {
    'model.safetensors': new Uint8Array(readFileSync(join(base, 'model.safetensors'))),
    'tokenizer.json': readFileSync(join(base, 'tokenizer.json'), 'utf8'),
  };
  const optimizerPath = join(base, 'optimizer.safetensors');
  if (optimizer && existsSync(optimizerPath)) files['optimizer.safetensors'] = new Uint8Array(readFileSync(optimizerPath));
  return files;
}

/** Loads a checkpoint directory saved by `saveCheckpoint` (or the CLI, or the playground's files put in a directory). */
export function loadCheckpoint(dir: string, options: { optimizer?: boolean } = {}): Checkpoint {
  const files = readCheckpointFiles(dir, options);
  try {
    return checkpointFromFiles(files);
  } catch (error) {
    throw new Error(`${dir}: ${(error as Error).message}`);
  }
}

/** Whether `dir` holds a checkpoint (either layout). */
/**
 * The model config a checkpoint directory's last save was made with, read from the header of its
 * model.safetensors alone: no weights are read, so a run can be planned (and refused) first.
 */
export function readCheckpointConfig(dir: string): GPTConfig {
  const path = join(currentSave(dir), 'model.safetensors');
  const size = statSync(path).size;
  const fd = openSync(path, 'r');
  try {
    const readAt = (position: number, length: number) => {
      const bytes = new Uint8Array(length);
      if (readSync(fd, bytes, 0, length, position) !== length) throw new Error(`${path}: not a safetensors file, or truncated`);
      return bytes;
    };
    if (size < 8) throw new Error(`${path}: not a safetensors file (${size} bytes is too short for a header)`);
    const headerLength = Number(new DataView(readAt(0, 8).buffer).getBigUint64(0, true));
    if (headerLength > MAX_HEADER || 8 + headerLength > size)
      throw new Error(`${path}: not a safetensors file, or truncated (its header claims ${headerLength} bytes, the file has ${size})`);
    let config: unknown;
    try {
      const header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(readAt(8, headerLength)));
      config = JSON.parse(header.__metadata__.config);
    } catch {
      throw new Error(`${path}: no model config in its header (not a checkpoint minigpt wrote?)`);
    }
    try {
      return validateConfig(config as GPTConfig);
    } catch (error) {
      throw new Error(`${path}: ${(error as Error).message}`);
    }
  } finally {
    closeSync(fd);
  }
}

export function hasCheckpoint(dir: string): boolean {
  return existsSync(join(currentSave(dir), 'model.safetensors'));
}

/** A checkpoint directory claimed for a training: `release()` when it ends; `abandon()` when it fails before saving, so a directory it made is removed again. */
export interface CheckpointLock extends DirectoryLock {
  abandon(): void;
}

/**
 * Checks an output directory before the first training step, and claims and locks it: it must
 * be new, empty, or a checkpoint directory minigpt wrote; an existing checkpoint is only
 * continued (`resume`) or replaced (`force`), never overwritten by surprise, and `force` refuses
 * a directory that also holds files minigpt did not write. A refused directory is left as it was.
 */
export function prepareCheckpointDirectory(dir: string, { resume = false, force = false }: { resume?: boolean; force?: boolean } = {}): CheckpointLock {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new Error(`${dir} is a file, not a directory`);
  if (existsSync(dir) && !readRecord(dir)) {
    const present = readdirSync(dir).sort();
    if (present.length > 0) {
      const advice = hasUnrecordedCheckpoint(dir)
        ? 'it holds a checkpoint that minigpt train did not record (an earlier version, PyTorch, or files copied by hand), which is read but never written: train into a new or empty directory'
        : force
          ? 'force replaces only a checkpoint that minigpt train wrote, never other files: choose a new or empty directory'
          : 'choose a new or empty directory for the checkpoint';
      throw foreignFilesError(dir, present, advice);
    }
  }
  const owned = claimDirectory(dir, 'checkpoint');
  try {
    if (existsSync(join(dir, CURRENT)) && !owned.owns(CURRENT))
      throw foreignFilesError(dir, [CURRENT], 'a checkpoint directory keeps its own link of that name there');
    const has = hasCheckpoint(dir);
    if (has && !resume && !force) throw new Error(`${dir} already holds a checkpoint; continue it with \`resume: true\`, or replace it with \`force: true\``);
    if (resume && !has) throw new Error(`${dir} holds no checkpoint to resume`);
    const foreign = force ? owned.foreignEntries() : [];
    if (foreign.length > 0) throw foreignFilesError(dir, foreign, 'force replaces only what minigpt train wrote: move them away first');
  } catch (error) {
    owned.abandon();
    throw error;
  }
  const key = resolve(dir);
  held.set(key, owned);
  return {
    release: () => {
      held.delete(key);
      owned.release();
    },
    abandon: () => {
      held.delete(key);
      owned.abandon();
    },
  };
}

function hasUnrecordedCheckpoint(dir: string): boolean {
  try {
    return hasCheckpoint(dir);
  } catch {
    return false;
  }
}
