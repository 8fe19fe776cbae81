import { type Tensor, tf } from '@embedlab/runtime';
import type { Rng } from './rng.js';

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
    const all = Int32Array.from(tokens);
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
    return randomWindows(split === 'train' ? this.train : this.validation, batchSize, blockSize, rng);
  }

  /** `batchSize` random windows: inputs `[batch, blockSize]` and the next tokens as targets. */
  batch(split: 'train' | 'validation', batchSize: number, blockSize: number, rng: Rng): { x: Tensor; y: Tensor } {
    return windowTensors(this.windows(split, batchSize, blockSize, rng), batchSize, blockSize);
  }
}

/** `batchSize` random windows of `data` (starts drawn from `rng`) and the tokens after them. */
export function randomWindows(data: TokenSequence, batchSize: number, blockSize: number, rng: Rng): Windows {
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
