// Training text read from files into memory, capped: a corpus larger than memory goes through
// `prepareTokenDirectory` instead. Node only.
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The largest corpus read into memory: past it, a text file is refused rather than exhausting memory. */
export const MAX_CORPUS_BYTES = 64 * 1024 * 1024;

/** Reads at most `limit` bytes of a regular file as a stream (a file growing while it is read is refused early too). */
function readLimited(path: string, limit: number, alreadyRead: number): Buffer {
  // A device never ends and a FIFO blocks the open itself: refused before opening.
  if (!statSync(path).isFile()) throw new Error(`${path} is not a regular file; a corpus is read from text files`);
  const fd = openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    const buffer = Buffer.allocUnsafe(1 << 20);
    let total = alreadyRead;
    for (;;) {
      const read = readSync(fd, buffer, 0, buffer.length, null);
      if (read === 0) return Buffer.concat(chunks);
      total += read;
      if (total > limit)
        throw new Error(`${path}: the corpus is larger than ${Math.round(limit / 2 ** 20)} MiB, the most read into memory; use a smaller text`);
      chunks.push(Buffer.from(buffer.subarray(0, read)));
    }
  } finally {
    closeSync(fd);
  }
}

/** UTF-8 text without a leading byte-order mark (a marker, not text: `prepareTokenDirectory` drops it too). */
function textOf(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * A text file, or the `.txt` files of a directory joined by newlines (sorted by name), read as
 * streams up to `maxBytes` in all (default `MAX_CORPUS_BYTES`).
 */
export function readCorpus(path: string, { maxBytes = MAX_CORPUS_BYTES }: { maxBytes?: number } = {}): string {
  try {
    if (statSync(path).isDirectory()) {
      const files = readdirSync(path)
        .filter((f) => f.endsWith('.txt'))
        .sort();
      if (files.length === 0) throw new Error(`${path} has no .txt files`);
      let read = 0;
      const parts = files.map((f) => {
        const bytes = readLimited(join(path, f), maxBytes, read);
        read += bytes.length;
        return textOf(bytes);
      });
      return parts.join('\n');
    }
    return textOf(readLimited(path, maxBytes, 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined) throw error;
    throw new Error(code === 'ENOENT' ? `no such file or directory: ${path}` : `cannot read ${path}: ${(error as Error).message}`);
  }
}
