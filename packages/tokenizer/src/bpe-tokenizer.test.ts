import fc from 'fast-check';
import { encode as referenceEncode } from 'gpt-tokenizer/encoding/r50k_base';
import { getEncoding } from 'js-tiktoken';
import { describe, expect, it } from 'vitest';
import { BpeTokenizer, GPT2_SPECIAL_TOKENS } from './bpe-tokenizer.js';
import { gpt2Files, VARIED_TEXT } from './fixtures/gpt2-files.js';
import { tokenizerFromJSON } from './json.js';
import { fromGpt2Files, fromHuggingFace, fromTiktoken } from './loaders.js';

const files = gpt2Files();
const loaders = {
  tiktoken: () => fromTiktoken(files.tiktoken, { specialTokens: GPT2_SPECIAL_TOKENS }),
  'tokenizer.json': () => fromHuggingFace(files.tokenizerJson),
  'encoder.json + vocab.bpe': () => fromGpt2Files(files.encoderJson, files.vocabBpe),
};
const jsTiktoken = getEncoding('gpt2');

describe.each(Object.entries(loaders))('GPT-2 BPE loaded from %s', (_format, load) => {
  const gpt2 = load();

  it('has GPT-2 vocabulary: 50,257 ids, <|endoftext|> = 50256', () => {
    expect(gpt2.vocabSize).toBe(50257);
    expect(gpt2.specialTokens).toEqual(new Map([['<|endoftext|>', 50256]]));
    expect(gpt2.encode('Hello world')).toEqual([15496, 995]);
    expect(gpt2.idToToken(995)).toBe('Ġworld');
    expect(gpt2.tokenToId('Ġworld')).toBe(995);
  });

  it('gives the reference encoders ids on varied text', () => {
    const ids = gpt2.encode(VARIED_TEXT);
    expect(ids).toEqual(referenceEncode(VARIED_TEXT));
    expect(ids).toEqual(jsTiktoken.encode(VARIED_TEXT));
    for (const line of VARIED_TEXT.split('\n')) expect(gpt2.encode(line), line).toEqual(jsTiktoken.encode(line));
  });

  it('matches the reference on random Unicode and round-trips it', () => {
    fc.assert(
      fc.property(fc.oneof(...(['binary', 'grapheme', 'binary-ascii'] as const).map((unit) => fc.string({ unit, maxLength: 80 }))), (text) => {
        const ids = gpt2.encode(text);
        expect(ids).toEqual(jsTiktoken.encode(text));
        expect(gpt2.decode(ids)).toBe(text);
      }),
      { numRuns: 300 },
    );
  });
});

describe('special tokens', () => {
  const gpt2 = loaders.tiktoken();

  it('are refused unless allowed, naming the token and its index', () => {
    expect(() => gpt2.encode('hi <|endoftext|>')).toThrow(/special token "<\|endoftext\|>" at index 3/);
    expect(gpt2.encode('hi<|endoftext|>there', { allowedSpecial: 'all' })).toEqual([5303, 50256, 8117]);
    expect(gpt2.encode('hi<|endoftext|>', { allowedSpecial: ['<|endoftext|>'] })).toEqual(jsTiktoken.encode('hi<|endoftext|>', ['<|endoftext|>']));
  });

  it('are plain text when explicitly not disallowed', () => {
    expect(gpt2.encode('<|endoftext|>', { disallowedSpecial: [] })).toEqual(jsTiktoken.encode('<|endoftext|>', [], []));
  });

  it('make canEncode false unless allowed; the separator is "\\n"', () => {
    expect(gpt2.canEncode('hi <|endoftext|>')).toBe(false);
    expect(gpt2.canEncode('hi <|endoftext|>', { allowedSpecial: 'all' })).toBe(true);
    expect(gpt2.canEncode('any text at all \u{E000} 😀')).toBe(true);
    expect(gpt2.separator).toBe('\n');
    expect(gpt2.encode(gpt2.separator)).toEqual([198]);
  });

  it('decode back to their text; unknown names are an error', () => {
    expect(gpt2.decode([5303, 50256])).toBe('hi<|endoftext|>');
    expect(() => gpt2.encode('x', { allowedSpecial: ['<|im_start|>'] })).toThrow(/unknown special token "<\|im_start\|>"/);
  });
});

describe('BpeTokenizer', () => {
  const gpt2 = loaders.tiktoken();

  it('round-trips toJSON / tokenizerFromJSON exactly', () => {
    const restored = tokenizerFromJSON(JSON.stringify(gpt2));
    expect(restored.toJSON()).toEqual(gpt2.toJSON());
    expect(restored.encode(VARIED_TEXT)).toEqual(gpt2.encode(VARIED_TEXT));
  });

  it('refuses out-of-range ids on decode, naming the id and position', () => {
    expect(() => gpt2.decode([15496, 50257])).toThrow(/id 50257 at position 1 is not a token/);
    expect(() => gpt2.decode([-1])).toThrow(/id -1 at position 0/);
    expect(() => gpt2.decode([1.5])).toThrow(/id 1.5/);
  });

  it('counts tokens and streams pieces', () => {
    expect(gpt2.countTokens(VARIED_TEXT)).toBe(referenceEncode(VARIED_TEXT).length);
    expect([...gpt2.encodeGenerator(VARIED_TEXT)].flat()).toEqual(gpt2.encode(VARIED_TEXT));
  });

  it('rejects a vocabulary that cannot encode every byte, or has duplicate tokens', () => {
    expect(() => new BpeTokenizer({ tokens: [Uint8Array.of(1)] })).toThrow(/byte 0x00 has no token/);
    const bytes = Array.from({ length: 256 }, (_, b) => Uint8Array.of(b));
    expect(() => new BpeTokenizer({ tokens: [...bytes, Uint8Array.of(7)] })).toThrow(/tokens 7 and 256 have the same bytes/);
    expect(() => new BpeTokenizer({ tokens: bytes, specialTokens: { '<x>': 3 } })).toThrow(/special token "<x>" has id 3, which is already taken/);
  });
});

describe('loaders', () => {
  it('name the line of a malformed rank file', () => {
    expect(() => fromTiktoken('IQ== 0\nnot a rank line\n')).toThrow(/line 2: expected "<base64 token> <rank>"/);
    expect(() => fromTiktoken('')).toThrow(/no ranks found/);
  });

  it('refuse a tokenizer.json that is not byte-level BPE', () => {
    expect(() => fromHuggingFace('{')).toThrow(/tokenizer.json: not valid JSON/);
    expect(() => fromHuggingFace({ model: { type: 'WordPiece' } })).toThrow(/model.type must be "BPE", got "WordPiece"/);
    expect(() => fromHuggingFace({ model: { type: 'BPE', vocab: {}, merges: [] }, pre_tokenizer: { type: 'Whitespace' } })).toThrow(/must be ByteLevel/);
  });

  it('name a merge whose result is missing from encoder.json', () => {
    const vocab = JSON.parse(gpt2Files().encoderJson);
    delete vocab['Ġt'];
    expect(() => fromGpt2Files(JSON.stringify(vocab), gpt2Files().vocabBpe)).toThrow(/merge 1 \("Ġ t"\) produces "Ġt", which is not in the vocabulary/);
  });

  it('keep a merge order that differs from id order (RoBERTa-style vocabularies)', () => {
    const json = JSON.parse(gpt2Files().tokenizerJson);
    const vocab: Record<string, number> = json.model.vocab;
    // Swap the ids of two merged tokens: the merges must still apply in list order.
    const [a, b] = ['Ġt', 'Ġa'];
    [vocab[a], vocab[b]] = [vocab[b]!, vocab[a]!];
    const swapped = fromHuggingFace(json);
    const original = fromHuggingFace(gpt2Files().tokenizerJson);
    const text = 'a tall tale at a table';
    const remap = (id: number) => (id === original.tokenToId(a) ? vocab[a]! : id === original.tokenToId(b) ? vocab[b]! : id);
    expect(swapped.encode(text)).toEqual(original.encode(text).map(remap));
    expect(swapped.toJSON().mergePriority).toBeDefined();
  });
});
