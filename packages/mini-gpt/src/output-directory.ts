// Directories written whole or not at all: built under a hidden name beside the target, synced,
// then moved into place. Node only.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

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

/** Refuses an `out` that is a file, or a directory with files in it unless `force`. */
export function checkOut(out: string, force: boolean): void {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new Error(`${out} exists and is not a directory`);
  if (readdirSync(out).length > 0 && !force) throw new Error(`${out} already exists and is not empty; give --force to replace it`);
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

/** Writes `files` as the directory `out`, whole or not at all (an existing one only with `force`). */
export function writeDirectory(out: string, files: Record<string, string | Uint8Array>, { force = false }: { force?: boolean } = {}): void {
  checkOut(out, force);
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
