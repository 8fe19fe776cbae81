import * as tf from '@tensorflow/tfjs-core';
import { CausalAttention, type CausalAttentionAttrs } from '../kernel-names.js';
import { runWithHiddenOutputs } from './hidden-outputs.js';

// Why this op exists: written with tfjs ops, attention splits the `[batch, seq, 3·C]` projection,
// transposes each of q, k and v to `[batch, heads, seq, headDim]`, runs two batched products, a
// scale, a mask, a softmax and a transpose back, and autodiff doubles that on the way back. Here
// one kernel reads q, k and v in place and writes `[batch, seq, C]`; one kernel runs backward
// (src/gradients/CausalAttention_grad.ts).

export interface CausalAttentionOptions {
  heads: number;
  /** Added to the scaled scores, `[heads, seq, seq]` (ALiBi's `bias(seq, seq)`). */
  bias?: tf.Tensor | undefined;
  /**
   * Multiplies the softmax weights, `[batch, heads, seq, seq]`: dropout's scaled keep mask
   * (`dropoutMask(shape, rate, seed)`).
   */
  keep?: tf.Tensor | undefined;
}

/**
 * softmax(q·kᵀ/√headDim + bias, causal)·v per head (weights times `keep` when given), for `qkv`
 * `[batch, seq, 3·C]` holding q, k and v side by side, each `[heads · headDim]` head by head.
 * Returns `[batch, seq, C]`, heads side by side.
 */
export function causalAttention(qkv: tf.Tensor, options: CausalAttentionOptions): tf.Tensor {
  const { heads, bias, keep } = options;
  if (!(qkv instanceof tf.Tensor) || qkv.rank !== 3 || qkv.dtype !== 'float32')
    throw new Error(
      `causalAttention: qkv must be a float32 [batch, seq, 3·C] tensor, got ${qkv instanceof tf.Tensor ? `${qkv.dtype} [${qkv.shape}]` : typeof qkv}`,
    );
  const [batch, seq, threeC] = qkv.shape as [number, number, number];
  if (!Number.isInteger(heads) || heads < 1 || threeC % (3 * heads) !== 0)
    throw new Error(`causalAttention: heads must be a positive integer dividing C = ${threeC / 3} (qkv [${qkv.shape}]), got ${heads}`);
  const expect = (name: string, t: tf.Tensor | undefined, shape: number[]) => {
    if (t !== undefined && (t.dtype !== 'float32' || t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])))
      throw new Error(`causalAttention: ${name} must be float32 [${shape}], got ${t.dtype} [${t.shape}]`);
  };
  expect('bias', bias, [heads, seq, seq]);
  expect('keep', keep, [batch, heads, seq, seq]);
  return tf.tidy(() => {
    const attrs: CausalAttentionAttrs = { heads };
    const none = () => tf.zeros([0]);
    // The second output, the softmax weights, is kept for the backward kernel only.
    return runWithHiddenOutputs(CausalAttention, { qkv, bias: bias ?? none(), keep: keep ?? none() }, attrs as unknown as tf.NamedAttrMap, ['qkv']);
  });
}
