// Output directories written whole (a token directory, a Hugging Face directory): `out` is
// claimed when the command starts, the files are built in a recorded staging directory inside
// it, and moved in at the end, the file readers look for last. Node only.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import {
  claimDirectory,
  describeKind,
  foreignEntries,
  foreignFilesError,
  type OutputKind,
  type OwnedDirectory,
  readRecord,
  syncDirectory,
} from './owned-directory.js';

export interface OutputRules {
  kind: OutputKind;
  /** Replace an output of this kind that minigpt wrote (never a directory holding anything else). */
  force?: boolean;
  /** What the directory is written from: `out` may not be, or hold, any of them. */
  sources?: string[];
}

function inside(path: string, dir: string): boolean {
  const relation = relative(dir, path);
  return relation === '' || (!relation.startsWith('..') && !isAbsolute(relation));
}

/**
 * Refuses, before any work and writing nothing, an `out` that is a file, that is or holds one of
 * the sources, that holds files minigpt did not write there, or that holds an output of this kind
 * without `force`.
 */
export function checkOutputDirectory(out: string, { kind, force = false, sources = [] }: OutputRules): void {
  const target = resolve(out);
  for (const source of sources) {
    if (inside(resolve(source), target)) throw new Error(`${out} would replace ${source}, which it is written from; choose another directory`);
  }
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new Error(`${out} is a file, not a directory`);
  const record = readRecord(out);
  if (!record) {
    const present = readdirSync(out).sort();
    const advice = force ? `force replaces only ${describeKind(kind)}, never other files` : 'choose a new or empty directory';
    if (present.length > 0) throw foreignFilesError(out, present, advice);
    return;
  }
  if (record.kind !== kind) throw new Error(`${out} holds ${describeKind(record.kind)}, not ${describeKind(kind)}; choose another directory`);
  if (record.entries.length > 0 && !force) throw new Error(`${out} already holds ${describeKind(kind)}; replace it with \`force: true\``);
  const foreign = foreignEntries(out, record);
  if (foreign.length > 0) throw foreignFilesError(out, foreign, `force replaces only what minigpt wrote: move them away first`);
}

/** An output directory being written: claimed, with its files built in a staging directory inside it. */
export class OutputWriter {
  private ended = false;

  private constructor(
    private readonly owned: OwnedDirectory,
    private readonly staging: string,
    private readonly rules: OutputRules,
  ) {}

  /** Checks and claims `out` (see `checkOutputDirectory`), and makes the staging directory. */
  static start(out: string, rules: OutputRules): OutputWriter {
    checkOutputDirectory(out, rules);
    const owned = claimDirectory(out, rules.kind);
    try {
      // Again under the lock: another command may have written there in between.
      checkOutputDirectory(out, rules);
      const staging = `.partial-${randomBytes(4).toString('hex')}`;
      owned.record({ temporary: [staging] });
      mkdirSync(join(out, staging));
      return new OutputWriter(owned, staging, rules);
    } catch (error) {
      owned.abandon();
      throw error;
    }
  }

  /** Where to write the file `name` (recorded first, so an interrupted run leaves nothing unknown). */
  path(name: string): string {
    this.owned.record({ temporary: [`${this.staging}/${name}`] });
    return join(this.owned.dir, this.staging, name);
  }

  /**
   * Moves the written files `names` into `out`, `last` after all others (readers look for it),
   * replacing the previous output of this kind. Checks first that nothing foreign appeared meanwhile.
   */
  finish(names: string[], last: string): void {
    const out = this.owned.dir;
    const all = [...names.filter((name) => name !== last), last];
    try {
      const foreign = this.owned.foreignEntries();
      if (foreign.length > 0) throw foreignFilesError(out, foreign, 'it appeared while the output was written; nothing was replaced');
      const previous = this.owned.entries.filter((entry) => !entry.includes('/'));
      if (previous.length > 0 && !this.rules.force) throw new Error(`${out} was written by another command meanwhile; nothing was replaced`);
      this.owned.remove(previous);
      this.owned.record({ entries: all });
      for (const name of all) renameSync(join(out, this.staging, name), join(out, name));
      this.owned.remove([this.staging]);
      syncDirectory(out);
    } catch (error) {
      this.abort();
      throw error;
    }
    this.ended = true;
    this.owned.release();
  }

  /** Removes what this run wrote and gives the claim up (a directory it made is removed again). */
  abort(): void {
    if (this.ended) return;
    this.ended = true;
    this.owned.remove([this.staging]);
    this.owned.abandon();
  }
}

const PIECE_BYTES = 16 << 20;

/** Writes a file in pieces, synced to disk, stopping between pieces when `signal` aborts. */
export async function writeInPieces(path: string, content: string | Uint8Array, signal?: AbortSignal): Promise<void> {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const handle = await open(path, 'w');
  try {
    for (let at = 0; at < bytes.byteLength; ) {
      signal?.throwIfAborted();
      const { bytesWritten } = await handle.write(bytes, at, Math.min(PIECE_BYTES, bytes.byteLength - at));
      at += bytesWritten;
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  signal?.throwIfAborted();
}
