import { type Tensor, type Tensor2D, tf } from '@embedlab/runtime';
import { checkPositiveInteger, checkSpan, type PositionalEncoding } from './types.js';

function powerOfTwoSlopes(n: number): number[] {
  const start = 2 ** (-8 / n);
  return Array.from({ length: n }, (_, i) => start ** (i + 1));
}

/**
 * ALiBi's head slopes (Press et al. 2021): the geometric sequence 2^(-8/n), 2^(-16/n), ... for n
 * a power of two; otherwise the slopes of the largest power of two below n, followed by every
 * other slope of twice that many heads, as the paper's code does.
 */
export function alibiSlopes(heads: number): number[] {
  checkPositiveInteger('alibiSlopes', 'heads', heads);
  const lower = 2 ** Math.floor(Math.log2(heads));
  if (lower === heads) return powerOfTwoSlopes(heads);
  return [
    ...powerOfTwoSlopes(lower),
    ...powerOfTwoSlopes(2 * lower)
      .filter((_, i) => i % 2 === 0)
      .slice(0, heads - lower),
  ];
}

/**
 * Attention with Linear Biases: no parameters and nothing added to embeddings; head h adds
 * `slope_h * (j - i)` to the attention logit of query i for key j (0 on the diagonal, more
 * negative the further back). It extrapolates past the training length.
 */
export class ALiBi implements PositionalEncoding {
  readonly kind = 'attention-bias';
  readonly parameterCount = 0;
  readonly heads: number;
  readonly slopes: readonly number[];

  constructor(config: { heads: number }) {
    this.heads = checkPositiveInteger('ALiBi', 'heads', config.heads);
    this.slopes = alibiSlopes(this.heads);
  }

  /**
   * `[heads, queryLength, keyLength]` biases for queries at positions
   * `offset .. offset + queryLength - 1` against keys `0 .. keyLength - 1`. Entries for future
   * keys (j > i) are positive; the causal mask removes them.
   */
  bias(queryLength: number, keyLength: number, { offset = 0 }: { offset?: number } = {}): Tensor {
    checkSpan('ALiBi', queryLength, offset);
    checkPositiveInteger('ALiBi', 'keyLength', keyLength);
    return tf.tidy(() => {
      const queries = tf.reshape(tf.range(offset, offset + queryLength, 1, 'float32'), [queryLength, 1]);
      const keys = tf.reshape(tf.range(0, keyLength, 1, 'float32'), [1, keyLength]);
      const distance = tf.sub(keys, queries);
      return tf.mul(tf.reshape(tf.tensor1d(this.slopes as number[]), [this.heads, 1, 1]), distance);
    });
  }

  /** `[heads, length]`: the bias at distance 0, 1, ..., length - 1 back. */
  table(length: number): Tensor2D {
    checkSpan('ALiBi', length, 0);
    return tf.tidy(() =>
      tf.mul(tf.reshape(tf.tensor1d(this.slopes as number[]), [this.heads, 1]), tf.neg(tf.reshape(tf.range(0, length, 1, 'float32'), [1, length]))),
    ) as Tensor2D;
  }

  dispose(): void {}
}
