import { ready } from '@embedlab/runtime';
import { CharTokenizer } from '@embedlab/tokenizer';
import { beforeAll, describe, expect, it } from 'vitest';
import type { GPTConfig, PositionKind } from './config.js';
import { generate, generateText, type GenerateOptions } from './generate.js';
import { createModel } from './model.js';

const config: GPTConfig = { vocabSize: 13, blockSize: 6, nLayer: 2, nHead: 2, nEmbd: 8, dropout: 0, bias: true, position: 'learned', tieWeights: true, gelu: 'tanh' };

async function collect(iterator: AsyncIterable<number>): Promise<number[]> {
  const out: number[] = [];
  for await (const id of iterator) out.push(id);
  return out;
}

describe('generate', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    await ready();
  });

  const cases: [PositionKind, Partial<GenerateOptions>][] = [
    ['learned', {}],
    ['sinusoidal', {}],
    ['rope', { allowExtrapolation: true }],
    ['alibi', { allowExtrapolation: true }],
    ['none', {}],
  ];
  it.each(cases)('gives the same tokens with and without the KV cache, past blockSize (%s)', async (position, extra) => {
    const model = createModel({ ...config, position }, 21);
    for (const sampling of [{ temperature: 0 }, { temperature: 1.5, topK: 8, seed: 4 }]) {
      const options = { maxNewTokens: 14, ...sampling, ...extra };
      const cached = await collect(generate(model, [1, 2, 3], options));
      const recomputed = await collect(generate(model, [1, 2, 3], { ...options, cache: false }));
      expect(cached).toHaveLength(14);
      expect(cached).toEqual(recomputed);
    }
  });

  it('is reproducible by seed, and stops on a stop token', async () => {
    const model = createModel(config, 22);
    const a = await collect(generate(model, [1], { maxNewTokens: 10, seed: 9 }));
    expect(await collect(generate(model, [1], { maxNewTokens: 10, seed: 9 }))).toEqual(a);
    const stopAt = a[3]!;
    const stopped = await collect(generate(model, [1], { maxNewTokens: 10, seed: 9, stop: [stopAt] }));
    expect(stopped.at(-1)).toBe(stopAt);
    expect(stopped.length).toBe(a.indexOf(stopAt) + 1);
  });

  it('streams text through the tokenizer', async () => {
    const tokenizer = CharTokenizer.fromCorpus('abcdefghijklm');
    const model = createModel(config, 23);
    let text = '';
    for await (const piece of generateText(model, tokenizer, 'abc', { maxNewTokens: 5, seed: 1 })) text += piece;
    expect([...text]).toHaveLength(5);
    // The very tokens generate() draws for the encoded prompt, decoded in one go.
    const ids = await collect(generate(model, tokenizer.encode('abc'), { maxNewTokens: 5, seed: 1, vocabularySize: tokenizer.vocabSize }));
    expect(text).toBe(tokenizer.decode(ids));
    expect([...text].every((char) => 'abcdefghijklm'.includes(char))).toBe(true);
  });

  it('refuses bad prompts and options', async () => {
    const model = createModel(config, 24);
    await expect(collect(generate(model, [], { maxNewTokens: 1 }))).rejects.toThrow(/the prompt is empty/);
    await expect(collect(generate(model, [1, 13], { maxNewTokens: 1 }))).rejects.toThrow('generate: prompt id 13 at position 1 is outside [0, 13)');
    await expect(collect(generate(model, [1], { maxNewTokens: 1, allowExtrapolation: true }))).rejects.toThrow(/learned positions cannot extrapolate/);
    await expect(collect(generate(model, [1], { maxNewTokens: 1, topP: 2 }))).rejects.toThrow(/topP must be in/);
  });
});
