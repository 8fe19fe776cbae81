import { ready, tf } from '@embedlab/runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadHuggingFaceGPT2 } from './huggingface-import.js';
import type { GPTConfigInput } from '../model/config.js';
import { modelToHuggingFace } from './huggingface-export.js';
import { createModel, type MiniGPT } from '../model/model.js';
import { readSafetensors } from './safetensors.js';

const base: GPTConfigInput = {
  vocabSize: 37,
  blockSize: 12,
  nLayer: 2,
  nHead: 2,
  nEmbd: 16,
};
const ids = [[3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8]];

function logits(model: MiniGPT): Float32Array {
  return tf.tidy(() => model.forward(ids).dataSync() as Float32Array);
}

/** Perturbs every weight (LayerNorm weights start at 1, biases at 0: a bug could hide behind them). */
function perturb(model: MiniGPT): MiniGPT {
  for (const [i, variable] of model.trainableVariables.entries())
    tf.tidy(() => variable.assign(tf.add(variable, tf.mul(tf.randomNormal(variable.shape, 0, 1, 'float32', 100 + i), 0.05))));
  return model;
}

describe('modelToHuggingFace', () => {
  beforeAll(async () => {
    await ready();
  });

  it.each([
    ['learned, tied', {}],
    ['learned, untied, exact GELU', { tieWeights: false, gelu: 'exact' as const }],
    ['sinusoidal', { position: 'sinusoidal' as const }],
    ['no positions', { position: 'none' as const }],
    ['no biases', { bias: false }],
    ['untied, embeddings scaled by sqrt(dim)', { tieWeights: false, embeddingScale: 'sqrt-dim' }],
  ] as [string, Partial<GPTConfigInput>][])('%s: loads back with the same logits, bit for bit', (_, change) => {
    const model = perturb(createModel({ ...base, ...change }, 7));
    const { files, notes } = modelToHuggingFace(model, { endOfTextId: 36 });
    const config = JSON.parse(files['config.json']);
    expect(config).toMatchObject({ model_type: 'gpt2', n_positions: 12, n_embd: 16, n_layer: 2, n_head: 2, vocab_size: 37, eos_token_id: 36 });
    expect(config.embedlab.notes).toEqual(notes);
    const back = loadHuggingFaceGPT2(files['model.safetensors'], files['config.json']);
    expect(logits(back)).toEqual(logits(model));
    // GPT-2's names and Conv1D layout: [in, out].
    const { tensors } = readSafetensors(files['model.safetensors']);
    expect(tensors.get('transformer.h.0.attn.c_attn.weight')!.shape).toEqual([16, 48]);
    expect(tensors.get('transformer.h.1.mlp.c_proj.bias')!.shape).toEqual([16]);
    expect(tensors.has('lm_head.weight')).toBe(change.tieWeights === false);
    if (change.embeddingScale) expect(notes.join(' ')).toContain('the embedding scale 4 is folded into wte');
    expect(config.tie_word_embeddings).toBe(change.tieWeights !== false);
    model.dispose();
    back.dispose();
  });

  it('says how a representation differs from the model', () => {
    const notesOf = (change: Partial<GPTConfigInput>) => modelToHuggingFace(createModel({ ...base, ...change })).notes.join(' | ');
    expect(notesOf({})).toBe('');
    expect(notesOf({ position: 'sinusoidal' })).toContain('sinusoidal positions are exported as their values for positions 0..11');
    expect(notesOf({ position: 'none' })).toContain('wpe is zeros');
    expect(notesOf({ bias: false })).toContain('exported as zeros');
    expect(notesOf({ tieWeights: false })).toContain('tie_word_embeddings false');
  });

  it('refuses what GPT-2 cannot compute, with the reason', () => {
    expect(() => modelToHuggingFace(createModel({ ...base, position: 'rope' }))).toThrow(
      'cannot export as Hugging Face GPT-2: rope positions act inside attention',
    );
    expect(() => modelToHuggingFace(createModel({ ...base, position: 'alibi' }))).toThrow('alibi positions act inside attention');
    expect(() => modelToHuggingFace(createModel({ ...base, embeddingScale: 'sqrt-dim' }))).toThrow('embeddingScale "sqrt-dim" multiplies the token embeddings');
  });
});
