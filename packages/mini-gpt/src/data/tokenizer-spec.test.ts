import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tokenizerFromSpec } from './tokenizer-spec.js';

const dir = mkdtempSync(join(tmpdir(), 'embedlab-tokenizer-spec-'));

describe('tokenizerFromSpec', () => {
  it('builds char and BPE tokenizers on the corpus, and names what is wrong with a spec', () => {
    expect(tokenizerFromSpec('char', 'abca').vocabSize).toBe(3);
    expect(tokenizerFromSpec('bpe:260', 'abab abab abab').vocabSize).toBeLessThanOrEqual(260);
    expect(() => tokenizerFromSpec('bpe:many', 'ab')).toThrow('`tokenizer: bpe:SIZE` needs an integer size, got "many"');
    expect(() => tokenizerFromSpec('word', 'ab')).toThrow('`tokenizer` must be char, bpe:SIZE or gpt2:FILE, got "word"');
    expect(() => tokenizerFromSpec(`gpt2:${join(dir, 'nothing.tiktoken')}`, 'ab')).toThrow('no such file or directory');
  });
});
