import { MatVecArena, ready, tf } from '@embedlab/runtime';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { GPTConfigInput } from '../model/config.js';
import { Decoder } from './decoder.js';
import { createModel } from '../model/model.js';

const base: GPTConfigInput = {
  vocabSize: 11,
  blockSize: 8,
  nLayer: 2,
  nHead: 2,
  nEmbd: 12,
};

const ids = [5, 1, 10, 0, 7, 7, 3, 9];

describe('Decoder', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    await ready();
  });

  // Every field of the config that changes the forward pass, each alone; weights are scaled up so
  // that attention is sharp and any difference from the model's pass is large against float32
  // rounding (the `tiny` case scales the embeddings down instead, so that LayerNorm's ε dominates).
  it.each([
    ['learned positions', {}, 4],
    ['sinusoidal positions', { position: 'sinusoidal' }, 4],
    ['rope', { position: 'rope' }, 4],
    ['rope, a third of each head, interleaved', { position: 'rope', rope: { rotaryDim: 2, layout: 'interleaved', base: 500 } }, 4],
    ['alibi', { position: 'alibi' }, 4],
    ['no positions', { position: 'none' }, 4],
    ['an untied head', { tieWeights: false }, 4],
    ['no biases', { bias: false }, 4],
    ['exact GELU', { gelu: 'exact' }, 4],
    ['embeddings scaled by √nEmbd', { embeddingScale: 'sqrt-dim' }, 4],
    ['embeddings scaled by a number, untied', { embeddingScale: 2.5, tieWeights: false }, 4],
    ['tiny embeddings, where LayerNorm ε dominates', { tieWeights: false }, 1e-3],
  ] as [string, Partial<GPTConfigInput>, number][])('gives the logits of the model at every position: %s', (_, fields, embeddingScale) => {
    const model = createModel({ ...base, ...fields }, 7);
    const scaleOf = (name: string) => {
      // Norm weights stay 1 (their scale would only rescale what follows).
      if (/\.ln_(1|2|f)\./.test(name)) return 1;
      if (name === 'transformer.wte.weight') return embeddingScale;
      // Tiny activations make tiny logits: a large head brings them back to order 1.
      if (name === 'lm_head.weight' && embeddingScale < 1) return 1e4;
      return 4;
    };
    for (const [name, variable] of model.stateDict()) tf.tidy(() => variable.assign(tf.mul(variable, scaleOf(name))));
    const full = model.forward([ids]);
    const expected = full.dataSync();
    full.dispose();
    const decoder = new Decoder(model);
    let largest = 0;
    for (const [t, id] of ids.entries()) {
      const logits = decoder.step(id);
      for (let v = 0; v < base.vocabSize; v++) {
        const want = expected[t * base.vocabSize + v]!;
        largest = Math.max(largest, Math.abs(want));
        expect(Math.abs(logits[v]! - want), `position ${t}, id ${v}`).toBeLessThan(2e-4 * Math.max(1, Math.abs(want)));
      }
    }
    // The logits are far from zero, so a wrong pass could not pass for a right one.
    expect(largest).toBeGreaterThan(0.5);
    model.dispose();
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** The model's logits at every position of `ids`, from one full forward pass. */
  const forwardLogits = (model: ReturnType<typeof createModel>) => tf.tidy(() => model.forward([ids]).dataSync());

  it('reads the weights where tfjs keeps them on the wasm backend: its arena holds activations and the cache, no weight', () => {
    const model = createModel({ ...base, tieWeights: false }, 3);
    const allocated = vi.spyOn(MatVecArena.prototype, 'allocate');
    const viewed = vi.spyOn(MatVecArena.prototype, 'view');
    const decoder = Decoder.acquire(model);
    // Every parameter but the position table (read row by row as positions are reached) is viewed;
    // what is allocated is the activations (and the empty cache).
    const viewedNames = [...model.stateDict()].filter(([, tensor]) => viewed.mock.calls.some(([t]) => t === tensor)).map(([name]) => name);
    expect(viewedNames).toEqual([...model.stateDict().keys()].filter((name) => name !== 'transformer.wpe.weight'));
    const activations = allocated.mock.calls.reduce((sum, [length]) => sum + length, 0);
    const { nEmbd, vocabSize } = model.config;
    expect(activations).toBe(nEmbd + nEmbd + 3 * nEmbd + nEmbd + 4 * nEmbd + vocabSize);
    const expected = forwardLogits(model);
    for (const [t, id] of ids.entries()) {
      const logits = decoder.step(id);
      for (let v = 0; v < vocabSize; v++) expect(logits[v]).toBeCloseTo(expected[t * vocabSize + v]!, 4);
    }
    decoder.release();
    model.dispose();
  });

  it('follows weights assigned while it is held (a training step between two tokens), never reading their freed data', () => {
    const model = createModel(base, 5);
    const decoder = Decoder.acquire(model);
    for (const id of ids.slice(0, 3)) decoder.step(id);
    // New tensors for every weight; the old ones are freed (and their memory may be reused).
    for (const variable of model.stateDict().values()) tf.tidy(() => variable.assign(tf.mul(variable, 1.5)));
    const filler = tf.fill([4096], 123);
    decoder.reset();
    const expected = forwardLogits(model);
    for (const [t, id] of ids.entries()) {
      const logits = decoder.step(id);
      for (let v = 0; v < base.vocabSize; v++) expect(logits[v]).toBeCloseTo(expected[t * base.vocabSize + v]!, 4);
    }
    decoder.release();
    // The next acquire sees the new weights and keeps this decoder.
    expect(Decoder.acquire(model)).toBe(decoder);
    decoder.release();
    filler.dispose();
    model.dispose();
  });

  it.each([
    ['learned', {}],
    ['rope', { position: 'rope' }],
    ['alibi', { position: 'alibi' }],
  ] as [string, Partial<GPTConfigInput>][])('prefill takes a prompt in one forward pass and fills the cache as steps would (%s)', (_, fields) => {
    const model = createModel({ ...base, ...fields }, 9);
    const prompt = ids.slice(0, 5);
    const stepped = new Decoder(model);
    let expected: Float32Array = new Float32Array(0);
    for (const id of prompt) expected = stepped.step(id);
    const prefilled = new Decoder(model);
    const logits = prefilled.prefill(prompt);
    for (let v = 0; v < base.vocabSize; v++) expect(logits[v]).toBeCloseTo(expected[v]!, 4);
    expect(prefilled.length).toBe(prompt.length);
    // The next tokens read the cache the prompt left: the same logits as after stepping.
    for (const id of ids.slice(5)) {
      const [a, b] = [stepped.step(id), prefilled.step(id)];
      for (let v = 0; v < base.vocabSize; v++) expect(b[v]).toBeCloseTo(a[v]!, 4);
    }
    expect(() => prefilled.prefill([1])).toThrow('Decoder.prefill: the cache already holds 8 positions; prefill starts a sequence');
    prefilled.reset();
    expect(() => prefilled.prefill([])).toThrow('Decoder.prefill: no tokens');
    model.dispose();
  });
});
