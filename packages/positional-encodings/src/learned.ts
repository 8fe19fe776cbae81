import { initialTable, type TableInit, type Tensor, type Tensor2D, tf, type Variable } from '@embedlab/runtime';
import { type AdditivePositionalEncoding, checkPositiveInteger, checkSpan } from './types.js';

export interface LearnedPositionalConfig {
  /** Longest sequence it can place (nanoGPT's `block_size`). */
  maxLength: number;
  dim: number;
  /** Default N(0, 0.02²) as nanoGPT; GPT-2 used N(0, 0.01²). */
  init?: TableInit;
  seed?: number;
}

/**
 * Absolute learned positions (GPT-2, nanoGPT's `wpe`): a trainable `[maxLength, dim]` table whose
 * row p is added to the token at position p. It has no row for a position it was not built with,
 * so it cannot extrapolate past `maxLength`.
 */
export class LearnedPositionalEmbedding implements AdditivePositionalEncoding {
  readonly kind = 'additive';
  readonly maxLength: number;
  readonly dim: number;
  readonly weight: Variable<tf.Rank.R2>;

  constructor(config: LearnedPositionalConfig) {
    this.maxLength = checkPositiveInteger('LearnedPositionalEmbedding', 'maxLength', config.maxLength);
    this.dim = checkPositiveInteger('LearnedPositionalEmbedding', 'dim', config.dim);
    const initial = initialTable('LearnedPositionalEmbedding', this.maxLength, this.dim, config.init ?? { kind: 'normal', std: 0.02 }, config.seed);
    this.weight = tf.variable(initial) as Variable<tf.Rank.R2>;
    initial.dispose();
  }

  get parameterCount(): number {
    return this.maxLength * this.dim;
  }

  /** Rows `offset .. offset + seqLen - 1`, `[seqLen, dim]`; the gradient reaches only those rows. */
  apply(seqLen: number, { offset = 0 }: { offset?: number } = {}): Tensor {
    checkSpan('LearnedPositionalEmbedding', seqLen, offset);
    if (offset + seqLen > this.maxLength) {
      throw new RangeError(
        `LearnedPositionalEmbedding: positions ${offset}..${offset + seqLen - 1} do not fit a table of maxLength ${this.maxLength} (sequence length ${seqLen}, offset ${offset}); learned positions cannot extrapolate past the length they were trained with`,
      );
    }
    return tf.slice(this.weight, [offset, 0], [seqLen, this.dim]);
  }

  table(length: number): Tensor2D {
    return this.apply(length) as Tensor2D;
  }

  dispose(): void {
    this.weight.dispose();
  }
}
