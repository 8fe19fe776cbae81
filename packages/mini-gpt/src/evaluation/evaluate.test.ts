import type { RotaryEmbedding } from '@embedlab/positional-encodings';
import { ready, tf } from '@embedlab/runtime';
import { maxDifference } from '@embedlab/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluate } from './evaluate.js';
import { parseRopeScaling, withRopeScaling } from './rope-scaling.js';
import { createModel } from '../model/model.js';

const config = {
  vocabSize: 7,
  blockSize: 4,
  nLayer: 1,
  nHead: 2,
  nEmbd: 8,
};

/** −log softmax(logits)[target], in float64 from the logits themselves. */
function negativeLogLikelihood(logits: number[], target: number): number {
  const max = Math.max(...logits);
  const logSum = Math.log(logits.reduce((sum, l) => sum + Math.exp(l - max), 0)) + max;
  return logSum - logits[target]!;
}

describe('evaluate', () => {
  beforeAll(async () => {
    await ready();
  });

  it('averages the next-token loss over consecutive windows, each token predicted once', () => {
    const model = createModel(config, 4);
    const ids = [1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4];
    // Windows of blockSize 4: ids[0..4) predicting ids[1..5), then ids[4..8) predicting ids[5..9); the last 2 tokens are left over.
    let total = 0;
    for (const start of [0, 4]) {
      const logits = model.forward([ids.slice(start, start + 4)]).arraySync() as number[][][];
      for (let t = 0; t < 4; t++) total += negativeLogLikelihood(logits[0]![t]!, ids[start + t + 1]!);
    }
    const result = evaluate(model, ids);
    expect(result.tokens).toBe(8);
    expect(result.loss).toBeCloseTo(total / 8, 5);
    expect(result.perplexity).toBeCloseTo(Math.exp(total / 8), 4);
    model.dispose();
  });

  it('scores every window once when they are batched, the last batch partial', () => {
    const model = createModel(config, 5);
    // 1,500 windows of 4: more than one batch of 1,024, with a partial one after it and a token left over.
    const ids = Array.from({ length: 6002 }, (_, i) => (i * 7 + (i >> 3)) % 7);
    const perPosition = [0, 0, 0, 0];
    for (let start = 0; start + 4 < ids.length; start += 4) {
      const logits = tf.tidy(() => model.forward([ids.slice(start, start + 4)]).arraySync() as number[][][]);
      for (let t = 0; t < 4; t++) perPosition[t]! += negativeLogLikelihood(logits[0]![t]!, ids[start + t + 1]!);
    }
    const result = evaluate(model, ids);
    expect(result.tokens).toBe(6000);
    for (const [p, loss] of result.byPosition.entries()) expect(loss).toBeCloseTo(perPosition[p]! / 1500, 5);
    model.dispose();
  });

  it('reads past blockSize where positions extrapolate, with the loss per position bucket', () => {
    const model = createModel({ ...config, position: 'rope' }, 4);
    const ids = Array.from({ length: 17 }, (_, i) => (i * 3) % 7);
    // Two windows of 8: buckets 0-4 (the training length) and 4-8.
    const perPosition = new Array(8).fill(0);
    for (const start of [0, 8]) {
      const logits = model.forward([ids.slice(start, start + 8)]).arraySync() as number[][][];
      for (let t = 0; t < 8; t++) perPosition[t] += negativeLogLikelihood(logits[0]![t]!, ids[start + t + 1]!);
    }
    const result = evaluate(model, ids, { context: 8 });
    expect(result.context).toBe(8);
    expect(result.buckets.map((b) => [b.from, b.to, b.tokens])).toEqual([
      [0, 4, 8],
      [4, 8, 8],
    ]);
    expect(result.buckets[0]!.loss).toBeCloseTo((perPosition[0] + perPosition[1] + perPosition[2] + perPosition[3]) / 8, 5);
    expect(result.buckets[1]!.loss).toBeCloseTo((perPosition[4] + perPosition[5] + perPosition[6] + perPosition[7]) / 8, 5);
    expect(result.loss).toBeCloseTo(perPosition.reduce((a, b) => a + b, 0) / 16, 5);
    for (const [p, loss] of result.byPosition.entries()) expect(loss).toBeCloseTo(perPosition[p] / 2, 5);
    expect(evaluate(model, ids, { context: 16 }).buckets.map((b) => [b.from, b.to])).toEqual([
      [0, 4],
      [4, 8],
      [8, 16],
    ]);
    model.dispose();
  });

  it('refuses to read learned positions past their length', () => {
    const model = createModel(config, 4);
    expect(() => evaluate(model, new Array(20).fill(1), { context: 8 })).toThrow(
      'evaluate: context 8 exceeds blockSize 4; learned positions have no row past the length they were trained with',
    );
    model.dispose();
  });

  it('applies RoPE scaling at evaluation time to the same weights', () => {
    const model = createModel({ ...config, position: 'rope' }, 4);
    // Sharp attention (GPT-2's N(0, 0.02) init attends almost uniformly, whatever the positions).
    const qkv = model.stateDict().get('transformer.h.0.attn.c_attn.weight')!;
    qkv.assign(tf.randomNormal(qkv.shape, 0, 0.5, 'float32', 9));
    const ids = Array.from({ length: 33 }, (_, i) => (i * 5) % 7);
    const scaled = withRopeScaling(model, parseRopeScaling('linear:2', 4));
    expect(scaled.config.rope?.scaling).toEqual({ type: 'linear', factor: 2 });
    // Linear scaling by 2 turns position p by the angles of p / 2: cos(p/2 · 10000^(-2i/d)), d = 4 here.
    const { cos, sin } = (scaled.positional as RotaryEmbedding).cosSin(8);
    const angles = Array.from({ length: 8 }, (_, p) => [0, 1].map((i) => (p / 2) * 10000 ** ((-2 * i) / 4)));
    expect(maxDifference(cos.dataSync(), angles.flat().map(Math.cos))).toBeLessThan(1e-6);
    expect(maxDifference(sin.dataSync(), angles.flat().map(Math.sin))).toBeLessThan(1e-6);
    tf.dispose([cos, sin]);
    for (const [name, variable] of model.stateDict()) expect(Array.from(scaled.stateDict().get(name)!.dataSync())).toEqual(Array.from(variable.dataSync()));
    expect(Math.abs(evaluate(scaled, ids, { context: 16 }).loss - evaluate(model, ids, { context: 16 }).loss)).toBeGreaterThan(1e-4);
    // Dynamic NTK is plain RoPE up to the original length.
    const dynamic = withRopeScaling(model, parseRopeScaling('dynamic:4', 4));
    expect(evaluate(dynamic, ids, { context: 4 }).loss).toBeCloseTo(evaluate(model, ids, { context: 4 }).loss, 6);
    expect(parseRopeScaling('yarn:4', 64)).toEqual({ type: 'yarn', factor: 4, originalMaxPositions: 64 });
    expect(() => parseRopeScaling('ntk:2', 4)).toThrow('RoPE scaling must be linear:F, dynamic:F, yarn:F or llama3:F');
    expect(() => withRopeScaling(createModel(config, 1), { type: 'linear', factor: 2 })).toThrow('the model has learned positions; RoPE scaling needs rope');
    for (const m of [model, scaled, dynamic]) m.dispose();
  });

  it('needs at least blockSize + 1 tokens', () => {
    const model = createModel(config, 4);
    expect(() => evaluate(model, [1, 2, 3, 4])).toThrow('the text has 4 tokens, fewer than context + 1 = 5');
    model.dispose();
  });
});
