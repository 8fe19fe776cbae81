import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ready, tf } from '@embedlab/runtime';
import { maxDifference, NANOGPT_REFERENCE as REFERENCE, runTorch, tinyGPTConfig } from '@embedlab/test-utils';
import { CharTokenizer } from '@embedlab/tokenizer';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkpointFromFiles, checkpointToFiles, modelFromSafetensors, modelToSafetensors } from './checkpoint.js';
import { loadHuggingFaceGPT2 } from './huggingface-import.js';
import type { GPTConfig } from '../model/config.js';
import { TokenDataset } from '../data/data.js';
import { isLinearWeight } from '../model/architecture.js';
import { createModel, type MiniGPT } from '../model/model.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint-directory.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';
import { train } from '../training/train.js';

const dir = mkdtempSync(join(tmpdir(), 'embedlab-minigpt-'));
const ids = [
  [1, 5, 9, 2, 6, 5, 3, 5],
  [8, 9, 7, 9, 3, 2, 3, 8],
];
const targets = ids.map((row) => [...row.slice(1), 4]);

interface Reference {
  logits: number[];
  loss: number;
  wte_grad_norm: number;
  /** Every parameter's gradient, flattened in PyTorch's layout (nn.Linear weights [out, in]). */
  grads: Record<string, number[]>;
}

function ours(model: MiniGPT) {
  const logits = model.forward(ids).dataSync();
  const names = [...model.stateDict().keys()];
  const variables = names.map((name) => model.stateDict().get(name)!);
  const { value, grads } = tf.variableGrads(() => model.loss(ids, targets), variables);
  const gradients = new Map(
    names.map((name, i) => {
      const gradient = grads[variables[i]!.name]!;
      // Ours are stored [in, out] for XNNPACK; PyTorch's nn.Linear holds [out, in].
      return [name, (isLinearWeight(name) ? tf.transpose(gradient) : gradient).dataSync()];
    }),
  );
  return { logits, loss: value.dataSync()[0]!, wteGradNorm: tf.norm(grads[model.stateDict().get('transformer.wte.weight')!.name]!).dataSync()[0]!, gradients };
}

describe('checkpoints and PyTorch parity', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    await ready();
  });

  const configs: [string, GPTConfig][] = [
    [
      'tied, exact GELU (nanoGPT)',
      { vocabSize: 17, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0, bias: true, position: 'learned', tieWeights: true, gelu: 'exact' },
    ],
    [
      'untied, no bias, tanh GELU',
      { vocabSize: 17, blockSize: 8, nLayer: 2, nHead: 4, nEmbd: 16, dropout: 0, bias: false, position: 'learned', tieWeights: false, gelu: 'tanh' },
    ],
  ];
  // The other position kinds, each written independently in the PyTorch reference (see its docstring).
  const positions: [string, GPTConfig][] = [
    ['sinusoidal positions', { ...configs[0]![1], position: 'sinusoidal' }],
    ['RoPE, untied', { ...configs[1]![1], position: 'rope' }],
    ['RoPE on 4 of 8 dimensions, base 500', { ...configs[0]![1], position: 'rope', rope: { base: 500, rotaryDim: 4 } }],
    ['ALiBi, 4 heads', { ...configs[1]![1], position: 'alibi' }],
    ['ALiBi, 6 heads (not a power of two)', { ...configs[0]![1], nEmbd: 24, nHead: 6, position: 'alibi' }],
    ['no positions', { ...configs[0]![1], position: 'none' }],
  ];

  /** PyTorch builds and saves the model (nanoGPT's init, weights N(0, initStd²)); ours loads the file and must agree. */
  function expectTorchParity(label: string, config: GPTConfig, initStd?: number): void {
    const path = join(dir, `torch-${label.replace(/\W+/g, '-')}.safetensors`);
    const reference = runTorch<Reference>(REFERENCE, { config, seed: 3, ids, targets, save: path, ...(initStd ? { init_std: initStd } : {}) });
    const { model } = modelFromSafetensors(new Uint8Array(readFileSync(path)));
    const mine = ours(model);
    expect(maxDifference(mine.logits, reference.logits)).toBeLessThan(1e-4);
    expect(mine.loss).toBeCloseTo(reference.loss, 5);
    expect(Math.abs(mine.wteGradNorm - reference.wte_grad_norm) / reference.wte_grad_norm).toBeLessThan(1e-4);
    const torchNames = Object.keys(reference.grads).filter((name) => !(config.tieWeights && name === 'lm_head.weight'));
    expect([...mine.gradients.keys()].sort()).toEqual(torchNames.sort());
    for (const name of torchNames) {
      const scale = Math.max(...reference.grads[name]!.map(Math.abs));
      expect(maxDifference(mine.gradients.get(name)!, reference.grads[name]!) / scale, name).toBeLessThan(1e-4);
    }
    model.dispose();
  }

  it.each(configs)('loads a model made by PyTorch with the same logits, loss and the gradient of every parameter (%s)', (label, config) =>
    expectTorchParity(label, config),
  );
  // Weights N(0, 0.5²) rather than 0.02² make attention sharp, so that a position bug moves the
  // logits well past float32 rounding (with 0.02, RoPE on the wrong dimension pairs moves them by 1e-4).
  it.each(positions)('loads a model made by PyTorch with the same logits, loss and the gradient of every parameter (%s, weights N(0, 0.5²))', (label, config) =>
    expectTorchParity(label, config, 0.5),
  );

  it.each(configs)('saves a model that PyTorch loads with the same logits (%s)', (label, config) => {
    const model = createModel(config, 99);
    const path = join(dir, `ours-${label.replace(/\W+/g, '-')}.safetensors`);
    writeFileSync(path, modelToSafetensors(model));
    const reference = runTorch<Reference>(REFERENCE, { config, seed: 0, ids, targets, load: path });
    const mine = ours(model);
    expect(maxDifference(mine.logits, reference.logits)).toBeLessThan(1e-4);
    expect(mine.loss).toBeCloseTo(reference.loss, 5);
  });

  it('loads the Hugging Face GPT-2 layout (Conv1D [in, out], no prefix) written by PyTorch', () => {
    const config = { ...configs[0]![1], gelu: 'tanh' as const };
    const path = join(dir, 'hf.safetensors');
    const reference = runTorch<Reference>(REFERENCE, { config, seed: 5, ids, targets, save_hf: path });
    const hfConfig = { vocab_size: 17, n_positions: 8, n_embd: 16, n_layer: 2, n_head: 2, activation_function: 'gelu_new' };
    const model = loadHuggingFaceGPT2(new Uint8Array(readFileSync(path)), JSON.stringify(hfConfig));
    expect(maxDifference(model.forward(ids).dataSync(), reference.logits)).toBeLessThan(1e-4);
    expect(() => loadHuggingFaceGPT2(new Uint8Array(readFileSync(path)), { ...hfConfig, n_embd: 32 })).toThrow(
      /wte.weight has shape \[17,16\], but this model needs \[17,32\]/,
    );
  });

  it('saves and resumes a run exactly through the checkpoint files', async () => {
    const tokenizer = CharTokenizer.fromCorpus('abcdefghij\n');
    const dataset = new TokenDataset(tokenizer.encode('abcdefghij\n'.repeat(40)));
    const config = tinyGPTConfig(tokenizer.vocabSize, { dropout: 0.1, position: 'rope' as const });
    const options = { steps: 10, batchSize: 4, learningRate: 1e-2, warmupSteps: 2, evalInterval: 100, decaySteps: 10 };
    const straight = await train(createModel(config, 1), dataset, options);

    const model = createModel(config, 1);
    const half = await train(model, dataset, { ...options, steps: 5 });
    saveCheckpoint(join(dir, 'run'), checkpointToFiles(model, tokenizer, { optimizer: half.optimizer, training: { step: half.step, options } }));
    const restored = loadCheckpoint(join(dir, 'run'), { optimizer: true });
    expect(restored.step).toBe(5);
    const rest = await train(restored.model, dataset, { ...restored.training!.options, startStep: restored.step, optimizer: restored.optimizer! });
    expect(rest.lastLoss).toBe(straight.lastLoss);
  });

  it('refuses truncated, foreign and mismatched files with the reason', () => {
    const tokenizer = CharTokenizer.fromCorpus('abc');
    const model = createModel({ ...configs[0]![1], vocabSize: 3 }, 1);
    const files = checkpointToFiles(model, tokenizer);
    const bytes = files['model.safetensors'];
    expect(() => modelFromSafetensors(bytes.subarray(0, bytes.length - 10))).toThrow(/truncated/);
    expect(() => modelFromSafetensors(new TextEncoder().encode('{"not": "safetensors"}'))).toThrow(/not a safetensors file/);
    const foreign = writeSafetensors(new Map([['encoder.layer.0.weight', { shape: [2], data: new Float32Array(2) }]]));
    expect(() => modelFromSafetensors(foreign)).toThrow(/no embedlab-mini-gpt\/1 config in its metadata/);
    const bigTokenizer = CharTokenizer.fromCorpus('abcdefgh');
    expect(() => checkpointFromFiles({ ...files, 'tokenizer.json': JSON.stringify(bigTokenizer.toJSON()) })).toThrow(
      'tokenizer.json does not belong to model.safetensors',
    );
    expect(() => checkpointFromFiles({ 'model.safetensors': modelToSafetensors(model), 'tokenizer.json': JSON.stringify(bigTokenizer.toJSON()) })).toThrow(
      'tokenizer.json: the tokenizer has 8 tokens but the model only 3',
    );
    expect(() => checkpointToFiles(model, bigTokenizer)).toThrow(/8 tokens but the model only 3/);
    expect(() => loadCheckpoint(join(dir, 'nowhere'))).toThrow(/not a checkpoint directory: model.safetensors is missing/);
  });

  it('round-trips safetensors, converting F16 on read', () => {
    const tensors = new Map([['a', { shape: [2, 2], data: Float32Array.from([1, -2, 0.5, 3]) }]]);
    const read = readSafetensors(writeSafetensors(tensors, { note: 'x' }));
    expect(Array.from(read.tensors.get('a')!.data)).toEqual([1, -2, 0.5, 3]);
    expect(read.metadata).toEqual({ note: 'x' });
    // A hand-made F16 file: 1.0 = 0x3c00, -2.0 = 0xc000.
    const header = new TextEncoder().encode(JSON.stringify({ h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }));
    const f16 = new Uint8Array(8 + header.length + 4);
    new DataView(f16.buffer).setBigUint64(0, BigInt(header.length), true);
    f16.set(header, 8);
    f16.set([0x00, 0x3c, 0x00, 0xc0], 8 + header.length);
    expect(Array.from(readSafetensors(f16).tensors.get('h')!.data)).toEqual([1, -2]);
  });
});
