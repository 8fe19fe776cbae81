import { type Tensor, tf } from '@embedlab/runtime';
import type { Rng } from '../training/rng.js';

/**
 * Tokens read by position without holding them all: a token file read by offsets
 * (`openTokenDirectory` in `@embedlab/mini-gpt/node`) or anything else that can.
 */
export interface TokenReader {
  readonly length: number;
  /** `count` tokens from `start`; throws, naming the place, on ids it cannot vouch for. */
  read(start: number, count: number): Int32Array;
}

/** A split of a dataset: tokens in memory, or a reader. */
export type TokenSequence = Int32Array | TokenReader;

/** `count` tokens of `data` from `start`. */
export function readTokens(data: TokenSequence, start: number, count: number): Int32Array {
  return data instanceof Int32Array ? data.subarray(start, start + count) : data.read(start, count);
}

/** Inputs `[batch * blockSize]` and the next tokens as targets, as plain arrays (cheap to post to a worker). */
export interface Windows {
  x: Int32Array;
  y: Int32Array;
}

/** A token stream split into training and validation parts. */
export class TokenDataset {
  readonly train: TokenSequence;
  readonly validation: TokenSequence;

  /** `tokens` split at `1 - validationFraction` (the validation part last), or two splits as given. */
  constructor(
    tokens: ArrayLike<number> | { train: TokenSequence; validation: TokenSequence },
    { validationFraction = 0.1 }: { validationFraction?: number } = {},
  ) {
    if ('train' in tokens) {
      this.train = tokens.train;
      this.validation = tokens.validation;
      return;
    }
    if (!(validationFraction > 0 && validationFraction < 1))
      throw new RangeError(`TokenDataset: validationFraction must be in (0, 1), got ${validationFraction}`);
    const all = checkedTokens(tokens);
    const cut = Math.floor(all.length * (1 - validationFraction));
    this.train = all.subarray(0, cut);
    this.validation = all.subarray(cut);
  }

  /** Checks both splits can give windows of `blockSize + 1` tokens. */
  check(blockSize: number): void {
    for (const [name, split] of [
      ['training', this.train],
      ['validation', this.validation],
    ] as const) {
      if (split.length < blockSize + 1)
        throw new Error(
          `TokenDataset: the ${name} split has ${split.length} tokens, fewer than blockSize + 1 = ${blockSize + 1}; use more data or a smaller blockSize`,
        );
    }
  }

  /** `batchSize` random windows of a split, drawn from `rng`, as arrays. */
  windows(split: 'train' | 'validation', batchSize: number, blockSize: number, rng: Rng): Windows {
    const data = split === 'train' ? this.train : this.validation;
    // A split shorter than a window would give windows of zeros (reads past its end), not an error.
    if (data.length < blockSize + 1) this.check(blockSize);
    return randomWindows(data, batchSize, blockSize, rng);
  }

  /** `batchSize` random windows: inputs `[batch, blockSize]` and the next tokens as targets. */
  batch(split: 'train' | 'validation', batchSize: number, blockSize: number, rng: Rng): { x: Tensor; y: Tensor } {
    return windowTensors(this.windows(split, batchSize, blockSize, rng), batchSize, blockSize);
  }
}

/**
 * Token ids as int32, each checked: Int32Array.from would turn 1e20 into 1661992960 and NaN into 0.
 * At least two tokens (one to read, the next to predict).
 */
function checkedTokens(tokens: ArrayLike<number>): Int32Array {
  if (tokens instanceof Int32Array) {
    for (let i = 0; i < tokens.length; i++) if (tokens[i]! < 0) badToken(i, tokens[i]);
  } else {
    if (tokens === null || typeof tokens !== 'object' || !Number.isSafeInteger(tokens.length))
      throw new TypeError('TokenDataset: tokens must be an array of ids, or { train, validation }');
    for (let i = 0; i < tokens.length; i++) {
      const id = tokens[i];
      if (!Number.isInteger(id) || (id as number) < 0 || (id as number) > 0x7fffffff) badToken(i, id);
    }
  }
  if (tokens.length < 2) throw new RangeError(`TokenDataset: ${tokens.length} tokens; a dataset needs at least 2 (and blockSize + 1 in each split to train)`);
  return Int32Array.from(tokens);
}

function badToken(index: number, id: unknown): never {
  throw new RangeError(`TokenDataset: token ${index} is ${typeof id === 'number' ? String(id) : JSON.stringify(id)}; ids are integers in [0, 2147483647]`);
}

/** `batchSize` random windows of `data` (starts drawn from `rng`) and the tokens after them. */
export function randomWindows(data: TokenSequence, batchSize: number, blockSize: number, rng: Rng): Windows {
  for (const [field, value] of [
    ['batchSize', batchSize],
    ['blockSize', blockSize],
  ] as const)
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`TokenDataset: ${field} must be a positive integer, got ${value}`);
  if (data.length < blockSize + 1) throw new RangeError(`TokenDataset: ${data.length} tokens, fewer than blockSize + 1 = ${blockSize + 1}`);
  const x = new Int32Array(batchSize * blockSize);
  const y = new Int32Array(batchSize * blockSize);
  for (let b = 0; b < batchSize; b++) {
    const start = rng.int(data.length - blockSize);
    const window = readTokens(data, start, blockSize + 1);
    x.set(window.subarray(0, blockSize), b * blockSize);
    y.set(window.subarray(1), b * blockSize);
  }
  return { x, y };
}

/** Windows as `[batchSize, blockSize]` int32 tensors. */
export function windowTensors({ x, y }: Windows, batchSize: number, blockSize: number): { x: Tensor; y: Tensor } {
  return { x: tf.tensor2d(x, [batchSize, blockSize], 'int32'), y: tf.tensor2d(y, [batchSize, blockSize], 'int32') };
}
