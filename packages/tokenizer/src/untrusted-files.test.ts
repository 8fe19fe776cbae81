// Hostile tokenizer files, built here: each must be refused quickly, with an error that names the
// file or field and the value, before anything is allocated for it.
import { describe, expect, it } from 'vitest';
import { GPT2_SPECIAL_TOKENS } from './bpe-tokenizer.js';
import { CharTokenizer } from './char-tokenizer.js';
import { gpt2Files } from './fixtures/gpt2-files.js';
import { tokenizerFromJSON } from './json.js';
import { fromGpt2Files, fromHuggingFace, fromTiktoken } from './loaders.js';
import { trainBpe } from './trainer.js';
import type { SerializedBpeTokenizer } from './types.js';

function quickly(fn: () => unknown, message: RegExp, ms = 10_000): void {
  const start = performance.now();
  expect(fn).toThrow(message);
  expect(performance.now() - start).toBeLessThan(ms);
}

const bpe = trainBpe('hello world, hello tokens. '.repeat(20), { vocabSize: 270, specialTokens: ['<|endoftext|>'] }).toJSON();
const withField = (fields: Record<string, unknown>) => JSON.stringify({ ...bpe, ...fields });

describe("this package's tokenizer JSON (tokenizerFromJSON)", () => {
  it('refuses a pattern that would hang, take 52 s or drop text, naming the field and the value', () => {
    quickly(() => tokenizerFromJSON(withField({ pattern: '' })), /BPE tokenizer JSON: field "pattern": the pattern must be a non-empty string/);
    quickly(() => tokenizerFromJSON(withField({ pattern: 'x*' })), /field "pattern": the pre-tokenisation pattern "x\*" matches the empty string/);
    quickly(() => tokenizerFromJSON(withField({ pattern: '(a+)+$' })), /field "pattern": pattern "\(a\+\)\+\$" repeats the group/, 1000);
    quickly(() => tokenizerFromJSON(withField({ pattern: '[a-z]+' })), /field "pattern": the pre-tokenisation pattern "\[a-z\]\+" matches nothing at index 0/);
    quickly(() => tokenizerFromJSON(withField({ pattern: null })), /field "pattern": the pattern must be a non-empty string.*got null/);
  });

  it('refuses an empty special token (it looped until out of memory) and out-of-range or malformed ids', () => {
    quickly(() => tokenizerFromJSON(withField({ specialTokens: { '': 270 } })), /BPE tokenizer JSON: a special token is the empty string \(id 270\)/);
    quickly(
      () => tokenizerFromJSON(withField({ specialTokens: { '<x>': 1e9 } })),
      /special token "<x>" has id 1000000000; with 269 token ids and 1 special tokens, ids must be below 1294/,
    );
    quickly(() => tokenizerFromJSON(withField({ specialTokens: { '<x>': -1 } })), /special token "<x>" has id -1, not a non-negative integer/);
    quickly(() => tokenizerFromJSON(withField({ specialTokens: { '<x>': '7' } })), /special token "<x>" has id "7", not a non-negative integer/);
    quickly(() => tokenizerFromJSON(withField({ specialTokens: [] })), /field "specialTokens" must be an object of name -> id, got \[\]/);
    quickly(() => tokenizerFromJSON(withField({ tokens: 'AA==' })), /field "tokens" must be an array/);
    quickly(() => tokenizerFromJSON(withField({ tokens: [...bpe.tokens, 42] })), /field "tokens", entry 269 is not a base64 string or null: 42/);
    quickly(() => tokenizerFromJSON(withField({ mergePriority: ['constructor'] })), /merge priority 0 names id "constructor", which has no token/);
    quickly(() => tokenizerFromJSON(withField({ mergePriority: [1e9] })), /merge priority 0 names id 1000000000, which has no token/);
    quickly(() => tokenizerFromJSON(withField({ mergePriority: 3 })), /field "mergePriority" must be an array of ids, got 3/);
    quickly(() => tokenizerFromJSON('null'), /format must be "embedlab-tokenizer", got undefined/);
  });

  it('refuses malformed char tokenizers, naming the field and entry', () => {
    const char = CharTokenizer.fromCorpus('abc').toJSON();
    quickly(() => tokenizerFromJSON({ ...char, specialTokens: [''] }), /char tokenizer JSON: specialTokens entry 0 \(""\) is not a non-empty string/);
    quickly(() => tokenizerFromJSON({ ...char, chars: [1, 2] } as never), /char tokenizer JSON: chars entry 0 \(1\) is not a single character/);
    quickly(() => tokenizerFromJSON({ ...char, chars: [] }), /char tokenizer JSON: field "chars" must be a non-empty array/);
    quickly(() => tokenizerFromJSON({ ...char, unknownToken: 5 } as never), /the unknown token 5 is not among the special tokens/);
  });

  it('still loads what it saves', () => {
    const restored = tokenizerFromJSON(JSON.stringify(bpe));
    expect((restored.toJSON() as SerializedBpeTokenizer).tokens).toEqual(bpe.tokens);
  });
});

describe('tiktoken, Hugging Face and GPT-2 files', () => {
  const files = gpt2Files();

  it('refuse a tiktoken rank of 1e9 (it aborted Node with a fatal heap error) before allocating', () => {
    const lines = files.tiktoken.trimEnd().split('\n');
    lines[300] = lines[300]!.replace(/ \d+$/, ' 1000000000');
    quickly(
      () => fromTiktoken(lines.join('\n'), { specialTokens: GPT2_SPECIAL_TOKENS }),
      /tiktoken rank file, line 301: rank 1000000000 is out of range: the file has 50256 ranks, so they must be below 51280/,
    );
    quickly(() => fromTiktoken('IQ== 0\n!!!! 1\n'), /line 2: expected "<base64 token> <rank>"/);
    quickly(() => fromTiktoken('IQ== 0\nA 1\n'), /line 2: "A" is not valid base64/);
  });

  it('refuse Hugging Face and encoder.json ids far beyond the number of tokens, and empty added tokens', () => {
    const json = JSON.parse(files.tokenizerJson);
    quickly(
      () => fromHuggingFace({ ...json, added_tokens: [{ id: 1e9, content: '<big>', special: true }] }),
      /tokenizer.json: added token "<big>" has id 1000000000, out of range: the file has 50258 distinct tokens, so ids must be below 51282/,
    );
    quickly(
      () => fromHuggingFace({ ...json, added_tokens: [{ id: 50257, content: '', special: true }] }),
      /tokenizer.json: added_tokens\[0\].content must be a non-empty string, got ""/,
    );
    quickly(() => fromHuggingFace({ ...json, added_tokens: {} }), /added_tokens must be an array/);
    quickly(
      () => fromHuggingFace({ ...json, model: { ...json.model, vocab: { ...json.model.vocab, Ġzz: 1e9 } } }),
      /token "Ġzz" has id 1000000000, out of range/,
    );
    quickly(() => fromHuggingFace({ ...json, model: { ...json.model, vocab: { ...json.model.vocab, Ġzz: 7 } } }), /tokens "\(" and "Ġzz" both have id 7/);
    quickly(() => fromHuggingFace({ ...json, model: { ...json.model, merges: [42] } }), /model.merges\[0\] is not a pair of tokens: 42/);
    quickly(() => fromHuggingFace('null'), /tokenizer.json: expected an object, got null/);
    const encoder = JSON.parse(files.encoderJson);
    quickly(
      () => fromGpt2Files(JSON.stringify({ ...encoder, '<|endoftext|>': 1e9 }), files.vocabBpe),
      /encoder.json: token "<\|endoftext\|>" has id 1000000000, out of range/,
    );
    quickly(
      () => fromGpt2Files(JSON.stringify({ ...encoder, '<|endoftext|>': 2.5 }), files.vocabBpe),
      /encoder.json: token "<\|endoftext\|>" has id 2.5, not a non-negative integer/,
    );
  });
});
