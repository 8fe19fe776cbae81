/** Anything tensor-like: a shape and its values (a tfjs Tensor fits). */
export interface TensorLike {
  shape: number[];
  dataSync(): ArrayLike<number>;
}

export interface CloseOptions {
  /** Default 1e-4. */
  tolerance?: number;
  /** Compare |a - e| with `tolerance` itself instead of tolerance · max(1, |e|). Default false. */
  absolute?: boolean;
  /** Prefix for failure messages. */
  label?: string;
}

/** The largest |a[i] - b[i]|; throws when the lengths differ. */
export function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number;
/** The largest |a[i] - b[i]| / max(1, |b[i]|); throws when the lengths differ. */
export function maxRelativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number;
/** Asserts same shape/length and every element within tolerance (relative above 1 unless `absolute`). */
export function expectClose(actual: ArrayLike<number> | TensorLike, expected: ArrayLike<number> | TensorLike, options?: CloseOptions): void;
