// A checkpoint directory on disk: saves that are all-or-nothing, a lock per directory, and
// checks of the output directory before any training starts. Node only.
import {
  closeSync,
  existsSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { type Checkpoint, type CheckpointFiles, checkpointFromFiles } from './checkpoint.js';
import { MAX_TOKENIZER_BYTES } from './checkpoint.js';
import { checkFileSize } from './read-capped.js';

// Layout (one complete save per directory; `current` is switched by an atomic rename once the
// new save is complete, and the old one is removed after):
//   DIR/save-000007/{model.safetensors, tokenizer.json, optimizer.safetensors}
//   DIR/current -> save-000007
//   DIR/model.safetensors -> current/model.safetensors   (and tokenizer.json, optimizer.safetensors),
//   so that PyTorch, the playground and older readers find the files where they always were.
const FILES = ['model.safetensors', 'tokenizer.json', 'optimizer.safetensors'] as const;
const CURRENT = 'current';
const SAVE = /^save-(\d+)$/;
const STAGING = /^\.staging-/;

function writeDurably(path: string, contents: Uint8Array | string): void {
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, typeof contents === 'string' ? Buffer.from(contents, 'utf8') : contents);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Replaces `path` with a symlink to `target` in one rename (never a moment without it). */
function replaceWithSymlink(target: string, path: string): void {
  const temporary = `${path}.link-${process.pid}`;
  rmSync(temporary, { force: true });
  symlinkSync(target, temporary);
  renameSync(temporary, path);
}

/** The directory holding the files of the last complete save (the directory itself for the flat layout). */
function currentSave(dir: string): string {
  const current = join(dir, CURRENT);
  return existsSync(current) ? realpathSync(current) : dir;
}

/** Removes what crashed saves left behind: staging directories, temporary links, saves no longer current. */
function removeLeftovers(dir: string, keep: string): void {
  for (const entry of readdirSync(dir)) {
    if (STAGING.test(entry) || /\.link-\d+$/.test(entry) || /\.tmp-\d+/.test(entry) || (SAVE.test(entry) && entry !== keep))
      rmSync(join(dir, entry), { recursive: true, force: true });
  }
}

/**
 * Saves a checkpoint all-or-nothing: the files are written (and fsynced) into a new save
 * directory, which then becomes `current` through one atomic rename; the previous save is kept
 * until that moment and removed after. A crash or a full disk at any point leaves the previous
 * checkpoint loadable and whole. Call it while holding the directory's lock.
 */
export function saveCheckpoint(dir: string, files: CheckpointFiles): void {
  mkdirSync(dir, { recursive: true });
  const previous = existsSync(join(dir, CURRENT)) ? readlinkSync(join(dir, CURRENT)) : undefined;
  const numbers = readdirSync(dir)
    .flatMap((entry) => SAVE.exec(entry)?.[1] ?? [])
    .map(Number);
  const name = `save-${String(Math.max(0, ...numbers) + 1).padStart(6, '0')}`;
  const staging = join(dir, `.staging-${process.pid}-${name}`);
  try {
    mkdirSync(staging);
    for (const file of FILES) if (files[file] !== undefined) writeDurably(join(staging, file), files[file]);
    syncDirectory(staging);
    renameSync(staging, join(dir, name));
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw new Error(`could not save the checkpoint in ${dir} (the previous one is intact): ${(error as Error).message}`);
  }
  replaceWithSymlink(name, join(dir, CURRENT));
  for (const file of FILES) {
    const path = join(dir, file);
    if (!isSymlink(path)) replaceWithSymlink(join(CURRENT, file), path);
  }
  syncDirectory(dir);
  removeLeftovers(dir, name);
  if (previous && previous !== name) rmSync(join(dir, previous), { recursive: true, force: true });
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
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
export function hasCheckpoint(dir: string): boolean {
  return existsSync(join(currentSave(dir), 'model.safetensors'));
}

interface LockOwner {
  pid: number;
  host: string;
  since: string;
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface CheckpointLock {
  release(): void;
}

/**
 * Takes `DIR/.lock` for this process, so that two trainings never write one directory. A lock
 * left by a process of this machine that no longer runs is taken over; a live one is reported.
 */
export function lockCheckpointDirectory(dir: string): CheckpointLock {
  const path = join(dir, '.lock');
  const me: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, JSON.stringify(me), { flag: 'wx' });
      const release = () => {
        process.off('exit', release);
        try {
          if (JSON.parse(readFileSync(path, 'utf8')).pid === me.pid) unlinkSync(path);
        } catch {
          // Already gone.
        }
      };
      process.on('exit', release);
      return { release };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`cannot write to ${dir}: ${(error as Error).message}`);
    }
    let owner: Partial<LockOwner> = {};
    try {
      owner = JSON.parse(readFileSync(path, 'utf8'));
    } catch {
      // An unreadable lock is treated as stale below only if it is from no live process.
    }
    const stale = owner.host === me.host && typeof owner.pid === 'number' && !processIsAlive(owner.pid);
    if (!stale) {
      throw new Error(
        `${dir} is in use by another training (pid ${owner.pid ?? '?'} on ${owner.host ?? '?'} since ${owner.since ?? '?'}); wait for it to finish, or remove ${path} if that process is gone`,
      );
    }
    rmSync(path, { force: true });
  }
  throw new Error(`could not take the lock ${path}`);
}

/**
 * Checks an output directory before the first training step and locks it: it must be a
 * directory we can write, and an existing checkpoint is only continued (`resume`) or replaced
 * (`force`), never overwritten by surprise.
 */
export function prepareCheckpointDirectory(dir: string, { resume = false, force = false }: { resume?: boolean; force?: boolean } = {}): CheckpointLock {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new Error(`--out ${dir} is a file, not a directory`);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new Error(`cannot create --out ${dir}: ${(error as Error).message}`);
  }
  const lock = lockCheckpointDirectory(dir);
  if (!resume && !force && hasCheckpoint(dir)) {
    lock.release();
    throw new Error(`${dir} already holds a checkpoint; continue it with --resume, or replace it with --force`);
  }
  if (resume && !hasCheckpoint(dir)) {
    lock.release();
    throw new Error(`${dir} holds no checkpoint to resume`);
  }
  return lock;
}
