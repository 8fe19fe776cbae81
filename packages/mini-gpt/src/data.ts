import { type Tensor, tf } from '@embedlab/runtime';
import type { Rng } from './rng.js';

/** A token stream split into training and validation parts (the last `validationFraction`). */
export class TokenDataset {
  readonly train: Int32Array;
  readonly validation: Int32Array;

  constructor(tokens: ArrayLike<number>, { validationFraction = 0.1 }: { validationFraction?: number } = {}) {
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

  /** `batchSize` random windows: inputs `[batch, blockSize]` and the next tokens as targets. */
  batch(split: 'train' | 'validation', batchSize: number, blockSize: number, rng: Rng): { x: Tensor; y: Tensor } {
    return randomWindows(split === 'train' ? this.train : this.validation, batchSize, blockSize, rng);
  }
}

/** `batchSize` random windows of `data` (starts drawn from `rng`) and the tokens after them. */
export function randomWindows(data: Int32Array, batchSize: number, blockSize: number, rng: Rng): { x: Tensor; y: Tensor } {
  const x = new Int32Array(batchSize * blockSize);
  const y = new Int32Array(batchSize * blockSize);
  for (let b = 0; b < batchSize; b++) {
    const start = rng.int(data.length - blockSize);
    x.set(data.subarray(start, start + blockSize), b * blockSize);
    y.set(data.subarray(start + 1, start + blockSize + 1), b * blockSize);
  }
  return { x: tf.tensor2d(x, [batchSize, blockSize], 'int32'), y: tf.tensor2d(y, [batchSize, blockSize], 'int32') };
}
