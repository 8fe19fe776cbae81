import { type Tensor, type Tensor2D, tf } from '@embedlab/runtime';
import { type RopeScaling, scaledFrequencies, validateScaling } from './rope-scaling.js';
import { checkCacheLength, checkPositiveInteger, checkSpan, type PositionalEncoding } from './types.js';

/**
 * How a head's dimensions pair up for rotation:
 * - `'half'`: dimension i pairs with i + rotaryDim/2 (GPT-NeoX, Hugging Face Llama's `rotate_half`);
 * - `'interleaved'`: 2i pairs with 2i + 1 (RoFormer paper, GPT-J, Meta's Llama complex form).
 */
export type RopeLayout = 'half' | 'interleaved';

export interface RotaryConfig {
  headDim: number;
  /** Default 10000 (RoFormer, Llama 2; Llama 3 uses 500000). */
  base?: number;
  /** Dimensions rotated, from the start of each head (GPT-NeoX partial rotary). Default headDim. */
  rotaryDim?: number;
  /** Default `'half'`. */
  layout?: RopeLayout;
  scaling?: RopeScaling;
  /**
   * Positions whose cos/sin are kept in a cache, default 4096 (set it to the longest sequence you
   * train or sample with, if longer). Positions past it are computed for each call and not kept.
   */
  cacheLength?: number;
}

export interface RotaryApplyOptions {
  /** Position of the first element along the sequence axis (cached decoding). Default 0. */
  offset?: number;
  /** Axis order of x: `'bhsd'` = [batch, heads, seq, headDim] (default), `'bshd'` = [batch, seq, heads, headDim]. */
  axes?: 'bhsd' | 'bshd';
}

/**
 * Rotary position embedding (Su et al., RoFormer): each pair of a query's or key's dimensions is
 * rotated by the angle p · θ_i, so q_m · k_n depends on positions only through m - n. Nothing is
 * added to the embeddings and there are no parameters.
 */
export class RotaryEmbedding implements PositionalEncoding {
  readonly kind = 'rotary';
  readonly parameterCount = 0;
  readonly headDim: number;
  readonly rotaryDim: number;
  readonly base: number;
  readonly layout: RopeLayout;
  readonly scaling: RopeScaling | undefined;
  readonly cacheLength: number;
  private cache: { cos: Tensor2D; sin: Tensor2D; length: number } | undefined;

  constructor(config: RotaryConfig) {
    this.headDim = checkPositiveInteger('RotaryEmbedding', 'headDim', config.headDim);
    this.rotaryDim = config.rotaryDim ?? this.headDim;
    if (!Number.isInteger(this.rotaryDim) || this.rotaryDim < 2 || this.rotaryDim % 2 !== 0 || this.rotaryDim > this.headDim) {
      throw new RangeError(`RotaryEmbedding: rotaryDim must be an even integer in [2, headDim = ${this.headDim}], got ${this.rotaryDim}`);
    }
    this.base = config.base ?? 10000;
    if (!(Number.isFinite(this.base) && this.base > 1)) throw new RangeError(`RotaryEmbedding: base must be a number above 1, got ${this.base}`);
    this.layout = config.layout ?? 'half';
    if (this.layout !== 'half' && this.layout !== 'interleaved')
      throw new Error(`RotaryEmbedding: layout must be 'half' or 'interleaved', got ${JSON.stringify(this.layout)}`);
    if (config.scaling !== undefined) validateScaling(config.scaling);
    this.scaling = config.scaling;
    this.cacheLength = checkCacheLength('RotaryEmbedding', config.cacheLength);
  }

  /** Positions whose cos/sin are currently cached (at most `cacheLength`). */
  get cachedLength(): number {
    return this.cache?.length ?? 0;
  }

  /** The inverse frequencies θ_i and the cos/sin multiplier in force for `length` positions. */
  frequencies(length: number): { inverseFrequencies: Float64Array; attentionFactor: number } {
    return scaledFrequencies(this.rotaryDim, this.base, this.scaling, length);
  }

  /** `[end - start, rotaryDim/2]` cos and sin of p · θ_i (times the attention factor), in float64 then float32. */
  private computeCosSin(start: number, end: number, scheduleLength: number): { cos: Tensor2D; sin: Tensor2D } {
    const { inverseFrequencies, attentionFactor } = this.frequencies(scheduleLength);
    const half = this.rotaryDim / 2;
    const cos = new Float32Array((end - start) * half);
    const sin = new Float32Array((end - start) * half);
    for (let p = start; p < end; p++) {
      for (let i = 0; i < half; i++) {
        const angle = p * inverseFrequencies[i]!;
        cos[(p - start) * half + i] = Math.cos(angle) * attentionFactor;
        sin[(p - start) * half + i] = Math.sin(angle) * attentionFactor;
      }
    }
    return { cos: tf.tensor2d(cos, [end - start, half]), sin: tf.tensor2d(sin, [end - start, half]) };
  }

  /**
   * cos/sin for positions offset .. offset+seqLen-1, from a cache that grows by doubling up to
   * `cacheLength` positions; positions past it are computed for this call only, and so is every
   * span whose schedule depends on its length (dynamic NTK past its original length).
   */
  cosSin(seqLen: number, offset = 0): { cos: Tensor2D; sin: Tensor2D } {
    checkSpan('RotaryEmbedding', seqLen, offset);
    const end = offset + seqLen;
    const lengthDependent = this.scaling?.type === 'dynamic' && end > this.scaling.originalMaxPositions;
    if (lengthDependent) return this.computeCosSin(offset, end, end);
    const cached = Math.min(end, this.cacheLength);
    if (this.cachedLength < cached) {
      const length = Math.min(Math.max(cached, 2 * this.cachedLength, 64), this.cacheLength);
      // The cache holds the schedule of sequences no longer than `cached` (dynamic NTK's plain
      // RoPE up to its original length), not that of its own, possibly longer, length.
      const fresh = this.computeCosSin(0, length, cached);
      this.dispose();
      this.cache = { cos: tf.keep(fresh.cos), sin: tf.keep(fresh.sin), length };
    }
    if (end > this.cacheLength) return this.computeCosSin(offset, end, end);
    const half = this.rotaryDim / 2;
    const { cos, sin } = this.cache!;
    return { cos: tf.slice(cos, [offset, 0], [seqLen, half]), sin: tf.slice(sin, [offset, 0], [seqLen, half]) };
  }

  /**
   * Rotates queries or keys `x` (`[batch, heads, seq, headDim]`, or `[batch, seq, heads, headDim]`
   * with `axes: 'bshd'`) for positions `offset ..`; dimensions past `rotaryDim` pass through.
   * Differentiable, and norm-preserving.
   */
  apply(x: Tensor, options: RotaryApplyOptions = {}): Tensor {
    const { offset = 0, axes = 'bhsd' } = options;
    if (x.rank !== 4)
      throw new Error(
        `RotaryEmbedding.apply: x must be 4-D [batch, heads, seq, headDim] (or [batch, seq, heads, headDim] with axes 'bshd'), got shape [${x.shape}]`,
      );
    if (x.shape[3] !== this.headDim) throw new Error(`RotaryEmbedding.apply: x's last dimension must be headDim = ${this.headDim}, got shape [${x.shape}]`);
    if (axes !== 'bhsd' && axes !== 'bshd') throw new Error(`RotaryEmbedding.apply: axes must be 'bhsd' or 'bshd', got ${JSON.stringify(axes)}`);
    const seqLen = axes === 'bhsd' ? x.shape[2]! : x.shape[1]!;
    return tf.tidy(() => {
      const half = this.rotaryDim / 2;
      const table = this.cosSin(seqLen, offset);
      // [seq, half] broadcasts over [batch, heads, seq, half]; 'bshd' needs [seq, 1, half].
      const cos: Tensor = axes === 'bshd' ? tf.reshape(table.cos, [seqLen, 1, half]) : table.cos;
      const sin: Tensor = axes === 'bshd' ? tf.reshape(table.sin, [seqLen, 1, half]) : table.sin;
      const [b, d1, d2] = x.shape as number[];
      const rotated = tf.slice(x, [0, 0, 0, 0], [b!, d1!, d2!, this.rotaryDim]);
      let out: Tensor;
      if (this.layout === 'half') {
        const [x1, x2] = tf.split(rotated, 2, 3) as [Tensor, Tensor];
        out = tf.concat([tf.sub(tf.mul(x1, cos), tf.mul(x2, sin)), tf.add(tf.mul(x2, cos), tf.mul(x1, sin))], 3);
      } else {
        const pairs = tf.reshape(rotated, [b!, d1!, d2!, half, 2]);
        const [even, odd] = tf.split(pairs, 2, 4).map((t) => tf.reshape(t, [b!, d1!, d2!, half])) as [Tensor, Tensor];
        out = tf.reshape(tf.stack([tf.sub(tf.mul(even, cos), tf.mul(odd, sin)), tf.add(tf.mul(even, sin), tf.mul(odd, cos))], 4), [
          b!,
          d1!,
          d2!,
          this.rotaryDim,
        ]);
      }
      if (this.rotaryDim === this.headDim) return out;
      return tf.concat([out, tf.slice(x, [0, 0, 0, this.rotaryDim], [b!, d1!, d2!, this.headDim - this.rotaryDim])], 3);
    });
  }

  /** `[length, rotaryDim/2]` rotation angles p · θ_i, for a heatmap. */
  table(length: number): Tensor2D {
    checkSpan('RotaryEmbedding', length, 0);
    const { inverseFrequencies } = this.frequencies(length);
    const half = this.rotaryDim / 2;
    const angles = new Float32Array(length * half);
    for (let p = 0; p < length; p++) for (let i = 0; i < half; i++) angles[p * half + i] = p * inverseFrequencies[i]!;
    return tf.tensor2d(angles, [length, half]);
  }

  dispose(): void {
    if (this.cache) tf.dispose([this.cache.cos, this.cache.sin]);
    this.cache = undefined;
  }
}

/**
 * The permutation of a head's dimensions that converts between RoPE layouts: `perm[j]` is the
 * index, in the `from` layout, of the dimension that sits at j in the `to` layout. Applied to
 * the output features of the q and k projections of each head, it converts checkpoints (Meta's
 * Llama `interleaved` ↔ Hugging Face's `half`). Dimensions past `rotaryDim` stay in place.
 */
export function ropeLayoutPermutation(headDim: number, from: RopeLayout, to: RopeLayout, rotaryDim = headDim): number[] {
  checkPositiveInteger('ropeLayoutPermutation', 'headDim', headDim);
  if (rotaryDim % 2 !== 0 || rotaryDim > headDim || rotaryDim < 2)
    throw new RangeError(`ropeLayoutPermutation: rotaryDim must be even and in [2, ${headDim}], got ${rotaryDim}`);
  const half = rotaryDim / 2;
  // halfFromInterleaved[j]: in the half layout, slot j holds the pair member 2j (j < half) or 2(j - half) + 1.
  const halfFromInterleaved = Array.from({ length: headDim }, (_, j) => (j >= rotaryDim ? j : j < half ? 2 * j : 2 * (j - half) + 1));
  if (from === to) return Array.from({ length: headDim }, (_, j) => j);
  if (from === 'interleaved' && to === 'half') return halfFromInterleaved;
  const inverse = new Array<number>(headDim);
  halfFromInterleaved.forEach((source, j) => {
    inverse[source] = j;
  });
  return inverse;
}

/**
 * Reorders the q or k projection weight for another RoPE layout, head by head, along its output
 * features: axis 0 for PyTorch's `[out, in]`, axis 1 for `[in, out]`.
 */
export function permuteRopeWeights(
  weight: Tensor,
  options: { heads: number; headDim: number; from: RopeLayout; to: RopeLayout; rotaryDim?: number; outputAxis: 0 | 1 },
): Tensor {
  const { heads, headDim, from, to, rotaryDim = headDim, outputAxis } = options;
  const outFeatures = weight.shape[outputAxis];
  if (weight.rank !== 2 || outFeatures !== heads * headDim) {
    throw new Error(
      `permuteRopeWeights: weight must be 2-D with heads x headDim = ${heads * headDim} output features on axis ${outputAxis}, got shape [${weight.shape}]`,
    );
  }
  const perHead = ropeLayoutPermutation(headDim, from, to, rotaryDim);
  const indices = Array.from({ length: heads * headDim }, (_, k) => Math.floor(k / headDim) * headDim + perHead[k % headDim]!);
  return tf.tidy(() => tf.gather(weight, tf.tensor1d(indices, 'int32'), outputAxis));
}
