import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkpointFromFiles, checkpointToFiles, createModel, evaluate, generateText, namesCorpus, TokenDataset, train } from '@embedlab/mini-gpt';
import { loadCheckpoint } from '@embedlab/mini-gpt/node';
import { SinusoidalPositionalEncoding } from '@embedlab/positional-encodings';
import { ready, tf } from '@embedlab/runtime';
import { expectClose } from '@embedlab/test-utils';
import { TokenEmbedding } from '@embedlab/token-embedding';
import { CharTokenizer, trainBpe } from '@embedlab/tokenizer';
import { EmbeddingHead } from '@embedlab/weight-tying';
import { beforeAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'embedlab-integration-'));

describe('the packages composed', () => {
  beforeAll(async () => {
    await ready();
  });

  it('text -> ids -> vectors + positions -> tied logits, by hand and inside mini-gpt alike', () => {
    const text = 'where each token sits';
    const tokenizer = CharTokenizer.fromCorpus(text);
    const ids = [tokenizer.encode(text)];
    const model = createModel(
      {
        vocabSize: tokenizer.vocabSize,
        blockSize: 32,
        nLayer: 1,
        nHead: 2,
        nEmbd: 8,
        dropout: 0,
        bias: true,
        position: 'sinusoidal',
        tieWeights: true,
        gelu: 'tanh',
      },
      3,
    );
    // The model's first layer is the packages' objects, sharing one matrix for input and output.
    expect(model.embedding).toBeInstanceOf(TokenEmbedding);
    expect(model.head).toBeInstanceOf(EmbeddingHead);
    expect(model.head.outputWeight).toBe(model.stateDict().get('transformer.wte.weight'));
    // The same first layer assembled from the packages by hand.
    const embedding = new TokenEmbedding({ vocabSize: tokenizer.vocabSize, dim: 8, init: { kind: 'values', values: model.embedding.getWeights() } });
    const positions = new SinusoidalPositionalEncoding({ dim: 8 });
    const x = tf.add(embedding.apply(ids), positions.apply(ids[0]!.length));
    const head = new EmbeddingHead(embedding, { tie: true });
    const byHand = head.logits(x);
    expect(byHand.shape).toEqual([1, text.length, tokenizer.vocabSize]);
    expect(tokenizer.decode(ids[0]!)).toBe(text);
    // Inside mini-gpt that first layer feeds the block and the final LayerNorm. With the block's
    // output projections zeroed it adds nothing to the residual stream, so the model's logits must
    // be the hand-made head applied to ln_f(token vectors + positions), LayerNorm written out here.
    const state = model.stateDict();
    for (const [name, variable] of state) if (/\.(attn|mlp)\.c_proj\.(weight|bias)$/.test(name)) variable.assign(tf.zerosLike(variable));
    const mean = tf.mean(x, -1, true);
    const variance = tf.mean(tf.square(tf.sub(x, mean)), -1, true);
    const normalised = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5)));
    const lnF = tf.add(tf.mul(normalised, state.get('transformer.ln_f.weight')!), state.get('transformer.ln_f.bias')!);
    expectClose(model.forward(ids), head.logits(lnF), { tolerance: 1e-5, absolute: true });
    // And the logits are not all alike, so the comparison above is not between two constants.
    expect(Math.max(...model.forward(ids).dataSync()) - Math.min(...model.forward(ids).dataSync())).toBeGreaterThan(1e-2);
  });

  it('trains mini-gpt on a BPE trained by the tokenizer package, and reloads it with the same logits', async () => {
    const corpus = namesCorpus().slice(0, 20_000);
    const tokenizer = trainBpe(corpus, { vocabSize: 300 });
    const model = createModel(
      {
        vocabSize: tokenizer.vocabSize,
        blockSize: 16,
        nLayer: 1,
        nHead: 2,
        nEmbd: 16,
        dropout: 0,
        bias: true,
        position: 'rope',
        tieWeights: false,
        gelu: 'exact',
      },
      4,
    );
    const result = await train(model, new TokenDataset(tokenizer.encode(corpus)), { steps: 20, batchSize: 8, learningRate: 3e-3, evalInterval: 20 });
    expect(result.stoppedBy).toBe('done');
    const restored = checkpointFromFiles(checkpointToFiles(model, tokenizer));
    const probe = [tokenizer.encode('anna\nbob')];
    expect(Array.from(restored.model.forward(probe).dataSync())).toEqual(Array.from(model.forward(probe).dataSync()));
    expect(restored.tokenizer.encode('zoe')).toEqual(tokenizer.encode('zoe'));
  });

  it('reads a checkpoint that the minigpt CLI wrote', async () => {
    const data = join(dir, 'names.txt');
    writeFileSync(data, namesCorpus().slice(0, 30_000));
    const out = join(dir, 'cli-model');
    const cli = createRequire(import.meta.url)
      .resolve('@embedlab/mini-gpt-cli/package.json')
      .replace(/package\.json$/, 'bin/minigpt.js');
    const trained = spawnSync(process.execPath, [cli, 'train', '--data', data, '--tokenizer', 'bpe:280', '--steps', '10', '--samples', '0', '--out', out], {
      encoding: 'utf8',
    });
    expect(trained.status, trained.stderr).toBe(0);
    const { model, tokenizer, step } = loadCheckpoint(out);
    expect(step).toBe(10);
    expect(tokenizer.kind).toBe('byte-bpe');
    expect(model.config.vocabSize).toBe(280);
    // Ten steps already put the held-out names below uniform guessing over the 280 ids (ln 280 = 5.63 nats).
    const heldOut = tokenizer.encode(namesCorpus().slice(30_000, 36_000));
    expect(evaluate(model, heldOut, { context: 16 }).loss).toBeLessThan(Math.log(280) - 0.5);
    let text = '';
    for await (const piece of generateText(model, tokenizer, 'ma', { maxNewTokens: 8, seed: 2 })) text += piece;
    expect(text.length).toBeGreaterThan(0);
  });
});
