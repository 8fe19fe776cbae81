import { describe, expect, it } from 'vitest';
import { GPT2_SPECIAL_TOKENS } from './bpe-tokenizer.js';
import { gpt2Files } from './fixtures/gpt2-files.js';
import { fromTiktoken } from './loaders.js';
import { decodeStream, StreamingDecoder } from './streaming-decoder.js';

const gpt2 = fromTiktoken(gpt2Files().tiktoken, { specialTokens: GPT2_SPECIAL_TOKENS });

describe('StreamingDecoder', () => {
  it('holds back a character split across tokens until it is complete', () => {
    const ids = gpt2.encode('😀');
    expect(ids.length).toBeGreaterThan(1); // GPT-2 splits this emoji's four bytes
    const decoder = new StreamingDecoder(gpt2);
    const pieces = ids.map((id) => decoder.push(id));
    expect(pieces.slice(0, -1).every((p) => p === '')).toBe(true);
    expect(pieces.at(-1)).toBe('😀');
    expect(decoder.flush()).toBe('');
  });

  it('never yields a broken character, and its pieces join to decode()', async () => {
    const text = 'naïve 日本語 👨‍👩‍👧 ok';
    const pieces: string[] = [];
    for await (const piece of decodeStream(gpt2, gpt2.encode(text))) pieces.push(piece);
    expect(pieces.join('')).toBe(text);
    expect(pieces.some((p) => p.includes('\uFFFD'))).toBe(false);
  });

  it('ends an unfinished character as U+FFFD on flush', () => {
    const decoder = new StreamingDecoder(gpt2);
    expect(decoder.push(gpt2.encode('😀')[0]!)).toBe('');
    expect(decoder.flush()).toBe('\uFFFD');
  });
});
