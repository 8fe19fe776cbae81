import { embeddingLookup, linearTransposed, ready, tf } from '@embedlab/runtime';
import { gradientCheck, variableGradientCheck } from '@embedlab/runtime/testing';
import { expectClose } from '@embedlab/test-utils';
import { TokenEmbedding } from '@embedlab/token-embedding';
import { beforeAll, describe, expect, it } from 'vitest';
import { EmbeddingHead, parameterSavings } from './embedding-head.js';

const E = [
  [1, 0],
  [0, 1],
  [1, 1],
];

// A small next-token loss through the pair: embed, a fixed mixing layer, project, cross-entropy.
function lossThrough(head: EmbeddingHead, ids: number[][], targets: number[]) {
  const mix = tf.tensor2d([
    [0.5, -1],
    [2, 0.25],
  ]);
  const hidden = tf.tanh(tf.matMul(tf.reshape(head.embed(ids), [-1, 2]), mix));
  const logits = head.logits(hidden);
  return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(targets, 'int32'), 3), logits) as tf.Scalar;
}

describe.each(['wasm', 'cpu'] as const)('EmbeddingHead on %s', (backend) => {
  beforeAll(async () => {
    await ready({ backend });
  });
  const embedding = () => new TokenEmbedding({ vocabSize: 3, dim: 2, init: { kind: 'values', values: E } });

  it('computes logits = h @ Eᵀ with the embedding matrix when tied', () => {
    const head = new EmbeddingHead(embedding(), { tie: true });
    const logits = head.logits(tf.tensor3d([[[2, 3]]]));
    expect(logits.shape).toEqual([1, 1, 3]);
    expect(Array.from(logits.dataSync())).toEqual([2, 3, 5]);
    expect(head.outputWeight).toBe(head.embedding.weight);
  });

  it('adds the bias and soft-caps the logits', () => {
    const head = new EmbeddingHead(embedding(), { tie: true, bias: true, softCap: 4 });
    head.bias!.assign(tf.tensor1d([1, 0, -1]));
    const logits = head.logits(tf.tensor2d([[20, 3]])).dataSync();
    expectClose(
      logits,
      [21, 3, 22].map((x) => Math.tanh(x / 4) * 4),
      { tolerance: 1e-5 },
    );
    expect(Math.max(...logits)).toBeLessThan(4);
  });

  it('gives the shared matrix the sum of the lookup and projection gradients', () => {
    const ids = [[0, 2, 2]];
    const targets = [2, 1, 0];
    const tied = new EmbeddingHead(embedding(), { tie: true });
    const { grads: tiedGrads } = tf.variableGrads(() => lossThrough(tied, ids, targets), [tied.embedding.weight]);
    // The same model untied, its output matrix a copy of E: two separate gradients.
    const untied = new EmbeddingHead(embedding(), { tie: true });
    untied.untie();
    const { grads } = tf.variableGrads(() => lossThrough(untied, ids, targets), [untied.embedding.weight, untied.outputWeight]);
    const lookupPart = grads[untied.embedding.weight.name]!.dataSync();
    const projectionPart = grads[untied.outputWeight.name]!.dataSync();
    expect(Array.from(lookupPart).some((g) => g !== 0) && Array.from(projectionPart).some((g) => g !== 0)).toBe(true);
    expectClose(
      tiedGrads[tied.embedding.weight.name]!.dataSync(),
      Array.from(lookupPart, (g, i) => g + projectionPart[i]!),
      { tolerance: 1e-5 },
    );
  });

  it('matches finite differences of the tied loss', () => {
    const ids = tf.tensor2d([[0, 2, 1]], [1, 3], 'int32');
    const targets = tf.oneHot(tf.tensor1d([2, 1, 0], 'int32'), 3);
    const loss = (table: tf.Tensor) => {
      const hidden = tf.sin(tf.reshape(embeddingLookup(table as tf.Tensor2D, ids), [3, 2]));
      return tf.losses.softmaxCrossEntropy(targets, linearTransposed(hidden, table as tf.Tensor2D)) as tf.Scalar;
    };
    expect(gradientCheck(loss, [tf.tensor2d(E)]).maxError).toBeLessThan(1e-2);
    const head = new EmbeddingHead(embedding(), { tie: true, bias: true, softCap: 3 });
    expect(variableGradientCheck(() => lossThrough(head, [[0, 2, 1]], [2, 1, 0]), head.trainableVariables).maxError).toBeLessThan(1e-2);
  });

  it('unties into an independent copy and ties back', () => {
    const head = new EmbeddingHead(embedding(), { tie: true });
    const before = tf.memory().numTensors;
    head.untie();
    expect(head.tied).toBe(false);
    expect(head.outputWeight).not.toBe(head.embedding.weight);
    expect(head.outputWeight.arraySync()).toEqual(E);
    head.outputWeight.assign(tf.zeros([3, 2]));
    expect(head.embedding.weight.arraySync()).toEqual(E);
    expect(head.parameterCount).toBe(12);
    head.tie();
    expect(tf.memory().numTensors).toBe(before + 1); // + the zeros above
    expect(head.parameterCount).toBe(6);
    expect(head.trainableVariables).toEqual([head.embedding.weight]);
  });

  it('starts untied with its own initialised matrix', () => {
    const head = new EmbeddingHead(embedding(), { tie: false, bias: true, seed: 3 });
    expect(head.outputWeight.shape).toEqual([3, 2]);
    expect(head.trainableVariables).toHaveLength(3);
    expect(head.trainableVariables.map((v) => v.name)).toEqual([head.embedding.weight.name, head.outputWeight.name, head.bias!.name]);
    expect(head.outputWeight).not.toBe(head.embedding.weight);
    expect(head.parameterCount).toBe(6 + 6 + 3);
  });

  it('refuses hidden states of the wrong size and bad options', () => {
    const head = new EmbeddingHead(embedding(), { tie: true });
    expect(() => head.logits(tf.zeros([2, 3]))).toThrow('EmbeddingHead.logits: hidden states must end in the embedding size 2, got shape [2,3]');
    expect(() => new EmbeddingHead(embedding(), { tie: true, softCap: 0 })).toThrow('softCap must be a positive number, got 0');
    expect(() => new EmbeddingHead(embedding(), {} as never)).toThrow('tie must be true or false, got undefined');
  });
});

describe('parameterSavings', () => {
  it("is GPT-2 124M's 50,257 x 768", () => {
    expect(parameterSavings({ vocabSize: 50257, dim: 768 })).toBe(38_597_376);
    expect(() => parameterSavings({ vocabSize: 0, dim: 768 })).toThrow(/vocabSize must be a positive integer/);
  });
});
