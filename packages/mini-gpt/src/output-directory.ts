// Directories written whole or not at all: built under a hidden name beside the target, synced,
// then moved into place. Node only.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';

/** A fresh hidden name beside `out` to build it under. */
export function partialDirectory(out: string): string {
  return join(dirname(resolve(out)), `.${basename(out)}.partial-${randomBytes(4).toString('hex')}`);
}

/** Replaces `out` by the finished `partial` directory (the old one, with `force`, removed after). */
export function moveIntoPlace(partial: string, out: string): void {
  if (!existsSync(out)) {
    renameSync(partial, out);
    return;
  }
  const old = `${out}.old-${randomBytes(4).toString('hex')}`;
  renameSync(out, old);
  renameSync(partial, out);
  rmSync(old, { recursive: true, force: true });
}

export interface OutputRules {
  /** Replace an existing directory (only one `isOurs` recognises). */
  force?: boolean;
  /** Whether a directory holds what this kind of output writes (what `force` may replace), e.g. a meta.json of ours. */
  isOurs: (dir: string) => boolean;
  /** What the directory is written from: `out` may not be, or hold, any of them. */
  sources?: string[];
  /** The kind of output, for messages ("a token directory"). */
  kind: string;
}

function inside(path: string, dir: string): boolean {
  const relation = relative(dir, path);
  return relation === '' || (!relation.startsWith('..') && !isAbsolute(relation));
}

/**
 * Refuses an `out` that is a file, that is or holds one of the sources (replacing it would delete
 * them), or a directory with files in it unless `force` is given and it holds this kind of output.
 */
export function checkOut(out: string, { force = false, isOurs, sources = [], kind }: OutputRules): void {
  const target = resolve(out);
  for (const source of sources) {
    if (inside(resolve(source), target)) throw new Error(`--out ${out} would replace ${source}, which it is written from; choose another directory`);
  }
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new Error(`${out} exists and is not a directory`);
  if (readdirSync(out).length === 0) return;
  if (!force) throw new Error(`${out} already exists and is not empty; give --force to replace it`);
  if (!isOurs(out)) throw new Error(`${out} is not ${kind}: --force only replaces ${kind}, never other files`);
}

/** Writes a file and syncs it to disk. */
export function writeSynced(path: string, content: string | Uint8Array): void {
  writeFileSync(path, content);
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes `files` as the directory `out`, whole or not at all (an existing one only as `checkOut` allows). */
export function writeDirectory(out: string, files: Record<string, string | Uint8Array>, rules: OutputRules): void {
  checkOut(out, rules);
  const partial = partialDirectory(out);
  try {
    mkdirSync(partial);
    for (const [name, content] of Object.entries(files)) writeSynced(join(partial, name), content);
    moveIntoPlace(partial, out);
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    throw error;
  }
}
