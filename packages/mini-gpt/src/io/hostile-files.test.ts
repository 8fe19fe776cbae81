// Files a user may hand us are untrusted: each of these is built here, by hand, the way a broken
// or hostile file would be, and must be refused with a reason naming the file and the field —
// before anything proportional to what the file claims is allocated.
import { ready, tf } from '@embedlab/runtime';
import { CharTokenizer } from '@embedlab/tokenizer';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkpointFromFiles, checkpointToFiles, MAX_TOKENIZER_BYTES, modelFromSafetensors, modelToSafetensors } from './checkpoint.js';
import { loadHuggingFaceGPT2 } from './huggingface-import.js';
import type { GPTConfigInput } from '../model/config.js';
import { generate } from '../sampling/generate.js';
import { createModel, parameterShapes } from '../model/model.js';
import { AdamW } from '../training/optimizer.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';

const config: GPTConfigInput = {
  vocabSize: 5,
  blockSize: 4,
  nLayer: 1,
  nHead: 2,
  nEmbd: 8,
};

/** A safetensors file from a header object and a data section, exactly as given (no checks). */
function rawSafetensors(header: unknown, data = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** The model file of `config` with its metadata's config replaced by `claimed`. */
function withClaimedConfig(claimed: unknown): Uint8Array {
  const model = createModel(config, 1);
  const { tensors } = readSafetensors(modelToSafetensors(model));
  model.dispose();
  return writeSafetensors(tensors, { format: 'embedlab-mini-gpt/1', config: JSON.stringify(claimed), step: '0' });
}

describe('untrusted files', () => {
  beforeAll(async () => {
    await ready();
  });

  it('refuses malformed safetensors headers, naming the file and the field', () => {
    const f32 = (n: number) => new Uint8Array(4 * n);
    const cases: [Uint8Array, string | RegExp][] = [
      [rawSafetensors(null), 'x.safetensors: not a safetensors file (its header must be a JSON object, got null)'],
      [rawSafetensors([1, 2]), /its header must be a JSON object/],
      [rawSafetensors({ w: null }), 'x.safetensors: tensor w must be an object { dtype, shape, data_offsets }, got null'],
      [
        rawSafetensors({ __metadata__: null, w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32(1)),
        'x.safetensors: __metadata__ must be an object of strings, got null',
      ],
      [rawSafetensors({ __metadata__: { step: 3 } }), /__metadata__ must be an object of strings/],
      [rawSafetensors({ w: { dtype: 'F32', shape: [1], data_offsets: [0.5, 4.5] } }, f32(2)), 'x.safetensors: tensor w has invalid data_offsets [0.5,4.5]'],
      [
        rawSafetensors({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, v: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, f32(3)),
        /tensor v \(bytes 4..12\) overlaps the tensor before it/,
      ],
      [
        rawSafetensors({ w: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32(2)),
        'x.safetensors: the data section has a hole at bytes 0..4 before tensor w',
      ],
      [
        rawSafetensors({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32(3)),
        'x.safetensors: the data section has 8 bytes after the last tensor that no tensor owns',
      ],
      [
        rawSafetensors({ w: { dtype: 'F32', shape: [1e9, 1e9], data_offsets: [0, 4] } }, f32(1)),
        'x.safetensors: tensor w is [1000000000,1000000000] F32 but its data spans 4 bytes',
      ],
      [rawSafetensors({ w: { dtype: 'Q4', shape: [1], data_offsets: [0, 4] } }, f32(1)), /tensor w has unsupported dtype "Q4"/],
      [rawSafetensors({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, f32(1)), 'x.safetensors: tensor w has an invalid shape [-1]'],
    ];
    for (const [bytes, message] of cases) expect(() => readSafetensors(bytes, 'x.safetensors')).toThrow(message);
  });

  it('refuses integer tensors as weights (I32 data is not read as F32)', () => {
    const model = createModel(config, 1);
    const { tensors, metadata } = readSafetensors(modelToSafetensors(model));
    model.dispose();
    const header: Record<string, unknown> = { __metadata__: metadata };
    const chunks: Uint8Array[] = [];
    let offset = 0;
    for (const [name, { shape, data }] of tensors) {
      const bytes = name === 'transformer.ln_f.weight' ? new Uint8Array(Int32Array.from(data).buffer) : new Uint8Array(data.buffer.slice(0));
      header[name] = { dtype: name === 'transformer.ln_f.weight' ? 'I32' : 'F32', shape, data_offsets: [offset, offset + bytes.length] };
      chunks.push(bytes);
      offset += bytes.length;
    }
    const data = new Uint8Array(offset);
    let at = 0;
    for (const chunk of chunks) {
      data.set(chunk, at);
      at += chunk.length;
    }
    expect(() => modelFromSafetensors(rawSafetensors(header, data))).toThrow(
      'model.safetensors: transformer.ln_f.weight is I32; weights must be floating point',
    );
  });

  it("checks a checkpoint's config against its tensors before allocating a model", async () => {
    const hostile: [unknown, string | RegExp][] = [
      [{ ...config, vocabSize: 2e7 }, 'model.safetensors: transformer.wte.weight has shape [5,8], but this model needs [20000000,8]'],
      [{ ...config, nLayer: 1e6 }, /needs 12000004 tensors but the file has 16/],
      [{ ...config, nEmbd: 4096, nHead: 2 }, 'model.safetensors: transformer.wte.weight has shape [5,8], but this model needs [5,4096]'],
      [null, 'model.safetensors: GPT config must be an object, got null'],
      [{ ...config, nHead: 'two' }, /model.safetensors: GPT config: nHead must be a positive integer, got "two"/],
    ];
    for (const [claimed, message] of hostile) {
      const bytes = withClaimedConfig(claimed);
      const profile = await tf.profile(() => {
        expect(() => modelFromSafetensors(bytes)).toThrow(message);
      });
      // Nothing the size of the claim (here: nothing at all) reached tfjs: not one kernel ran.
      expect(profile.kernels).toEqual([]);
    }
    expect(() => modelFromSafetensors(writeSafetensors(new Map(), { format: 'embedlab-mini-gpt/1', config: '{"vocab', step: '0' }))).toThrow(
      'model.safetensors: metadata config is not JSON',
    );
    expect(() =>
      modelFromSafetensors(
        writeSafetensors(readSafetensors(withClaimedConfig(config)).tensors, { format: 'embedlab-mini-gpt/1', config: JSON.stringify(config), step: '-3' }),
      ),
    ).toThrow('model.safetensors: metadata step must be a non-negative integer, got "-3"');
  });

  it('checks a Hugging Face config.json the same way', async () => {
    const model = createModel(config, 1);
    const tensors = new Map([...readSafetensors(modelToSafetensors(model)).tensors].map(([name, t]) => [name.replace(/^transformer\./, ''), t]));
    model.dispose();
    // GPT-2's Conv1D layout is [in, out], which is ours: transpose back what modelToSafetensors turned to [out, in].
    for (const [name, t] of tensors) {
      if (/c_(attn|proj|fc)\.weight$/.test(name))
        tensors.set(name, {
          shape: [t.shape[1]!, t.shape[0]!],
          data: tf.tidy(() => tf.transpose(tf.tensor2d(t.data, t.shape as [number, number])).dataSync() as Float32Array),
        });
    }
    const bytes = writeSafetensors(tensors);
    const hf = { vocab_size: 5, n_positions: 4, n_embd: 8, n_layer: 1, n_head: 2 };
    expect(loadHuggingFaceGPT2(bytes, hf).config.nLayer).toBe(1);
    const profile = await tf.profile(() => {
      expect(() => loadHuggingFaceGPT2(bytes, { ...hf, n_layer: 1e6 })).toThrow(/needs 12000004 tensors but the file has 16/);
      expect(() => loadHuggingFaceGPT2(bytes, 'null')).toThrow('config.json: must be a JSON object, got null');
      expect(() => loadHuggingFaceGPT2(bytes, '{"n_layer": ')).toThrow('config.json: not JSON');
      expect(() => loadHuggingFaceGPT2(bytes, { ...hf, n_head: 3 })).toThrow('config.json: GPT config: nEmbd must be a multiple of nHead (3), got 8');
      // What the model cannot honour is refused, not ignored (GPT-2's own values load).
      expect(() => loadHuggingFaceGPT2(bytes, { ...hf, layer_norm_epsilon: 1e-6 })).toThrow(
        'config.json: layer_norm_epsilon 0.000001 is not supported (the model uses 1e-5)',
      );
      expect(() => loadHuggingFaceGPT2(bytes, { ...hf, n_inner: 16 })).toThrow(
        "config.json: n_inner 16 is not supported (the model's MLP is 4 × n_embd = 32 wide)",
      );
      expect(() => loadHuggingFaceGPT2(bytes, { ...hf, scale_attn_weights: false })).toThrow('config.json: scale_attn_weights false is not supported');
      expect(() => loadHuggingFaceGPT2(bytes, { ...hf, scale_attn_by_inverse_layer_idx: true })).toThrow(
        'config.json: scale_attn_by_inverse_layer_idx true is not supported',
      );
    });
    expect(profile.kernels).toEqual([]);
    const gpt2Values = { ...hf, layer_norm_epsilon: 1e-5, n_inner: null, scale_attn_weights: true, scale_attn_by_inverse_layer_idx: false };
    expect(loadHuggingFaceGPT2(bytes, JSON.stringify(gpt2Values)).config.nEmbd).toBe(8);
    expect(loadHuggingFaceGPT2(bytes, { ...hf, n_inner: 32 }).config.nEmbd).toBe(8);
  });

  it('refuses bad optimizer metadata, naming the field', () => {
    const tokenizer = CharTokenizer.fromCorpus('abcd\n');
    const model = createModel(config, 1);
    const optimizer = new AdamW();
    const good = checkpointToFiles(model, tokenizer, { optimizer, training: { step: 0, options: { steps: 1, batchSize: 1, learningRate: 1 } } });
    const { tensors, metadata } = readSafetensors(good['optimizer.safetensors']!);
    const bad = (changes: Record<string, string>) => ({ ...good, 'optimizer.safetensors': writeSafetensors(tensors, { ...metadata, ...changes }) });
    expect(() => checkpointFromFiles(bad({ adamw: '{beta' }))).toThrow('optimizer.safetensors: metadata adamw is not JSON');
    expect(() => checkpointFromFiles(bad({ adamw: '{"beta1": 7}' }))).toThrow('optimizer.safetensors: metadata adamw: beta1 must be a number in [0, 1), got 7');
    expect(() => checkpointFromFiles(bad({ training: 'null' }))).toThrow('optimizer.safetensors: metadata training must be an object, got null');
    expect(() => checkpointFromFiles(bad({ optimizerStep: 'x' }))).toThrow(
      'optimizer.safetensors: metadata optimizerStep must be a non-negative integer, got "x"',
    );
    expect(() => checkpointFromFiles(bad({ data: '{"kind":"ftp"}' }))).toThrow(/metadata data: kind must be/);
    expect(() => checkpointFromFiles(bad({ training: '{"steps":1,"batchSize":1,"lr":1}' }))).toThrow(
      'optimizer.safetensors: metadata training: unknown key lr',
    );
    model.dispose();
    optimizer.dispose();
  });

  it('refuses a tokenizer.json past the cap before parsing it', () => {
    const model = createModel(config, 1);
    const files = checkpointToFiles(model, CharTokenizer.fromCorpus('abcd\n'));
    model.dispose();
    const huge = files['tokenizer.json'] + ' '.repeat(MAX_TOKENIZER_BYTES);
    expect(() => checkpointFromFiles({ ...files, 'tokenizer.json': huge })).toThrow(
      `tokenizer.json has ${huge.length} characters, more than the 64 MiB a tokenizer file may have`,
    );
  });

  it('refuses files of different runs or tokenizers put together, even at the same step', () => {
    const tokenizer = CharTokenizer.fromCorpus('abcd\n');
    const training = { step: 3, options: { steps: 9, batchSize: 1, learningRate: 1 } };
    const [a, b] = [createModel(config, 1), createModel(config, 2)];
    const optimizer = new AdamW();
    const runA = checkpointToFiles(a, tokenizer, { optimizer, training });
    const runB = checkpointToFiles(b, tokenizer, { optimizer, training });
    expect(() => checkpointFromFiles({ ...runA, 'optimizer.safetensors': runB['optimizer.safetensors']! })).toThrow(
      'optimizer.safetensors does not belong to model.safetensors',
    );
    // A char tokenizer of another corpus, of no more tokens than the model has rows.
    const other = JSON.stringify(CharTokenizer.fromCorpus('wxyz\n').toJSON());
    expect(() => checkpointFromFiles({ ...runA, 'tokenizer.json': other })).toThrow('tokenizer.json does not belong to model.safetensors');
    expect(checkpointFromFiles(runA).step).toBe(3);
    for (const m of [a, b]) m.dispose();
    optimizer.dispose();
  });

  it('MiniGPT.loss refuses targets outside the vocabulary instead of returning a wrong number', () => {
    const model = createModel(config, 1);
    expect(() => model.loss([[1, 2]], [[2, 5]])).toThrow('targets must be ids in [0, 5), got 5 at row 1');
    expect(() => model.loss([[1, 2]], [[-1, 3]])).toThrow('targets must be ids in [0, 5), got -1 at row 0');
    expect(() => model.loss(tf.tensor2d([[1, 2]], undefined, 'int32'), tf.tensor2d([[7, 1]], undefined, 'int32'))).toThrow('got 7');
    expect(model.loss([[1, 2]], [[2, 4]]).dataSync()[0]).toBeGreaterThan(0);
    model.dispose();
  });

  it('never samples a padded row no token maps to', async () => {
    const tokenizer = CharTokenizer.fromCorpus('ab\n');
    // nanoGPT pads vocabularies to a multiple of 64: rows 3..63 belong to no token. Make them the most likely.
    const model = createModel({ ...config, vocabSize: 64 }, 1);
    const wte = model.stateDict().get('transformer.wte.weight')!;
    tf.tidy(() => wte.assign(tf.concat([tf.slice(wte, [0, 0], [3, 8]), tf.mul(tf.ones([61, 8]), 5)])));
    const drawn: number[] = [];
    for await (const id of generate(model, [0], { maxNewTokens: 30, vocabularySize: tokenizer.vocabSize, seed: 3 })) drawn.push(id);
    expect(drawn.every((id) => id < 3)).toBe(true);
    const unmasked: number[] = [];
    for await (const id of generate(model, [0], { maxNewTokens: 30, seed: 3 })) unmasked.push(id);
    expect(unmasked.some((id) => id >= 3)).toBe(true);
    await expect(generate(model, [0], { maxNewTokens: 1, vocabularySize: 65 }).next()).rejects.toThrow(
      'generate: vocabularySize must be an integer in [1, 64], got 65',
    );
    model.dispose();
  });

  it('lists the shapes a config needs without building it, as the model has them', () => {
    for (const variant of [config, { ...config, bias: false, tieWeights: false, position: 'rope' as const }]) {
      const model = createModel(variant, 1);
      expect([...parameterShapes(variant)]).toEqual([...model.stateDict()].map(([name, v]) => [name, v.shape]));
      model.dispose();
    }
  });
});
