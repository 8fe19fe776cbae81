import { ready, tf } from '@embedlab/runtime';
import { CharTokenizer } from '@embedlab/tokenizer';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { GPTConfigInput, PositionKind } from '../model/config.js';
import { Decoder } from './decoder.js';
import { generate, generateText, type GenerateOptions } from './generate.js';
import { createModel } from '../model/model.js';
import { lastLogits } from './sample.js';

const config: GPTConfigInput = {
  vocabSize: 13,
  blockSize: 6,
  nLayer: 2,
  nHead: 2,
  nEmbd: 8,
};

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

  it.each([
    ['learned', {}, 'exact'],
    ['sinusoidal', {}, 'tanh'],
    ['rope', { allowExtrapolation: true }, 'tanh'],
    ['rope', { allowExtrapolation: true, rope: { layout: 'interleaved', rotaryDim: 2 } }, 'exact'],
    ['alibi', { allowExtrapolation: true }, 'exact'],
    ['none', {}, 'tanh'],
  ] as const)('gives the same tokens with the decoder as with the tensors path (%s %j, %s GELU)', async (position, extra, gelu) => {
    const { rope, ...options } = extra as { rope?: GPTConfigInput['rope']; allowExtrapolation?: boolean };
    const model = createModel(
      { ...config, nHead: 2, nEmbd: 12, position, gelu, bias: gelu === 'tanh', tieWeights: gelu === 'exact', ...(rope ? { rope } : {}) },
      31,
    );
    for (const sampling of [{ temperature: 0 }, { temperature: 1.2, seed: 5 }, { temperature: 0.8, topP: 0.9, seed: 6 }]) {
      const common = { maxNewTokens: 16, ...sampling, ...options };
      const tensors = await collect(generate(model, [1, 2, 3, 4], { ...common, engine: 'tensors' }));
      expect(await collect(generate(model, [1, 2, 3, 4], common))).toEqual(tensors);
    }
    model.dispose();
  });

  it('the decoder gives the logits of the full forward pass at every position (rope, half of each head rotated)', () => {
    const model = createModel({ ...config, nHead: 2, nEmbd: 12, position: 'rope', rope: { rotaryDim: 4 } }, 32);
    const ids = [5, 1, 12, 0, 7, 7];
    const full = model.forward([ids]);
    const expected = full.dataSync();
    full.dispose();
    const decoder = new Decoder(model);
    for (const [t, id] of ids.entries()) {
      const logits = decoder.step(id);
      for (let v = 0; v < config.vocabSize; v++)
        expect(Math.abs(logits[v]! - expected[t * config.vocabSize + v]!), `position ${t}, id ${v}`).toBeLessThan(1e-5);
    }
    model.dispose();
  });

  it.each([
    ['learned', {}],
    ['sinusoidal', {}],
    ['rope', { rope: { scaling: { type: 'dynamic', factor: 2, originalMaxPositions: 40 } } }],
  ] as const)("the decoder gives the tensors path's logits past its first 64 positions, where its cache grows (%s %j)", (position, extra) => {
    const model = createModel({ ...config, blockSize: 150, nHead: 2, nEmbd: 12, position, ...extra }, 33);
    // Weights eight times GPT-2's init, so attention is sharp and a wrong position shows in the logits
    // (as errors of order 1; float32 rounding in a different order stays near 1e-4 at these magnitudes).
    for (const variable of model.stateDict().values()) tf.tidy(() => (variable as tf.Variable).assign(tf.mul(variable, 8)));
    const ids = Array.from({ length: 140 }, (_, i) => (i * 7 + 3) % config.vocabSize);
    const cache = model.createCache();
    const decoder = new Decoder(model);
    for (const [t, id] of ids.entries()) {
      const expected = lastLogits(model.forward([[id]], { cache, logits: 'last' }));
      const logits = decoder.step(id);
      for (let v = 0; v < config.vocabSize; v++)
        expect(Math.abs(logits[v]! - expected[v]!), `position ${t}, id ${v}`).toBeLessThan(3e-4 * Math.max(1, Math.abs(expected[v]!)));
    }
    model.disposeCache(cache);
    model.dispose();
  });

  it('reuses an idle decoder while the weights are the same tensors, and reads them again once they change', async () => {
    const model = createModel(config, 40);
    const first = Decoder.acquire(model);
    first.step(2);
    expect(Decoder.acquire(model), 'busy: a second decoder').not.toBe(first);
    first.release();
    const again = Decoder.acquire(model);
    expect(again).toBe(first);
    expect(again.length, 'its cache starts empty').toBe(0);
    again.release();
    for (const variable of model.stateDict().values()) tf.tidy(() => (variable as tf.Variable).assign(tf.mul(variable, 3)));
    const fresh = Decoder.acquire(model);
    expect(fresh).not.toBe(first);
    const expected = lastLogits(model.forward([[3]], { logits: 'last' }));
    const logits = fresh.step(3);
    for (let v = 0; v < config.vocabSize; v++) expect(Math.abs(logits[v]! - expected[v]!), `id ${v}`).toBeLessThan(1e-4);
    fresh.release();
    const tensors = await collect(generate(model, [1, 2], { maxNewTokens: 8, seed: 3, engine: 'tensors' }));
    expect(await collect(generate(model, [1, 2], { maxNewTokens: 8, seed: 3 }))).toEqual(tensors);
    expect(await collect(generate(model, [1, 2], { maxNewTokens: 8, seed: 3 }))).toEqual(tensors);
    model.dispose();
  });

  it('takes a long prompt into a large model in one batched pass (prefill), with the tokens of the tensors path', async () => {
    // 13.7M parameters: above prefill's 10M; a 12-token prompt.
    const model = createModel({ vocabSize: 50257, blockSize: 32, nLayer: 1, nHead: 4, nEmbd: 256 }, 12);
    const prompt = [5, 900, 17, 40000, 3, 3, 250, 11, 12, 13, 14, 15];
    const prefill = vi.spyOn(Decoder.prototype, 'prefill');
    const common = { maxNewTokens: 6, temperature: 0.9, seed: 4 };
    const decoded = await collect(generate(model, prompt, common));
    expect(prefill).toHaveBeenCalledTimes(1);
    expect(decoded).toEqual(await collect(generate(model, prompt, { ...common, engine: 'tensors' })));
    // A short prompt is stepped.
    await collect(generate(model, prompt.slice(0, 3), common));
    expect(prefill).toHaveBeenCalledTimes(1);
    prefill.mockRestore();
    model.dispose();
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
