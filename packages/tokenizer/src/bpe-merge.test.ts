import fc from 'fast-check';
import { encode as referenceEncode } from 'gpt-tokenizer/encoding/r50k_base';
import { describe, expect, it } from 'vitest';
import { type MergeRanks, mergeByScanning, mergeLinked } from './bpe-merge.js';
import { GPT2_SPECIAL_TOKENS } from './bpe-tokenizer.js';
import { gpt2Files } from './fixtures/gpt2-files.js';
import { fromTiktoken } from './loaders.js';

/** The definition, written as plainly as possible: join the lowest-ranked adjacent pair (leftmost among equals) until none is ranked. */
function referenceParts(text: string, ranks: ReadonlyMap<string, number>): string[] {
  let parts = [...text];
  for (;;) {
    let best = -1;
    let bestRank = Infinity;
    for (let i = 0; i + 1 < parts.length; i++) {
      const rank = ranks.get(parts[i]! + parts[i + 1]!);
      if (rank !== undefined && rank < bestRank) {
        bestRank = rank;
        best = i;
      }
    }
    if (best < 0) return parts;
    parts = [...parts.slice(0, best), parts[best]! + parts[best + 1]!, ...parts.slice(best + 2)];
  }
}

function table(ranks: ReadonlyMap<string, number>): MergeRanks {
  let maxTokenLength = 0;
  let rankLimit = 0;
  for (const [key, rank] of ranks) {
    maxTokenLength = Math.max(maxTokenLength, key.length);
    rankLimit = Math.max(rankLimit, rank + 1);
  }
  return { ranks, maxTokenLength, rankLimit };
}

const partsOf = (text: string, starts: number[]) => starts.slice(0, -1).map((start, i) => text.slice(start, starts[i + 1]));

describe('BPE merging', () => {
  // Two or three letters and short tokens, so that merges interact often.
  const letter = fc.constantFrom('a', 'b', 'c');
  const vocabulary = fc
    .oneof(
      fc.uniqueArray(fc.string({ unit: fc.constantFrom('a', 'b'), minLength: 2, maxLength: 4 }), { maxLength: 20 }),
      fc.uniqueArray(fc.string({ unit: letter, minLength: 2, maxLength: 6 }), { maxLength: 40 }),
    )
    .map((tokens) => new Map(tokens.map((t, rank) => [t, rank])));
  const text = fc.oneof(
    fc.string({ unit: letter, maxLength: 300 }),
    // Long repetitive runs: the inputs that made the scanning merge quadratic.
    fc.tuple(fc.string({ unit: letter, minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 1500 })).map(([unit, times]) => unit.repeat(times)),
  );

  // Random ranks are far from merge order, so rank buckets meet many out-of-order merges: the
  // linked merge is checked with buckets only, the heap only, and its default switch between them.
  it('by rank buckets, by heap, and by scanning gives exactly the parts of the definition (random vocabularies, random and repetitive text)', () => {
    fc.assert(
      fc.property(vocabulary, text, (ranks, key) => {
        const expected = referenceParts(key, ranks);
        for (const maxOutOfOrder of [Infinity, -1, 16, 0])
          expect(partsOf(key, mergeLinked(key, table(ranks), maxOutOfOrder)), `maxOutOfOrder ${maxOutOfOrder}`).toEqual(expected);
        if (key.length <= 300) expect(partsOf(key, mergeByScanning(key, table(ranks)))).toEqual(expected);
      }),
      { numRuns: 400 },
    );
  });

  it('waits for a lower-ranked pair formed by a merge (ranks out of merge order)', () => {
    // Joining "ab" (rank 5) forms "aba" (rank 1): it goes before the second "ab".
    const ranks = new Map([
      ['ab', 5],
      ['aba', 1],
    ]);
    expect(referenceParts('abab', ranks)).toEqual(['aba', 'b']);
    for (const maxOutOfOrder of [Infinity, -1, 16, 0]) expect(partsOf('abab', mergeLinked('abab', table(ranks), maxOutOfOrder))).toEqual(['aba', 'b']);
  });

  it("linked gives the definition's parts with GPT-2's ranks on long runs of digits, newlines and punctuation", () => {
    const gpt2 = fromTiktoken(gpt2Files().tiktoken);
    const ranks = new Map<string, number>();
    for (let id = 256; id < gpt2.vocabSize; id++) ranks.set(String.fromCharCode(...gpt2.tokenBytes(id)), id);
    fc.assert(
      fc.property(fc.constantFrom('0', '7', '12', '\n', ' ', '!?', '!', '-', '=', '.', 'a', 'ab'), fc.integer({ min: 1, max: 1200 }), (unit, times) => {
        const key = unit.repeat(times);
        const expected = referenceParts(key, ranks);
        for (const maxOutOfOrder of [Infinity, -1]) expect(partsOf(key, mergeLinked(key, table(ranks), maxOutOfOrder))).toEqual(expected);
      }),
      { numRuns: 60 },
    );
  });
});

describe('GPT-2 encoding of long pieces', () => {
  const gpt2 = fromTiktoken(gpt2Files().tiktoken, { specialTokens: GPT2_SPECIAL_TOKENS });

  it('gives gpt-tokenizer ids on long runs without spaces', () => {
    for (const text of [
      '\n'.repeat(8_000),
      '1234567890'.repeat(800),
      '!?'.repeat(4_000),
      `x${'='.repeat(3_000)}y`,
      '😀'.repeat(2_000),
      ` ${'a'.repeat(5_999)}`,
    ]) {
      expect(gpt2.encode(text), JSON.stringify(text.slice(0, 12))).toEqual(referenceEncode(text));
    }
  });

  it('takes linear time: 128 KB of newlines, 1e6 digits and "!?" x 1e5 in seconds, not minutes', () => {
    // Before the heap merge: 17 s, ~18 min and 33 s.
    const start = performance.now();
    const newlines = gpt2.encode('\n'.repeat(131_072));
    const digits = gpt2.encode('1234567890'.repeat(100_000));
    const punctuation = gpt2.encode('!?'.repeat(100_000));
    const seconds = (performance.now() - start) / 1000;
    expect(gpt2.decode(newlines)).toBe('\n'.repeat(131_072));
    expect(digits.length).toBeGreaterThan(1e6 / 4);
    expect(gpt2.decode(punctuation)).toBe('!?'.repeat(100_000));
    expect(seconds).toBeLessThan(15);
  });
});
