import { type Tensor, type Tensor2D, tf } from '@embedlab/runtime';
import { type AdditivePositionalEncoding, checkCacheLength, checkPositiveInteger, checkSpan } from './types.js';

export interface SinusoidalConfig {
  dim: number;
  /** Default 10000, the paper's. */
  base?: number;
  /**
   * `'interleaved'` (default, the paper): PE(p, 2i) = sin(p / base^(2i/d)), PE(p, 2i+1) = cos(same).
   * `'concatenated'` (tensor2tensor, fairseq): [sin | cos] halves with frequencies
   * exp(-i · ln(base) / (d/2 - 1)), i < d/2: the last frequency is exactly 1/base, where the
   * paper's stops short of it. For an odd `dim`, interleaved ends on a sine column and
   * concatenated ends on a zero column (as tensor2tensor pads).
   */
  layout?: 'interleaved' | 'concatenated';
  /**
   * Positions kept in a cache, default 4096 (set it to the longest sequence you train or sample
   * with, if longer). Rows past it are computed for each call and not kept, so a far offset costs
   * only the rows asked for.
   */
  cacheLength?: number;
}

/**
 * The fixed encoding of "Attention Is All You Need" §3.5: no parameters, any length, any offset.
 * Values are computed in float64. A cache of the first rows grows by doubling as positions are
 * asked for, up to `cacheLength` rows; a span reaching past it is computed for that call only.
 */
export class SinusoidalPositionalEncoding implements AdditivePositionalEncoding {
  readonly kind = 'additive';
  readonly parameterCount = 0;
  readonly dim: number;
  readonly base: number;
  readonly layout: 'interleaved' | 'concatenated';
  readonly cacheLength: number;
  private cache: Tensor2D | undefined;

  constructor(config: SinusoidalConfig) {
    this.dim = checkPositiveInteger('SinusoidalPositionalEncoding', 'dim', config.dim);
    this.base = config.base ?? 10000;
    if (!(Number.isFinite(this.base) && this.base > 1)) throw new RangeError(`SinusoidalPositionalEncoding: base must be a number above 1, got ${this.base}`);
    this.layout = config.layout ?? 'interleaved';
    if (this.layout !== 'interleaved' && this.layout !== 'concatenated')
      throw new Error(`SinusoidalPositionalEncoding: layout must be 'interleaved' or 'concatenated', got ${JSON.stringify(this.layout)}`);
    if (this.layout === 'concatenated' && this.dim < 4)
      throw new RangeError(`SinusoidalPositionalEncoding: the concatenated layout needs dim >= 4 (its exponent divides by dim/2 - 1), got ${this.dim}`);
    this.cacheLength = checkCacheLength('SinusoidalPositionalEncoding', config.cacheLength);
  }

  /** Rows currently cached (at most `cacheLength`). */
  get cachedLength(): number {
    return this.cache?.shape[0] ?? 0;
  }

  /** The encoding of position `p` in column `c`, in float64. */
  value(position: number, column: number): number {
    if (this.layout === 'interleaved') {
      const angle = position / this.base ** ((2 * Math.floor(column / 2)) / this.dim);
      return column % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    }
    const half = Math.floor(this.dim / 2);
    if (column >= 2 * half) return 0;
    const i = column % half;
    const angle = position * Math.exp((-i * Math.log(this.base)) / (half - 1));
    return column < half ? Math.sin(angle) : Math.cos(angle);
  }

  /** `[end - start, dim]` rows for positions `start .. end - 1`, each value as `value(p, c)` gives it. */
  private compute(start: number, end: number): Tensor2D {
    const { dim, base } = this;
    const half = Math.floor(dim / 2);
    // Per column, the divisor (interleaved) or multiplier (concatenated) of p that value() uses.
    const interleaved = this.layout === 'interleaved';
    const scale = Float64Array.from({ length: dim }, (_, c) =>
      interleaved ? base ** ((2 * Math.floor(c / 2)) / dim) : Math.exp((-(c % half) * Math.log(base)) / (half - 1)),
    );
    const values = new Float32Array((end - start) * dim);
    for (let p = start; p < end; p++) {
      const row = (p - start) * dim;
      for (let c = 0; c < dim; c++) {
        if (interleaved) values[row + c] = c % 2 === 0 ? Math.sin(p / scale[c]!) : Math.cos(p / scale[c]!);
        else if (c < 2 * half) values[row + c] = c < half ? Math.sin(p * scale[c]!) : Math.cos(p * scale[c]!);
      }
    }
    return tf.tensor2d(values, [end - start, dim]);
  }

  /** `[seqLen, dim]` for positions `offset .. offset + seqLen - 1`. */
  apply(seqLen: number, { offset = 0 }: { offset?: number } = {}): Tensor {
    checkSpan('SinusoidalPositionalEncoding', seqLen, offset);
    const end = offset + seqLen;
    const cached = Math.min(end, this.cacheLength);
    if (this.cachedLength < cached) {
      const rows = Math.min(Math.max(cached, 2 * this.cachedLength, 64), this.cacheLength);
      const fresh = tf.keep(this.compute(0, rows));
      this.cache?.dispose();
      this.cache = fresh;
    }
    if (end > this.cacheLength) return this.compute(offset, end);
    return tf.slice(this.cache!, [offset, 0], [seqLen, this.dim]);
  }

  table(length: number): Tensor2D {
    return this.apply(length) as Tensor2D;
  }

  dispose(): void {
    this.cache?.dispose();
    this.cache = undefined;
  }
}
