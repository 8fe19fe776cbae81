import type { Tensor, Tensor2D } from '@embedlab/runtime';

/**
 * The three ways a model learns where tokens are:
 * - `additive`: a `[seq, dim]` matrix added to the token embeddings before the first block
 *   (learned, sinusoidal);
 * - `rotary`: queries and keys rotated inside attention (RoPE);
 * - `attention-bias`: a bias added to the attention logits (ALiBi).
 */
export type PositionalKind = 'additive' | 'rotary' | 'attention-bias';

export interface PositionalEncoding {
  readonly kind: PositionalKind;
  /** Trainable numbers it adds to a model (learned: maxLength x dim; the others: 0). */
  readonly parameterCount: number;
  /**
   * A matrix to draw as a heatmap: the `[length, dim]` encodings (additive), the
   * `[length, rotaryDim / 2]` rotation angles (rotary), or `[heads, length]` biases by distance
   * (attention-bias).
   */
  table(length: number): Tensor2D;
  dispose(): void;
}

/** An encoding added to token embeddings: `apply(seqLen, { offset })` gives `[seqLen, dim]`. */
export interface AdditivePositionalEncoding extends PositionalEncoding {
  readonly kind: 'additive';
  readonly dim: number;
  apply(seqLen: number, options?: { offset?: number }): Tensor;
}

function shown(value: unknown): string {
  return typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value));
}

/**
 * Checks positions `offset .. offset + seqLen - 1`: a positive integer length, a non-negative
 * integer offset (not NaN, not Infinity), and an end that is still an exact integer
 * (`Number.MAX_SAFE_INTEGER`). Errors name the argument and its value.
 */
export function checkSpan(owner: string, seqLen: number, offset: number): void {
  if (!Number.isInteger(seqLen) || seqLen < 1) throw new RangeError(`${owner}: the sequence length must be a positive integer, got ${shown(seqLen)}`);
  if (!Number.isInteger(offset) || offset < 0) throw new RangeError(`${owner}: offset must be a non-negative integer, got ${shown(offset)}`);
  if (!Number.isSafeInteger(offset + seqLen)) {
    throw new RangeError(
      `${owner}: offset + sequence length must be at most Number.MAX_SAFE_INTEGER (${Number.MAX_SAFE_INTEGER}), got offset ${offset} and sequence length ${seqLen}`,
    );
  }
}

/** Rows kept by a cache when the config does not say: positions past it are computed per call. */
export const DEFAULT_CACHE_LENGTH = 4096;

export function checkCacheLength(owner: string, value: number | undefined): number {
  if (value === undefined) return DEFAULT_CACHE_LENGTH;
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${owner}: cacheLength must be a non-negative integer, got ${shown(value)}`);
  return value;
}

export function checkPositiveInteger(owner: string, name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${owner}: ${name} must be a positive integer, got ${shown(value)}`);
  return value;
}
