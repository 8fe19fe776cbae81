import { ready, tf } from '@embedlab/runtime';
import { beforeAll, describe, expect, it } from 'vitest';
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
});
