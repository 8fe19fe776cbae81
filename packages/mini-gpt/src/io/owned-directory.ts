// Directories a command writes into, and exactly what it may remove there. Each command that
// writes a directory claims it first (a new or empty directory, or one it wrote before) and
// records every path before creating it, in the directory itself. Removal takes only recorded
// paths, never a file by the look of its name, and never through a link that leads elsewhere.
// Node only.
import {
  closeSync,
  existsSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { dirname, isAbsolute, join, normalize, resolve, sep } from 'node:path';

/** The record of what minigpt created in a directory; kept in the directory it describes. */
export const RECORD_FILE = '.minigpt-record.json';
const RECORD_NEXT = `${RECORD_FILE}.next`;
const LOCK_FILE = '.lock';
const RECORD_FORMAT = 'minigpt-record/1';
const MAX_RECORD_BYTES = 1 << 20;

/** What a directory holds, for the record and for messages. */
export type OutputKind = 'checkpoint' | 'token directory' | 'Hugging Face directory' | 'comparison';

const DESCRIPTIONS: Record<OutputKind, string> = {
  checkpoint: 'a checkpoint of minigpt train',
  'token directory': 'a token directory of minigpt prepare',
  'Hugging Face directory': 'a Hugging Face directory of minigpt export',
  comparison: 'a comparison of minigpt compare',
};

export interface RecordContents {
  format: typeof RECORD_FORMAT;
  kind: OutputKind;
  /** Paths (relative, `/`-separated) of what the directory's output consists of. */
  entries: string[];
  /** Paths of work in progress (staging directories, temporary links): a crash may leave them, and the next claim removes them. */
  temporary: string[];
}

/** Writes a file whole (a short write continues where it stopped) and syncs it to disk. */
export function writeSynced(path: string, content: string | Uint8Array, flag = 'w'): void {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const fd = openSync(path, flag);
  try {
    for (let written = 0; written < bytes.byteLength; ) written += writeSync(fd, bytes, written, bytes.byteLength - written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function isSafeEntry(entry: unknown): entry is string {
  return (
    typeof entry === 'string' &&
    entry !== '' &&
    !isAbsolute(entry) &&
    !entry.includes('\\') &&
    normalize(entry).split(sep).join('/') === entry &&
    !entry.split('/').includes('..') &&
    entry !== '.'
  );
}

/** A directory's record, or undefined when it has none; a record that is not one of ours is an error. */
export function readRecord(dir: string): RecordContents | undefined {
  const path = join(dir, RECORD_FILE);
  let size: number;
  try {
    const stat = lstatSync(path);
    if (!stat.isFile()) throw new Error(`${path} is not a regular file`);
    size = stat.size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (size > MAX_RECORD_BYTES) throw new Error(`${path} is larger than ${MAX_RECORD_BYTES >> 20} MiB: not a record of minigpt's`);
  let record: Partial<RecordContents>;
  try {
    record = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path} is not a record of minigpt's: ${(error as Error).message}`);
  }
  const valid =
    typeof record === 'object' &&
    record !== null &&
    record.format === RECORD_FORMAT &&
    typeof record.kind === 'string' &&
    record.kind in DESCRIPTIONS &&
    Array.isArray(record.entries) &&
    record.entries.every(isSafeEntry) &&
    Array.isArray(record.temporary) &&
    record.temporary.every(isSafeEntry);
  if (!valid) throw new Error(`${path} is not a record of minigpt's (format, kind, entries and temporary paths inside the directory expected)`);
  return record as RecordContents;
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

export interface DirectoryLock {
  release(): void;
}

/**
 * Takes `DIR/.lock` for this process, so that two commands never write one directory. A lock
 * left by a process of this machine that no longer runs is taken over; a live one is reported.
 * Take it only in a directory claimed by `claimDirectory` (which does so): `.lock` is then ours.
 */
export function lockDirectory(dir: string): DirectoryLock {
  const path = join(dir, LOCK_FILE);
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
    const owner = readLockOwner(path);
    // A lock still without its owner a second after it was made was left by a process killed
    // between creating it and writing it (a writer takes microseconds): it is stale too.
    const stale = owner === undefined || (owner.host === me.host && typeof owner.pid === 'number' && !processIsAlive(owner.pid));
    if (!stale) {
      throw new Error(
        `${dir} is in use by another minigpt command (pid ${owner.pid ?? '?'} on ${owner.host ?? '?'} since ${owner.since ?? '?'}); wait for it to finish, or remove ${path} if that process is gone`,
      );
    }
    rmSync(path, { force: true });
  }
  throw new Error(`could not take the lock ${path}`);
}

/**
 * The owner a lock file names, waiting up to a second for a lock just created to be written;
 * undefined when it stays unreadable (its writer was killed in between).
 */
function readLockOwner(path: string): Partial<LockOwner> | undefined {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let waited = 0; ; waited += 50) {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner>;
    } catch (error) {
      // Gone (released meanwhile), or still unwritten after a second: taken over.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || waited >= 1000) return undefined;
    }
    Atomics.wait(pause, 0, 0, 50);
  }
}

/** Whether `path` is inside `root` (or is it), both already resolved. */
function contains(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * Removes one recorded path: a file or link is unlinked (a link's target is never touched), a
 * directory removed only when empty. Every directory on the way must be the real one inside
 * `root`: a link there would lead the removal outside. Returns false for a directory that still
 * holds something (what is not ours stays).
 */
function removeInside(root: string, entry: string): boolean {
  const path = join(root, entry);
  let parent: string;
  try {
    parent = realpathSync(dirname(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
  const realRoot = realpathSync(root);
  if (parent !== resolve(realRoot, dirname(entry)) || !contains(realRoot, parent))
    throw new Error(`${path}: a link on the way leads outside ${root}; nothing there was removed`);
  let stat: ReturnType<typeof lstatSync>;
  try {
    stat = lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
  try {
    if (stat.isDirectory()) rmdirSync(path);
    else unlinkSync(path);
    return true;
  } catch (error) {
    if (['ENOTEMPTY', 'EEXIST'].includes((error as NodeJS.ErrnoException).code ?? '')) return false;
    throw error;
  }
}

function owns(contents: RecordContents, entry: string): boolean {
  return contents.entries.includes(entry) || contents.temporary.includes(entry);
}

/** Paths in `dir` that its record does not list (the record and the lock themselves aside). */
export function foreignEntries(dir: string, contents: RecordContents): string[] {
  const foreign: string[] = [];
  const visit = (relative: string) => {
    for (const name of readdirSync(join(dir, relative)).sort()) {
      const entry = relative === '' ? name : `${relative}/${name}`;
      if (relative === '' && (name === RECORD_FILE || name === RECORD_NEXT || name === LOCK_FILE)) continue;
      if (!owns(contents, entry)) foreign.push(entry);
      else if (lstatSync(join(dir, entry)).isDirectory()) visit(entry);
    }
  };
  visit('');
  return foreign;
}

/** A directory claimed by this process: what it may write, record and remove there. */
export class OwnedDirectory {
  private constructor(
    readonly dir: string,
    readonly kind: OutputKind,
    private contents: RecordContents,
    private readonly lock: DirectoryLock,
    /** Whether this claim made the directory (so giving it up removes it). */
    readonly created: boolean,
  ) {}

  /** @internal */
  static open(dir: string, kind: OutputKind, contents: RecordContents, lock: DirectoryLock, created: boolean): OwnedDirectory {
    return new OwnedDirectory(dir, kind, contents, lock, created);
  }

  /** The recorded output paths. */
  get entries(): readonly string[] {
    return this.contents.entries;
  }

  owns(entry: string): boolean {
    return owns(this.contents, entry);
  }

  /**
   * Paths in the directory that no command of ours recorded, first the top level's, then those
   * inside recorded directories; the record and the lock are ours by their creation.
   */
  foreignEntries(): string[] {
    return foreignEntries(this.dir, this.contents);
  }

  /** Records paths as output (`entries`) or work in progress (`temporary`), before they are created. */
  record({ entries = [], temporary = [] }: { entries?: string[]; temporary?: string[] }): void {
    for (const entry of [...entries, ...temporary]) if (!isSafeEntry(entry)) throw new Error(`not a path inside ${this.dir}: ${entry}`);
    this.contents = {
      ...this.contents,
      entries: [...new Set([...this.contents.entries, ...entries])],
      temporary: [...new Set([...this.contents.temporary, ...temporary])],
    };
    this.persist();
  }

  /**
   * Removes recorded paths and the recorded paths below them, deepest first, and forgets them.
   * A directory that holds anything not ours is left (with what is not ours in it).
   */
  remove(paths: string[]): void {
    const all = [...this.contents.entries, ...this.contents.temporary];
    const doomed = all.filter((entry) => paths.some((path) => entry === path || entry.startsWith(`${path}/`)));
    doomed.sort((a, b) => b.split('/').length - a.split('/').length || b.localeCompare(a));
    const kept = new Set<string>();
    for (const entry of doomed) {
      const below = [...kept].some((k) => k.startsWith(`${entry}/`));
      if (below || !removeInside(this.dir, entry)) kept.add(entry);
    }
    const gone = new Set(doomed.filter((entry) => !kept.has(entry)));
    this.contents = {
      ...this.contents,
      entries: this.contents.entries.filter((e) => !gone.has(e)),
      temporary: this.contents.temporary.filter((e) => !gone.has(e)),
    };
    this.persist();
  }

  /** Removes what crashed runs left (recorded work in progress); only called while holding the lock. */
  removeLeftovers(): void {
    const top = this.contents.temporary.filter((entry) => !this.contents.temporary.some((other) => entry.startsWith(`${other}/`)));
    if (top.length > 0) this.remove(top);
  }

  release(): void {
    this.lock.release();
  }

  /**
   * Gives the claim up after a refusal or a failure: a directory that holds no output and
   * nothing foreign loses its record too (and is removed if this claim made it).
   */
  abandon(): void {
    this.removeLeftovers();
    const unused = this.contents.entries.length === 0 && this.foreignEntries().length === 0;
    this.lock.release();
    if (!unused) return;
    unlinkSync(join(this.dir, RECORD_FILE));
    if (this.created) rmdirSync(this.dir);
  }

  private persist(): void {
    writeSynced(join(this.dir, RECORD_NEXT), `${JSON.stringify(this.contents, null, 2)}\n`);
    renameSync(join(this.dir, RECORD_NEXT), join(this.dir, RECORD_FILE));
    syncDirectory(this.dir);
  }
}

/** The error for a directory holding what is not ours: names the first such path. */
export function foreignFilesError(dir: string, foreign: string[], advice: string): Error {
  const more = foreign.length > 1 ? ` (and ${foreign.length - 1} more)` : '';
  return new Error(`${dir} holds ${foreign[0]}${more}, which minigpt did not write there; ${advice}`);
}

/** How messages name a kind of output. */
export function describeKind(kind: OutputKind): string {
  return DESCRIPTIONS[kind];
}

/**
 * Claims `dir` for `kind` and locks it: creates it (exclusively), or takes an empty one, or
 * opens one holding a record of this kind. Anything else is refused, naming the first file that
 * is not ours, before anything is written. Leftovers of crashed runs in it are removed.
 */
export function claimDirectory(dir: string, kind: OutputKind): OwnedDirectory {
  let created = false;
  if (!existsSync(dir)) {
    try {
      mkdirSync(dirname(resolve(dir)), { recursive: true });
      mkdirSync(dir);
      created = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`cannot create ${dir}: ${(error as Error).message}`);
    }
  }
  if (!statSync(dir).isDirectory()) throw new Error(`${dir} is a file, not a directory`);
  if (!readRecord(dir)) {
    const present = readdirSync(dir).sort();
    if (present.length > 0) throw foreignFilesError(dir, present, `choose a new or empty directory, or one that holds ${DESCRIPTIONS[kind]}`);
    const contents: RecordContents = { format: RECORD_FORMAT, kind, entries: [], temporary: [] };
    try {
      writeSynced(join(dir, RECORD_FILE), `${JSON.stringify(contents, null, 2)}\n`, 'wx');
    } catch (error) {
      // Another command claimed it at the same moment: its record is read below.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`cannot write to ${dir}: ${(error as Error).message}`);
    }
  }
  const existing = readRecord(dir)!;
  if (existing.kind !== kind) throw new Error(`${dir} holds ${DESCRIPTIONS[existing.kind]}, not ${DESCRIPTIONS[kind]}; choose another directory`);
  const lock = lockDirectory(dir);
  try {
    const owned = OwnedDirectory.open(dir, kind, readRecord(dir)!, lock, created);
    owned.removeLeftovers();
    return owned;
  } catch (error) {
    lock.release();
    throw error;
  }
}
