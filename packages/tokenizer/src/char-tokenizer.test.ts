import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CharTokenizer } from './char-tokenizer.js';
import { tokenizerFromJSON } from './json.js';

// nanoGPT's shakespeare_char vocabulary: the 65 distinct characters of tiny Shakespeare.
const SHAKESPEARE_CHARS = "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

describe('CharTokenizer', () => {
  it("reproduces nanoGPT's Shakespeare ids (65 characters)", () => {
    const tokenizer = CharTokenizer.fromCorpus([...SHAKESPEARE_CHARS].reverse().join(''));
    expect(tokenizer.vocabSize).toBe(65);
    // From "Let's build GPT" (Karpathy, 2023): encode("hii there").
    expect(tokenizer.encode('hii there')).toEqual([46, 47, 47, 1, 58, 46, 43, 56, 43]);
    expect(tokenizer.decode([46, 47, 47, 1, 58, 46, 43, 56, 43])).toBe('hii there');
  });

  it("builds microgpt's 27-token names vocabulary: 26 letters then BOS", () => {
    const tokenizer = CharTokenizer.fromCorpus('emma\nolivia\nava\nisabella\nsophia\nzquxjkwygfdtnpcrb', { specialTokens: ['<BOS>'] });
    const letters = CharTokenizer.fromCorpus('abcdefghijklmnopqrstuvwxyz', { specialTokens: ['<BOS>'] });
    expect(letters.vocabSize).toBe(27);
    expect(letters.encode('<BOS>emma<BOS>', { allowedSpecial: 'all' })).toEqual([26, 4, 12, 12, 0, 26]);
    expect(tokenizer.specialTokens.get('<BOS>')).toBe(tokenizer.vocabSize - 1);
  });

  it('treats code points, not UTF-16 units, as characters', () => {
    const tokenizer = CharTokenizer.fromCorpus('a😀b𝔘');
    expect(tokenizer.vocabSize).toBe(4);
    // Sorted by code point: a, b, 𝔘 (U+1D518), 😀 (U+1F600).
    expect(tokenizer.encode('😀a𝔘')).toEqual([3, 0, 2]);
    expect(tokenizer.idToToken(3)).toBe('😀');
    expect(Array.from(tokenizer.tokenBytes(3))).toEqual([0xf0, 0x9f, 0x98, 0x80]);
  });

  it('names an unknown character and its position, or maps it to <unk>', () => {
    const strict = CharTokenizer.fromCorpus('abc');
    expect(() => strict.encode('ab😀c')).toThrow('character "😀" (U+1F600) at position 2 is not in the vocabulary of 3 characters');
    const lenient = CharTokenizer.fromCorpus('abc', { unknown: 'unk' });
    expect(lenient.encode('aXc')).toEqual([0, 3, 2]);
    expect(lenient.decode([0, 3])).toBe('a<unk>');
  });

  it('refuses bad input clearly', () => {
    expect(() => CharTokenizer.fromCorpus('')).toThrow(/corpus is empty/);
    expect(() => CharTokenizer.fromCorpus('ab').decode([0, 2])).toThrow('id 2 at position 1 is not in [0, 2)');
    expect(() => CharTokenizer.fromCorpus('ab', { specialTokens: ['<s>'] }).encode('a<s>')).toThrow(/special token "<s>" at index 1/);
  });

  it('says which text it can encode, and offers a separator that always encodes (a corpus without "\\n" has none)', () => {
    // Names joined by spaces: the "\n" that prompts and document separators default to is not in it.
    const spaced = CharTokenizer.fromCorpus('emma olivia ava', { specialTokens: ['<BOS>'] });
    expect(() => spaced.encode('\n')).toThrow(/character "\\n" \(U\+000A\) at position 0 is not in the vocabulary/);
    expect(spaced.canEncode('\n')).toBe(false);
    expect(spaced.canEncode('ava emma')).toBe(true);
    expect(spaced.canEncode('<BOS>ava')).toBe(false);
    expect(spaced.canEncode('<BOS>ava', { allowedSpecial: 'all' })).toBe(true);
    expect(() => spaced.canEncode('a', { allowedSpecial: ['<EOS>'] })).toThrow(/unknown special token "<EOS>"/);
    expect(spaced.separator).toBe(' ');
    expect(CharTokenizer.fromCorpus('emma\nava\n').separator).toBe('\n');
    expect(CharTokenizer.fromCorpus('emmaava').separator).toBe('a');
    // A single-character special token is refused as text, so it is never the separator.
    expect(CharTokenizer.fromCorpus('ab', { specialTokens: ['a'] }).separator).toBe('b');
    expect(CharTokenizer.fromCorpus('abc', { unknown: 'unk' }).canEncode('\n')).toBe(true);
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 1 }), (corpus) => {
        const tokenizer = CharTokenizer.fromCorpus(corpus);
        expect(tokenizer.canEncode(tokenizer.separator)).toBe(true);
        expect(tokenizer.encode(tokenizer.separator)).toHaveLength(1);
        const restored = tokenizerFromJSON(JSON.stringify(tokenizer));
        expect(restored.separator).toBe(tokenizer.separator);
      }),
    );
  });

  it('round-trips toJSON / tokenizerFromJSON exactly', () => {
    const tokenizer = CharTokenizer.fromCorpus('hello world', { specialTokens: ['<BOS>'], unknown: 'unk' });
    const restored = tokenizerFromJSON(JSON.parse(JSON.stringify(tokenizer)));
    expect(restored.toJSON()).toEqual(tokenizer.toJSON());
    expect(restored.encode('hello?<BOS>', { allowedSpecial: 'all' })).toEqual(tokenizer.encode('hello?<BOS>', { allowedSpecial: 'all' }));
  });

  it('decode(encode(s)) === s for any text over its vocabulary', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 1 }), fc.nat(), (corpus, seed) => {
        const tokenizer = CharTokenizer.fromCorpus(corpus);
        const chars = [...corpus];
        const text = chars.map((_, i) => chars[(i * 7 + seed) % chars.length]).join('');
        expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
      }),
    );
  });
});
