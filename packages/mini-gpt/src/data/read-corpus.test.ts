import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCorpus } from './read-corpus.js';

const dir = mkdtempSync(join(tmpdir(), 'embedlab-corpus-'));

describe('readCorpus', () => {
  it('reads a file, or the .txt files of a directory in name order', () => {
    const texts = join(dir, 'texts');
    mkdirSync(texts);
    writeFileSync(join(texts, 'b.txt'), 'second');
    writeFileSync(join(texts, 'a.txt'), 'first');
    writeFileSync(join(texts, 'c.md'), 'ignored');
    expect(readCorpus(texts)).toBe('first\nsecond');
    expect(readCorpus(join(texts, 'b.txt'))).toBe('second');
  });

  it('refuses a device or a pipe before opening it (a FIFO would block), and stops reading at the size limit', () => {
    expect(() => readCorpus('/dev/zero')).toThrow('/dev/zero is not a regular file; a corpus is read from text files');
    const fifo = join(dir, 'fifo.txt');
    execFileSync('mkfifo', [fifo]);
    expect(() => readCorpus(fifo)).toThrow(`${fifo} is not a regular file`);
    const huge = join(dir, 'huge.txt');
    writeFileSync(huge, 'x');
    truncateSync(huge, 4 * 2 ** 20);
    expect(() => readCorpus(huge, { maxBytes: 3 * 2 ** 20 })).toThrow(
      `${huge}: the corpus is larger than 3 MiB, the most read into memory; use a smaller text`,
    );
    const texts = join(dir, 'big');
    mkdirSync(texts);
    writeFileSync(join(texts, 'a.txt'), 'x'.repeat(600));
    writeFileSync(join(texts, 'b.txt'), 'y'.repeat(600));
    expect(() => readCorpus(texts, { maxBytes: 1000 })).toThrow(/b\.txt: the corpus is larger than/);
    expect(() => readCorpus(join(dir, 'missing.txt'))).toThrow(`no such file or directory: ${join(dir, 'missing.txt')}`);
  });
});
