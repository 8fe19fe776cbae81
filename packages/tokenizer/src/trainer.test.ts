import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tokenizerFromJSON } from './json.js';
import { trainBpe, type TrainProgress } from './trainer.js';

// Varied enough that frequent pairs outlast a few hundred merges.
const WORDS = [
  'the',
  'cat',
  'sat',
  'on',
  'mat',
  'ate',
  'rat',
  'that',
  'is',
  'fat',
  'and',
  'not',
  'where',
  'every',
  'token',
  'finds',
  'its',
  'place',
  'embedding',
  'position',
  'rotary',
  'learned',
  'sinusoidal',
];
const CORPUS = Array.from({ length: 3000 }, (_, i) => WORDS[(i * i + 3 * i) % WORDS.length]).join(' ');

describe('trainBpe', () => {
  it('first merges the most frequent adjacent byte pair', () => {
    // Count pairs inside GPT-2 pieces by hand: in "aaa aaa ab", pieces are "aaa", " aaa", " ab";
    // "aa" occurs 2 + 2 = 4 times, more than any other pair.
    const tokenizer = trainBpe('aaa aaa ab', { vocabSize: 257, minFrequency: 1 });
    expect(tokenizer.vocabSize).toBe(257);
    expect(tokenizer.decode([256])).toBe('aa');
  });

  it('breaks ties by the smaller left id, then the smaller right id', () => {
    // "ab" and "cd" both occur twice: "ab" (0x61, 0x62) wins over "cd" (0x63, 0x64).
    const tokenizer = trainBpe('abcd abcd', { vocabSize: 257, pattern: '\\S+|\\s+' });
    expect(tokenizer.decode([256])).toBe('ab');
  });

  it('reaches the target size, is deterministic and compresses its corpus', () => {
    const a = trainBpe(CORPUS, { vocabSize: 300, specialTokens: ['<|endoftext|>'] });
    const b = trainBpe(CORPUS, { vocabSize: 300, specialTokens: ['<|endoftext|>'] });
    expect(a.vocabSize).toBe(300);
    expect(a.specialTokens.get('<|endoftext|>')).toBe(299);
    expect(a.toJSON()).toEqual(b.toJSON());
    expect(a.encode(CORPUS).length).toBeLessThan(new TextEncoder().encode(CORPUS).length / 4);
    expect(a.decode(a.encode(CORPUS))).toBe(CORPUS);
  });

  it('stops early when no pair is frequent enough', () => {
    const tokenizer = trainBpe('abcdef', { vocabSize: 1000, pattern: '\\S+|\\s+' });
    expect(tokenizer.vocabSize).toBe(256);
  });

  it('reports progress and saves/loads like the other tokenizers', () => {
    const reports: TrainProgress[] = [];
    const tokenizer = trainBpe(CORPUS, { vocabSize: 290, progressEvery: 10, onProgress: (p) => reports.push(p) });
    expect(reports.map((r) => r.merges)).toEqual([10, 20, 30, 34]);
    expect(reports.at(-1)).toEqual({ merges: 34, targetMerges: 34, vocabSize: 290 });
    const restored = tokenizerFromJSON(JSON.stringify(tokenizer));
    expect(restored.encode(CORPUS)).toEqual(tokenizer.encode(CORPUS));
  });

  it('round-trips any text, including text unlike its corpus', () => {
    const tokenizer = trainBpe(CORPUS, { vocabSize: 320 });
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
      }),
    );
  });

  it('refuses a target smaller than the byte alphabet', () => {
    expect(() => trainBpe(CORPUS, { vocabSize: 100 })).toThrow(/vocabSize must be an integer in \[256, 2097152\)/);
    expect(() => trainBpe(CORPUS, { vocabSize: 256, specialTokens: ['<s>'] })).toThrow(/\[257, /);
  });
});
