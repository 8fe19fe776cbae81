// Files read whole are checked before they are opened: a regular file (a FIFO or a device would
// block or never end) no larger than a limit (the read allocates it all). Node only.
import { readFileSync, statSync } from 'node:fs';

/** Node reads at most this many bytes into one buffer. */
export const MAX_READ_BYTES = 2 ** 31 - 1;

const shownBytes = (bytes: number) => (bytes % 2 ** 20 === 0 ? `${bytes / 2 ** 20} MiB` : `${bytes} bytes`);

/** Refuses, before it is opened, a `path` that is not a regular file or has more than `limit` bytes; `what` names the kind of file. */
export function checkFileSize(path: string, limit: number, what: string): void {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) throw new Error(`no such file or directory: ${path}`);
  if (!stat.isFile()) throw new Error(`${path} is not a regular file`);
  if (stat.size > limit) throw new Error(`${path} is ${stat.size} bytes, more than the ${shownBytes(limit)} ${what} may have`);
}

/** A UTF-8 file read whole, after `checkFileSize`. */
export function readTextCapped(path: string, limit: number, what: string): string {
  checkFileSize(path, limit, what);
  return readFileSync(path, 'utf8');
}
