import { type Tensor, tf } from './tf.js';

/** How a `[rows, dim]` table starts. */
export type TableInit =
  /** N(mean, std²). GPT-2 and nanoGPT: std 0.02; PyTorch `nn.Embedding`: std 1. */
  | { kind: 'normal'; std?: number; mean?: number }
  /** U(min, max). Keras `Embedding`: ±0.05. */
  | { kind: 'uniform'; min?: number; max?: number }
  /** Glorot/Xavier uniform: U(±sqrt(6 / (rows + dim))). */
  | { kind: 'xavier' }
  | { kind: 'zeros' }
  /** Given values (trained weights): a `[rows, dim]` tensor, nested array, or flat row-major array. */
  | { kind: 'values'; values: Tensor | number[][] | Float32Array | number[] };

export const GPT2_INIT: TableInit = { kind: 'normal', std: 0.02 };

function positive(name: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0)) throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
}

/** Creates the initial `[rows, dim]` values; `seed` makes random inits reproducible. */
export function initialTable(owner: string, rows: number, dim: number, init: TableInit, seed?: number): Tensor {
  switch (init.kind) {
    case 'normal':
      return tf.randomNormal([rows, dim], init.mean ?? 0, positive(`${owner}: init.std`, init.std ?? 0.02), 'float32', seed);
    case 'uniform': {
      const min = init.min ?? -0.05;
      const max = init.max ?? 0.05;
      if (!(min < max)) throw new RangeError(`${owner}: init.min (${min}) must be below init.max (${max})`);
      return tf.randomUniform([rows, dim], min, max, 'float32', seed);
    }
    case 'xavier': {
      const limit = Math.sqrt(6 / (rows + dim));
      return tf.randomUniform([rows, dim], -limit, limit, 'float32', seed);
    }
    case 'zeros':
      return tf.zeros([rows, dim]);
    case 'values':
      return tableFromValues(owner, rows, dim, init.values);
    default:
      throw new Error(`${owner}: unknown init kind ${JSON.stringify((init as { kind: unknown }).kind)} (normal, uniform, xavier, zeros or values)`);
  }
}

/** Checks given weights against the expected shape, naming both, and returns a float32 copy. */
export function tableFromValues(owner: string, rows: number, dim: number, values: Tensor | number[][] | Float32Array | number[]): Tensor {
  if (values instanceof tf.Tensor) {
    if (values.rank !== 2 || values.shape[0] !== rows || values.shape[1] !== dim)
      throw new Error(`${owner}: weights must have shape [${rows}, ${dim}], got [${values.shape}]`);
    return tf.cast(values, 'float32');
  }
  if (Array.isArray(values) && Array.isArray(values[0])) {
    const nested = values as number[][];
    if (nested.length !== rows) throw new Error(`${owner}: weights must have ${rows} rows, got ${nested.length}`);
    const bad = nested.findIndex((row) => !Array.isArray(row) || row.length !== dim);
    if (bad >= 0)
      throw new Error(`${owner}: weights row ${bad} must have ${dim} values, got ${Array.isArray(nested[bad]) ? nested[bad]!.length : typeof nested[bad]}`);
    return tf.tensor2d(nested, [rows, dim], 'float32');
  }
  const flat = values as Float32Array | number[];
  if (flat.length !== rows * dim) throw new Error(`${owner}: weights must have ${rows} x ${dim} = ${rows * dim} values, got ${flat.length}`);
  return tf.tensor2d(flat as Float32Array, [rows, dim], 'float32');
}
