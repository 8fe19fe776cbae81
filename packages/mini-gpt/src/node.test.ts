import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCorpus, tokenizerFromSpec } from './node.js';

const dir = mkdtempSync(join(tmpdir(), 'embedlab-node-'));

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

  it('stops reading at the size limit, so an endless device or a huge file is refused, not swallowed', () => {
    expect(() => readCorpus('/dev/zero', { maxBytes: 3 * 2 ** 20 })).toThrow(
      '/dev/zero: the corpus is larger than 3 MiB, the most read into memory; use a smaller text',
    );
    const texts = join(dir, 'big');
    mkdirSync(texts);
    writeFileSync(join(texts, 'a.txt'), 'x'.repeat(600));
    writeFileSync(join(texts, 'b.txt'), 'y'.repeat(600));
    expect(() => readCorpus(texts, { maxBytes: 1000 })).toThrow(/b\.txt: the corpus is larger than/);
    expect(() => readCorpus(join(dir, 'missing.txt'))).toThrow(`no such file or directory: ${join(dir, 'missing.txt')}`);
  });
});

describe('tokenizerFromSpec', () => {
  it('builds char and BPE tokenizers on the corpus, and names what is wrong with a spec', () => {
    expect(tokenizerFromSpec('char', 'abca').vocabSize).toBe(3);
    expect(tokenizerFromSpec('bpe:260', 'abab abab abab').vocabSize).toBeLessThanOrEqual(260);
    expect(() => tokenizerFromSpec('bpe:many', 'ab')).toThrow('--tokenizer bpe:SIZE needs an integer size, got "many"');
    expect(() => tokenizerFromSpec('word', 'ab')).toThrow('--tokenizer must be char, bpe:SIZE or gpt2:FILE, got "word"');
    expect(() => tokenizerFromSpec(`gpt2:${join(dir, 'nothing.tiktoken')}`, 'ab')).toThrow('no such file or directory');
  });
});
