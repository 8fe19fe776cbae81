import { type Tensor, type Tensor2D, tf } from '@embedlab/runtime';
import { type AdditivePositionalEncoding, checkPositiveInteger, checkSpan } from './types.js';

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
}

/**
 * The fixed encoding of "Attention Is All You Need" §3.5: no parameters, any length, any offset.
 * Values are computed in float64 once per needed length (the cache grows by doubling), then
 * sliced.
 */
export class SinusoidalPositionalEncoding implements AdditivePositionalEncoding {
  readonly kind = 'additive';
  readonly parameterCount = 0;
  readonly dim: number;
  readonly base: number;
  readonly layout: 'interleaved' | 'concatenated';
  private cache: Tensor2D | undefined;

  constructor(config: SinusoidalConfig) {
    this.dim = checkPositiveInteger('SinusoidalPositionalEncoding', 'dim', config.dim);
    this.base = config.base ?? 10000;
    if (!(Number.isFinite(this.base) && this.base > 1)) throw new RangeError(`SinusoidalPositionalEncoding: base must be a number above 1, got ${this.base}`);
    this.layout = config.layout ?? 'interleaved';
    if (this.layout !== 'interleaved' && this.layout !== 'concatenated') throw new Error(`SinusoidalPositionalEncoding: layout must be 'interleaved' or 'concatenated', got ${JSON.stringify(this.layout)}`);
    if (this.layout === 'concatenated' && this.dim < 4) throw new RangeError(`SinusoidalPositionalEncoding: the concatenated layout needs dim >= 4 (its exponent divides by dim/2 - 1), got ${this.dim}`);
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

  private rows(length: number): Tensor2D {
    if (this.cache === undefined || this.cache.shape[0] < length) {
      const rows = Math.max(length, 2 * (this.cache?.shape[0] ?? 0), 64);
      const values = new Float32Array(rows * this.dim);
      for (let p = 0; p < rows; p++) for (let c = 0; c < this.dim; c++) values[p * this.dim + c] = this.value(p, c);
      this.cache?.dispose();
      this.cache = tf.keep(tf.tensor2d(values, [rows, this.dim]));
    }
    return this.cache;
  }

  /** `[seqLen, dim]` for positions `offset .. offset + seqLen - 1`. */
  apply(seqLen: number, { offset = 0 }: { offset?: number } = {}): Tensor {
    checkSpan('SinusoidalPositionalEncoding', seqLen, offset);
    return tf.slice(this.rows(offset + seqLen), [offset, 0], [seqLen, this.dim]);
  }

  table(length: number): Tensor2D {
    return this.apply(length) as Tensor2D;
  }

  dispose(): void {
    this.cache?.dispose();
    this.cache = undefined;
  }
}
