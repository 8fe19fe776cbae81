import { ready, tf } from '@embedlab/runtime';
import { maxDifference } from '@embedlab/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { countParameters, type GPTConfigInput, PRESETS, validateConfig } from './config.js';
import { createModel } from './model.js';

const tiny: GPTConfigInput = {
  vocabSize: 11,
  blockSize: 8,
  nLayer: 2,
  nHead: 2,
  nEmbd: 8,
};

describe('countParameters', () => {
  it("gives GPT-2 small's 124,439,808 (nanoGPT reports 123.65M without wpe)", () => {
    const gpt2 = { ...PRESETS['gpt2-small'].model, vocabSize: 50257 };
    expect(countParameters(gpt2)).toBe(124_439_808);
    expect(countParameters(gpt2) - 1024 * 768).toBe(123_653_376);
    expect(countParameters({ ...gpt2, tieWeights: false }) - countParameters(gpt2)).toBe(50257 * 768);
  });
});

describe.each(['wasm', 'cpu'] as const)('MiniGPT on %s', (backend) => {
  beforeAll(async () => {
    await ready({ backend });
  });

  it('maps ids [batch, seq] to logits [batch, seq, vocab], starting near ln(vocab) loss', () => {
    const model = createModel(tiny, 1);
    const ids = [
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ];
    expect(model.forward(ids).shape).toEqual([2, 4, 11]);
    expect(model.forward(ids, { logits: 'last' }).shape).toEqual([2, 1, 11]);
    // Small initial weights give near-uniform predictions: loss ≈ ln(11).
    const loss = model.loss(ids, [
      [2, 3, 4, 5],
      [6, 7, 8, 9],
    ]);
    expect(loss.dataSync()[0]).toBeCloseTo(Math.log(11), 1);
  });

  it('counts parameters by part, matching the formula and the tensors', () => {
    for (const config of [tiny, { ...tiny, tieWeights: false, bias: false }, { ...tiny, position: 'rope' as const }]) {
      const model = createModel(config, 2);
      const parts = model.parameterCount();
      expect(parts.total).toBe(countParameters(config));
      expect(parts.total).toBe(model.trainableVariables.reduce((sum, v) => sum + v.size, 0));
      expect(parts.savedByTying).toBe(model.config.tieWeights ? 11 * 8 : 0);
      expect(parts.positions).toBe(model.config.position === 'learned' ? 8 * 8 : 0);
    }
  });

  it.each(['learned', 'sinusoidal', 'rope', 'alibi', 'none'] as const)('is causal, and the KV cache reproduces the full forward (%s)', (position) => {
    const model = createModel({ ...tiny, position }, 3);
    const sequence = [3, 1, 4, 1, 5, 9, 2, 6];
    const full = model.forward([sequence]).arraySync() as number[][][];
    const changedFuture = model.forward([[...sequence.slice(0, 5), 7, 7, 7]]).arraySync() as number[][][];
    expect(maxDifference(full[0]!.slice(0, 5).flat(), changedFuture[0]!.slice(0, 5).flat())).toBeLessThan(1e-5);
    // Prefill 3 tokens, then one token at a time.
    const cache = model.createCache();
    const steps = [model.forward([sequence.slice(0, 3)], { cache }).arraySync() as number[][][]];
    for (let t = 3; t < sequence.length; t++) steps.push(model.forward([[sequence[t]!]], { cache }).arraySync() as number[][][]);
    expect(cache.length).toBe(8);
    expect(
      maxDifference(
        steps.flatMap((s) => s[0]!.flat()),
        full[0]!.flat(),
      ),
    ).toBeLessThan(1e-4);
    model.disposeCache(cache);
  });

  it('applies dropout only with a seed, reproducibly', () => {
    const model = createModel({ ...tiny, dropout: 0.5 }, 4);
    const ids = [[1, 2, 3]];
    const plain = model.forward(ids).dataSync();
    expect(maxDifference(model.forward(ids).dataSync(), plain)).toBe(0);
    let a = 7;
    let b = 7;
    const first = model.forward(ids, { dropoutSeed: () => a++ }).dataSync();
    const again = model.forward(ids, { dropoutSeed: () => b++ }).dataSync();
    expect(maxDifference(first, again)).toBe(0);
    expect(maxDifference(first, plain)).toBeGreaterThan(1e-3);
  });

  it('refuses sequences past blockSize with learned positions', () => {
    const model = createModel(tiny, 5);
    expect(() => model.forward([[1, 2, 3, 4, 5, 6, 7, 8, 9]])).toThrow('9 positions exceed blockSize 8; learned positions cannot go past');
    expect(createModel({ ...tiny, position: 'rope' }, 5).forward([[1, 2, 3, 4, 5, 6, 7, 8, 9]]).shape).toEqual([1, 9, 11]);
  });

  it('collects attention maps whose rows sum to one and never look ahead, in every layer and head', () => {
    const model = createModel({ ...tiny, nHead: 4 }, 6);
    const maps: tf.Tensor[] = [];
    model.forward([[1, 2, 3, 4, 5]], { attention: maps });
    expect(maps).toHaveLength(2);
    for (const map of maps) {
      const heads = (map.arraySync() as number[][][][])[0]!;
      expect(heads).toHaveLength(4);
      for (const rows of heads)
        for (const [query, row] of rows.entries()) {
          expect(row.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
          for (let key = query + 1; key < row.length; key++) expect(row[key], `query ${query}, key ${key}`).toBe(0);
        }
    }
    tf.dispose(maps);
    // Changing any token moves no logit before it.
    const sequence = [3, 1, 4, 1, 5, 9];
    const full = model.forward([sequence]).arraySync() as number[][][];
    for (let changed = 1; changed < sequence.length; changed++) {
      const other = sequence.map((id, t) => (t === changed ? (id + 5) % 11 : id));
      const moved = model.forward([other]).arraySync() as number[][][];
      expect(maxDifference(full[0]!.slice(0, changed).flat(), moved[0]!.slice(0, changed).flat()), `token ${changed} changed`).toBe(0);
      expect(maxDifference(full[0]![changed]!, moved[0]![changed]!)).toBeGreaterThan(1e-6);
    }
    model.dispose();
  });
});

describe('validateConfig', () => {
  beforeAll(async () => {
    await ready();
  });

  it("fills nanoGPT's defaults for every field but the sizes, and refuses keys it does not know", () => {
    const sizes = { vocabSize: 11, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8 };
    expect(validateConfig(sizes)).toEqual({ ...sizes, dropout: 0, bias: true, position: 'learned', tieWeights: true, gelu: 'tanh' });
    // An undefined field is a field not given (a spread of partial options holds them).
    expect(validateConfig({ ...sizes, dropout: undefined, position: undefined }).dropout).toBe(0);
    const model = createModel(sizes, 1);
    expect(model.parameterCount().total).toBe(11 * 8 + 8 * 8 + (2 * 8 + 2 * 8 + 8 * 24 + 24 + 8 * 8 + 8 + 8 * 32 + 32 + 32 * 8 + 8) + 2 * 8);
    model.dispose();
    expect(() => validateConfig({ ...sizes, nLayers: 2 } as never)).toThrow('GPT config: unknown key nLayers');
    expect(() => validateConfig({ ...sizes, rope: { bse: 2 } } as never)).toThrow('GPT config: unknown key rope.bse');
  });

  it('names the field, the value and what is allowed', () => {
    expect(() => validateConfig({ ...tiny, nHead: 3 })).toThrow('GPT config: nEmbd must be a multiple of nHead (3), got 8');
    expect(() => validateConfig({ ...tiny, dropout: 1 })).toThrow('GPT config: dropout must be a number in [0, 1), got 1');
    expect(() => validateConfig({ ...tiny, position: 'relative' as 'rope' })).toThrow(
      `GPT config: position must be 'learned', 'sinusoidal', 'rope', 'alibi' or 'none', got "relative"`,
    );
    expect(() => validateConfig({ ...tiny, blockSize: 0 })).toThrow('GPT config: blockSize must be a positive integer, got 0');
    expect(() => validateConfig({ ...tiny, nLayer: Number.POSITIVE_INFINITY })).toThrow('GPT config: nLayer must be a positive integer, got Infinity');
    expect(() => validateConfig({ ...tiny, nEmbd: 6, nHead: 2, position: 'rope' })).toThrow(/nEmbd must be nHead × an even head size for RoPE/);
    // RoPE's own settings are checked with the config, before any model is built.
    expect(() => validateConfig({ ...tiny, position: 'rope', rope: { rotaryDim: 3 } })).toThrow(
      'GPT config: rope.rotaryDim must be an even integer in [2, headDim = 4], got 3',
    );
    expect(() => validateConfig({ ...tiny, position: 'rope', rope: { base: 1 } })).toThrow('GPT config: rope.base must be a number > 1, got 1');
    expect(() => validateConfig({ ...tiny, position: 'rope', rope: { scaling: { type: 'linear', factor: 0 } } })).toThrow(
      /GPT config: rope.scaling must be a scaling RoPE accepts \(.*factor/,
    );
  });
});
