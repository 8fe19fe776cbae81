import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../backend.js';
import { CausalAttention } from '../kernel-names.js';
import { assertNoTensorLeaks } from '../memory.js';
import { tf } from '../tf.js';
import { causalAttention } from './causal-attention.js';

/** Attention written with tfjs's own ops: heads split and transposed, masked softmax, merged back. */
function reference(qkv: tf.Tensor, heads: number, bias?: tf.Tensor, keep?: tf.Tensor): tf.Tensor {
  const [batch, seq, threeC] = qkv.shape as [number, number, number];
  const channels = threeC / 3;
  const headDim = channels / heads;
  const split = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [batch, seq, heads, headDim]), [0, 2, 1, 3]) as tf.Tensor4D;
  const [q, k, v] = tf.split(qkv, 3, 2).map(split) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
  let scores = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(headDim));
  const mask = tf.tensor2d(
    Array.from({ length: seq * seq }, (_, n) => (n % seq > Math.floor(n / seq) ? -1e9 : 0)),
    [seq, seq],
  );
  scores = tf.add(scores, mask);
  if (bias) scores = tf.add(scores, bias);
  let weights = tf.softmax(scores, -1);
  if (keep) weights = tf.mul(weights, keep);
  return tf.reshape(tf.transpose(tf.matMul(weights as tf.Tensor4D, v), [0, 2, 1, 3]), [batch, seq, channels]);
}

function expectClose(actual: tf.Tensor, expected: tf.Tensor, what: string): void {
  expect(actual.shape).toEqual(expected.shape);
  const e = expected.dataSync();
  const scale = Math.max(1e-3, ...Array.from(e, Math.abs));
  for (const [i, value] of actual.dataSync().entries()) expect(Math.abs(value - e[i]!), `${what} element ${i}`).toBeLessThanOrEqual(2e-5 * scale + 1e-6);
}

describe.each(['wasm', 'cpu'] as const)('causalAttention on %s', (backend) => {
  beforeAll(async () => {
    await ready({ backend });
  });

  // [batch, seq, heads, headDim]: odd sizes, one head, one position, a head size not a multiple of 4.
  const shapes = [
    [2, 7, 3, 5],
    [1, 1, 1, 4],
    [3, 9, 2, 8],
    [2, 16, 4, 32],
  ] as const;

  it.each(shapes)('matches tfjs ops forward and backward for [batch %i, seq %i, heads %i, headDim %i]', (batch, seq, heads, headDim) => {
    tf.tidy(() => {
      const channels = heads * headDim;
      const qkv = tf.randomNormal([batch, seq, 3 * channels], 0, 1, 'float32', seq);
      const slopes = tf.reshape(tf.linspace(-0.5, -0.1, heads), [heads, 1, 1]);
      const bias = tf.mul(slopes, tf.sub(tf.reshape(tf.range(0, seq), [1, seq]), tf.reshape(tf.range(0, seq), [seq, 1])));
      const keep = tf.dropout(tf.ones([batch, heads, seq, seq]), 0.25, undefined, 7);
      const upstream = tf.randomNormal([batch, seq, channels], 0, 1, 'float32', 3);
      for (const [label, b, k] of [
        ['plain', undefined, undefined],
        ['bias', bias, undefined],
        ['dropout', undefined, keep],
        ['both', bias, keep],
      ] as const) {
        expectClose(causalAttention(qkv, { heads, bias: b, keep: k }), reference(qkv, heads, b, k), `${label} forward`);
        const ours = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(causalAttention(x, { heads, bias: b, keep: k }), upstream)))(qkv);
        const theirs = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(reference(x, heads, b, k), upstream)))(qkv);
        expectClose(ours, theirs, `${label} gradient`);
      }
    });
  });

  it('is named in tf.profile and leaks no tensors', async () => {
    const qkv = tf.variable(tf.randomNormal([2, 5, 12], 0, 1, 'float32', 1));
    expect((await tf.profile(() => causalAttention(qkv, { heads: 2 }))).kernelNames).toContain(CausalAttention);
    await assertNoTensorLeaks(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(causalAttention(qkv, { heads: 2 })) as tf.Scalar, [qkv]);
      tf.dispose([value, ...Object.values(grads)]);
    });
    qkv.dispose();
  });

  it('names the argument, its shape and what was expected', () => {
    const qkv = tf.zeros([1, 4, 12]);
    expect(() => causalAttention(qkv, { heads: 5 })).toThrow(/heads must be a positive integer dividing C = 4/);
    expect(() => causalAttention(qkv, { heads: 2, bias: tf.zeros([2, 4, 3]) })).toThrow(/bias must be float32 \[2,4,4\]/);
    expect(() => causalAttention(tf.zeros([4, 12]), { heads: 2 })).toThrow(/qkv must be a float32 \[batch, seq, 3·C\]/);
    qkv.dispose();
  });
});
