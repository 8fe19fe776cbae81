// How the CLI writes files (train --out, export --out and its tiktoken sidecar): a user's file is
// never written over, a link is never written through, and what a failed or interrupted run
// made is removed, and only that.
import { lstatSync, type Stats, statSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileError, readInput } from './cli-input.js';

/** A file a command will write. */
export interface Target {
  path: string;
  /** What the command writes there, for messages: "a Hugging Face tokenizer.json". */
  kind: string;
  /** Whether a file's text is of that kind: only such a file may `--force` replace. */
  isOurs: (text: string) => boolean;
}

export interface Output extends Target {
  text: string;
}

export interface WriteOptions {
  force: boolean;
  /** Files the command read: never written over, whatever their format. */
  inputs: Iterable<string>;
  /** On abort (a signal), stop, remove what was made, and throw the signal's reason. */
  signal?: AbortSignal;
}

const sameFile = (a: Stats, b: Stats | undefined) => b !== undefined && a.dev === b.dev && a.ino === b.ino;

/** What is at `target.path` now, if anything, once it is clear it may be replaced. */
async function claim({ path, kind, isOurs }: Target, { force, inputs }: WriteOptions): Promise<Stats | undefined> {
  let stat: Stats | undefined;
  try {
    stat = lstatSync(path, { throwIfNoEntry: false });
  } catch (error) {
    throw fileError(path, error, 'write');
  }
  if (stat === undefined) return undefined;
  if (stat.isSymbolicLink())
    throw new Error(`${path} is a symbolic link; --out must be a regular file or a new path (links are neither followed nor replaced)`);
  if (!stat.isFile()) throw new Error(`${path} exists and is not a regular file`);
  if (!force) throw new Error(`${path} exists; pass --force to overwrite it`);
  for (const input of inputs) {
    if (input !== '-' && sameFile(stat, statSync(input, { throwIfNoEntry: false })))
      throw new Error(`${path} is an input of this command (${input}); write elsewhere`);
  }
  const text = await readInput(path).catch(() => undefined);
  if (text === undefined || !isOurs(text)) throw new Error(`${path} is not ${kind}; --force replaces only a file of the kind this command writes`);
  return stat;
}

/**
 * Checks that every target may be written (a new path, or with `force` a file of its kind that is
 * not an input), and returns what is there now. A command calls it before its work, so that it
 * fails at once, and `writeOutputs` calls it again.
 */
export async function claimOutputs(targets: Target[], options: WriteOptions): Promise<(Stats | undefined)[]> {
  const before: (Stats | undefined)[] = [];
  for (const target of targets) before.push(await claim(target, options));
  return before;
}

/** Writes each output whole (a temporary file, then a rename), after checking them all. */
export async function writeOutputs(outputs: Output[], options: WriteOptions): Promise<void> {
  const before = await claimOutputs(outputs, options);
  // Exactly what this call made: temporaries not yet renamed, and outputs that did not exist.
  const temporaries = new Map<string, string>();
  const created: string[] = [];
  let current = '';
  try {
    for (const { path, text } of outputs) {
      current = path;
      const temporary = `${path}.tmp-${process.pid}`;
      // 'wx': whatever is already there (a file, a link) is an error, never written through.
      const handle = await open(temporary, 'wx').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'EEXIST') throw new Error(`cannot write ${path}: ${temporary} is in the way; remove it if it is not yours`);
        if (error.code === 'ENOENT') throw new Error(`cannot write ${path}: no such directory ${dirname(path)} (ENOENT)`);
        throw error;
      });
      temporaries.set(path, temporary);
      try {
        await handle.writeFile(text);
      } finally {
        await handle.close();
      }
      options.signal?.throwIfAborted();
    }
    for (const [index, { path }] of outputs.entries()) {
      current = path;
      // Checked again just before the move: a file that appeared or changed meanwhile is not ours.
      const now = lstatSync(path, { throwIfNoEntry: false });
      if (now?.ino !== before[index]?.ino || now?.dev !== before[index]?.dev) throw new Error(`${path} changed while this command ran; not writing over it`);
      await rename(temporaries.get(path)!, path);
      temporaries.delete(path);
      if (before[index] === undefined) created.push(path);
      options.signal?.throwIfAborted();
    }
  } catch (error) {
    await Promise.allSettled([...temporaries.values(), ...created].map((path) => rm(path, { force: true })));
    if (options.signal?.aborted) throw options.signal.reason;
    throw (error as NodeJS.ErrnoException).code === undefined ? error : fileError(current, error, 'write');
  }
}
