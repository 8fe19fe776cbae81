import {
  GPT2_INIT,
  initialTable,
  linearTransposed,
  type TableInit,
  type Tensor,
  type Tensor1D,
  type Tensor2D,
  type TokenIds,
  tf,
  type Variable,
} from '@embedlab/runtime';
import type { TokenEmbedding } from '@embedlab/token-embedding';

export interface EmbeddingHeadConfig {
  /** Share the embedding's matrix as the output projection (GPT-2, nanoGPT). */
  tie: boolean;
  /** A learned output bias `[vocab]`. Default false (GPT-2's `lm_head` has none). */
  bias?: boolean;
  /** Soft-cap the logits: `tanh(logits / c) * c` (Gemma 2). Default none. */
  softCap?: number;
  /** Initial values of an untied output matrix. Default N(0, 0.02²). */
  init?: TableInit;
  seed?: number;
}

/** Parameters that tying saves: the output matrix, vocabSize x dim (GPT-2 124M: 38,597,376). */
export function parameterSavings({ vocabSize, dim }: { vocabSize: number; dim: number }): number {
  for (const [name, value] of Object.entries({ vocabSize, dim })) {
    if (!Number.isInteger(value) || value <= 0) throw new RangeError(`parameterSavings: ${name} must be a positive integer, got ${value}`);
  }
  return vocabSize * dim;
}

/**
 * A token embedding and the output layer that turns final hidden states back into
 * vocabulary logits. Tied, both are one matrix E: `embed(ids) = E[ids]` and
 * `logits(h) = h @ Eᵀ` ("Attention Is All You Need" §3.4, GPT-2), so E's gradient is the sum of
 * the sparse lookup gradient and the dense projection gradient. Untied, the head has its own
 * `[vocab, dim]` matrix.
 */
export class EmbeddingHead {
  readonly embedding: TokenEmbedding;
  readonly bias: Variable<tf.Rank.R1> | undefined;
  readonly softCap: number | undefined;
  private separateOutput: Variable<tf.Rank.R2> | undefined;

  constructor(embedding: TokenEmbedding, config: EmbeddingHeadConfig) {
    const { tie, bias = false, softCap, init = GPT2_INIT, seed } = config;
    if (typeof tie !== 'boolean') throw new TypeError(`EmbeddingHead: tie must be true or false, got ${JSON.stringify(tie)}`);
    if (softCap !== undefined && !(Number.isFinite(softCap) && softCap > 0))
      throw new RangeError(`EmbeddingHead: softCap must be a positive number, got ${softCap}`);
    this.embedding = embedding;
    this.softCap = softCap;
    // tidy frees the zeros the variable was made from (it shares their data otherwise forever).
    this.bias = bias ? tf.tidy(() => tf.variable(tf.zeros([embedding.vocabSize])) as Variable<tf.Rank.R1>) : undefined;
    if (!tie) this.separateOutput = this.newOutputMatrix(() => initialTable('EmbeddingHead', embedding.vocabSize, embedding.dim, init, seed));
  }

  private newOutputMatrix(values: () => Tensor): Variable<tf.Rank.R2> {
    const initial = tf.tidy(values);
    const variable = tf.variable(initial) as Variable<tf.Rank.R2>;
    initial.dispose();
    return variable;
  }

  get tied(): boolean {
    return this.separateOutput === undefined;
  }

  /** The `[vocab, dim]` matrix the logits are computed with (the embedding's own when tied). */
  get outputWeight(): Variable<tf.Rank.R2> {
    return this.separateOutput ?? this.embedding.weight;
  }

  /** Every variable to train: the embedding, the untied output matrix, the bias. */
  get trainableVariables(): Variable[] {
    return [this.embedding.weight, ...(this.separateOutput ? [this.separateOutput] : []), ...(this.bias ? [this.bias] : [])];
  }

  get parameterCount(): number {
    return this.embedding.parameterCount + (this.tied ? 0 : this.embedding.parameterCount) + (this.bias ? this.embedding.vocabSize : 0);
  }

  /** The input side: the embedding's lookup (with its scaling). */
  embed(ids: TokenIds): Tensor {
    return this.embedding.apply(ids);
  }

  /**
   * The output side: `[..., dim]` hidden states to `[..., vocab]` logits, `h @ Wᵀ (+ b)`, with W
   * the unscaled matrix, on XNNPACK forward and backward (`linearTransposed`).
   */
  logits(hidden: Tensor): Tensor {
    const dim = hidden.shape[hidden.rank - 1];
    if (dim !== this.embedding.dim)
      throw new Error(`EmbeddingHead.logits: hidden states must end in the embedding size ${this.embedding.dim}, got shape [${hidden.shape}]`);
    return tf.tidy(() => {
      const raw = linearTransposed(hidden, this.outputWeight as Tensor2D, this.bias as Tensor1D | undefined);
      if (this.softCap === undefined) return raw;
      return tf.mul(tf.tanh(tf.div(raw, this.softCap)), this.softCap);
    });
  }

  /** Shares the embedding's matrix from now on; the separate output matrix is freed. */
  tie(): void {
    this.separateOutput?.dispose();
    this.separateOutput = undefined;
  }

  /** Gives the head its own copy of the embedding's matrix, to be trained separately from now on. */
  untie(): void {
    if (this.separateOutput) return;
    this.separateOutput = this.newOutputMatrix(() => tf.clone(this.embedding.weight));
  }

  /** Frees the head's own variables (the embedding stays with its owner). */
  dispose(): void {
    this.separateOutput?.dispose();
    this.bias?.dispose();
  }
}
