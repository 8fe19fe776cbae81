// What the CLI reads (texts, ids, tokenizer files, stdin), each read whole into memory and so
// bounded: a device such as /dev/zero, a FIFO or a 200 MB file is refused, not buffered.
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, type Stats, statSync } from 'node:fs';

/** The most bytes read from one input, file or stdin (as minigpt caps a corpus). */
export const MAX_INPUT_BYTES = 64 * 1024 * 1024;

const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;

/** One line naming `path` and what went wrong with it, for a failed file system call. */
export function fileError(path: string, error: unknown, doing = 'read'): Error {
  const { code, message } = error as NodeJS.ErrnoException;
  if (code === 'ENOENT') return new Error(`no such file: ${path}`);
  // Node says "too many symbolic links encountered"; the usual words, and what it means.
  if (code === 'ELOOP') return new Error(`${path}: too many levels of symbolic links (ELOOP: a symbolic link loop)`);
  return new Error(`cannot ${doing} ${path}: ${message}`);
}

/** Whether anything is at `path`, a dangling link or a link loop included (existsSync says no to both). */
export function entryExists(path: string): boolean {
  try {
    return lstatSync(path, { throwIfNoEntry: false }) !== undefined;
  } catch (error) {
    throw fileError(path, error);
  }
}

function kindOf(stat: Stats): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  return stat.isSocket() ? 'a socket' : 'not a file';
}

function refuseIrregular(path: string, stat: Stats): void {
  if (!stat.isFile()) throw new Error(`${path} is not a regular file (${kindOf(stat)})`);
}

export interface ReadLimit {
  /** Bytes allowed. Default `MAX_INPUT_BYTES`. */
  limit?: number;
  /** The message past `limit`, given the input's name. */
  tooLarge?: (name: string) => string;
}

function readFile(path: string, limit: number, tooLarge: (name: string) => string): Buffer {
  let fd: number | undefined;
  try {
    // Checked before opening: a FIFO's open waits for a writer, and /dev/zero never ends.
    refuseIrregular(path, statSync(path));
    // Non-blocking, and checked again, in case the path became a FIFO in between.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const stat = fstatSync(fd);
    refuseIrregular(path, stat);
    if (stat.size > limit) throw new Error(tooLarge(path));
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      // Read until the end rather than trust the size: the file may be growing.
      const chunk = Buffer.allocUnsafe(Math.min(1 << 20, limit + 1 - total));
      const read = readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) return Buffer.concat(chunks);
      total += read;
      if (total > limit) throw new Error(tooLarge(path));
      chunks.push(chunk.subarray(0, read));
    }
  } catch (error) {
    throw (error as NodeJS.ErrnoException).code === undefined ? error : fileError(path, error);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

async function readStdin(limit: number, tooLarge: (name: string) => string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    total += chunk.length;
    // Leaving the loop destroys the stream, so an endless stdin (< /dev/urandom) stops here.
    if (total > limit) throw new Error(tooLarge('stdin'));
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The UTF-8 text of a regular file, or of stdin for `-`, refused past the limit. */
export async function readInput(
  path: string,
  { limit = MAX_INPUT_BYTES, tooLarge = (name) => `${name} is larger than ${mib(limit)}, the most read into memory; use a smaller input` }: ReadLimit = {},
): Promise<string> {
  const bytes = path === '-' ? await readStdin(limit, tooLarge) : readFile(path, limit, tooLarge);
  return bytes.toString('utf8');
}
