// The names under which the runtime's kernels and gradients are registered with tfjs-core, as
// tfjs-core's kernel_names.ts does for its own. `tf.profile` and the gradient tape show these.
// Prefixed so they can never collide with a tfjs kernel.
import type { TensorInfo } from '@tensorflow/tfjs-core';

export const BatchedMatMul = 'EmbedlabBatchedMatMul';
export type BatchedMatMulInputs = { a: TensorInfo; b: TensorInfo };
export interface BatchedMatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

/** Column sums of `x` `[..., n]` (every dimension but the last a row) → `[n]` (a bias's gradient). */
export const SumRows = 'EmbedlabSumRows';
export type SumRowsInputs = { x: TensorInfo };

export const EmbeddingLookup = 'EmbedlabEmbeddingLookup';
export type EmbeddingLookupInputs = { table: TensorInfo; ids: TensorInfo };

export const StopGradient = 'EmbedlabStopGradient';
export type StopGradientInputs = { x: TensorInfo };

/**
 * Causal self-attention straight from a `[batch, seq, 3·C]` q|k|v projection. `bias`
 * `[heads, seq, seq]` (ALiBi) and `keep` `[batch, heads, seq, seq]` (dropout's scaled mask) are
 * empty tensors (size 0) when unused. Outputs: `[batch, seq, C]` and the softmax weights
 * `[batch, heads, seq, seq]` (before dropout), which the gradient reads.
 */
export const CausalAttention = 'EmbedlabCausalAttention';
export type CausalAttentionInputs = { qkv: TensorInfo; bias: TensorInfo; keep: TensorInfo };
export interface CausalAttentionAttrs {
  heads: number;
}

/** CausalAttention's backward pass: d(qkv) `[batch, seq, 3·C]` from dy `[batch, seq, C]`. */
export const CausalAttentionGrad = 'EmbedlabCausalAttentionGrad';
export type CausalAttentionGradInputs = { dy: TensorInfo; qkv: TensorInfo; keep: TensorInfo; weights: TensorInfo };

/**
 * LayerNorm over the last axis: `x` `[..., width]`, `weight` and `bias` `[width]` (`bias` empty
 * when unused). Outputs: y, and each row's mean and 1/√(var + ε) (what the gradient reads).
 */
export const LayerNorm = 'EmbedlabLayerNorm';
export type LayerNormInputs = { x: TensorInfo; weight: TensorInfo; bias: TensorInfo };
export interface LayerNormAttrs {
  epsilon: number;
}

/** LayerNorm's backward pass: dx, dweight and dbias from dy, x, weight and the saved means and rstds. */
export const LayerNormGrad = 'EmbedlabLayerNormGrad';
export type LayerNormGradInputs = { dy: TensorInfo; x: TensorInfo; weight: TensorInfo; means: TensorInfo; rstds: TensorInfo };

/** GELU elementwise, exact (erf) or GPT-2's tanh approximation. */
export const Gelu = 'EmbedlabGelu';
export type GeluInputs = { x: TensorInfo };
export interface GeluAttrs {
  approximate: 'exact' | 'tanh';
}

/** GELU's backward pass: dy·GELU'(x). */
export const GeluGrad = 'EmbedlabGeluGrad';
export type GeluGradInputs = { dy: TensorInfo; x: TensorInfo };

/**
 * The product `op(a) · op(b) (+ bias)` with an optional GELU in the same store: `a` `[m, k]`
 * (stored `[k, m]` when `transposeA`), `b` `[k, n]` (stored `[n, k]` when `transposeB`), `bias`
 * `[n]` or empty. An operand of higher rank is read as `[rows, last]`, its leading dimensions
 * flattened; an untransposed `a` `[..., k]` gives `[..., n]`. Outputs: the product; with a GELU,
 * GELU of the product first and the product itself (the pre-activation, which the gradient reads) second.
 */
export const MatMul = 'EmbedlabMatMul';
export type MatMulInputs = { a: TensorInfo; b: TensorInfo; bias: TensorInfo };
export interface MatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
  /** GELU applied to the product as it is stored: `'exact'` (erf) or `'tanh'`, or `'off'`. */
  gelu: 'off' | 'exact' | 'tanh';
}

/** The global L2 norm √(Σ x²) over any number of float32 tensors (inputs keyed `0`, `1`, …): a float32 scalar. */
export const GlobalNorm = 'EmbedlabGlobalNorm';

/**
 * AdamW's update of N parameters in one kernel: inputs `p<i>`, `g<i>`, `m<i>`, `v<i>` (parameter,
 * gradient, first and second moments) for i < N; outputs p'₀, m'₀, v'₀, p'₁, … (3N).
 */
export const AdamW = 'EmbedlabAdamW';
export interface AdamWAttrs {
  /** N, the number of parameters. */
  count: number;
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Decoupled weight decay, applied where `decay[i]` is true. */
  weightDecay: number;
  /** The step being taken, from 1 (bias correction 1 − βᵗ). */
  step: number;
  /** Multiplies every gradient first (global-norm clipping's factor; 1 for none). */
  gradScale: number;
  /** Per parameter: whether weight decay applies (nanoGPT: tensors of rank ≥ 2). */
  decay: boolean[];
}

/**
 * Softmax cross-entropy of `logits` `[rows, n]` against int32 `targets` `[rows]` (ids in [0, n)).
 * Outputs: the loss (the mean, a scalar, or with `reduction: 'none'` each row's `[rows]`), and
 * each row's log Σ e^logits `[rows]` (what the gradient reads).
 */
export const SoftmaxCrossEntropy = 'EmbedlabSoftmaxCrossEntropy';
export type SoftmaxCrossEntropyInputs = { logits: TensorInfo; targets: TensorInfo };
export interface SoftmaxCrossEntropyAttrs {
  reduction: 'mean' | 'none';
}

/** SoftmaxCrossEntropy's backward pass: d(logits) `[rows, n]` from the loss's dy (a scalar or `[rows]`, as the reduction). */
export const SoftmaxCrossEntropyGrad = 'EmbedlabSoftmaxCrossEntropyGrad';
export type SoftmaxCrossEntropyGradInputs = { dy: TensorInfo; logits: TensorInfo; targets: TensorInfo; logSumExp: TensorInfo };

/**
 * A scaled dropout keep mask for `shape`: 1/(1 − rate) where element i's uniform u(seed, i) is
 * below 1 − rate, else 0 (src/kernels/dropout-hash.ts). No inputs; not on the gradient tape.
 */
export const DropoutMask = 'EmbedlabDropoutMask';
export interface DropoutMaskAttrs {
  shape: number[];
  rate: number;
  seed: number;
}
