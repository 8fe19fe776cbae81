import { tf } from '@embedlab/runtime';
import type { MiniGPT } from './model.js';

export interface Evaluation {
  /** Mean next-token cross-entropy, in nats. */
  loss: number;
  /** exp(loss). */
  perplexity: number;
  /** Tokens predicted. */
  tokens: number;
}

/**
 * Loss and perplexity of `ids` in consecutive, non-overlapping windows of `blockSize` tokens:
 * every token after the first is predicted once, deterministically (no sampling of windows).
 */
export function evaluate(model: MiniGPT, ids: ArrayLike<number>): Evaluation {
  const { blockSize } = model.config;
  if (ids.length < blockSize + 1) throw new RangeError(`evaluate: the text has ${ids.length} tokens, fewer than blockSize + 1 = ${blockSize + 1}`);
  const all = Array.from(ids);
  let total = 0;
  let count = 0;
  for (let start = 0; start + blockSize < all.length; start += blockSize) {
    const x = [all.slice(start, start + blockSize)];
    const y = [all.slice(start + 1, start + blockSize + 1)];
    total += tf.tidy(() => model.loss(x, y).dataSync()[0]!) * blockSize;
    count += blockSize;
  }
  const loss = total / count;
  return { loss, perplexity: Math.exp(loss), tokens: count };
}
