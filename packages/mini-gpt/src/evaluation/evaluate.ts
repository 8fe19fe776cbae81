import { softmaxCrossEntropy, tf } from '@embedlab/runtime';
import { checkMemory } from '../model/memory-estimate.js';
import type { MiniGPT } from '../model/model.js';

export interface BucketEvaluation {
  /** Positions `from` (inclusive) to `to` (exclusive) within a window. */
  from: number;
  to: number;
  loss: number;
  perplexity: number;
  tokens: number;
}

export interface Evaluation {
  /** Mean next-token cross-entropy, in nats. */
  loss: number;
  /** exp(loss). */
  perplexity: number;
  /** Tokens predicted. */
  tokens: number;
  /** Tokens per window. */
  context: number;
  /** The loss by position within the window: how it changes past the training length. */
  buckets: BucketEvaluation[];
  /** The mean loss at each position of the window, 0 .. context - 1. */
  byPosition: number[];
}

export interface EvaluateOptions {
  /**
   * Tokens per window (default `blockSize`). Sinusoidal, RoPE, ALiBi and position-free models may
   * read past `blockSize`; learned positions cannot, and refuse.
   */
  context?: number;
}

/** Tokens scored per forward pass: windows are batched up to this many... */
const WINDOW_BATCH_TOKENS = 4096;
/** ...and up to this many logits (64 MB of float32; one window of GPT-2 at a time). */
const WINDOW_BATCH_LOGITS = 16 * 2 ** 20;

/** Bucket edges 0, T, 2T, 4T, ... up to `context` (T = the training length). */
function bucketEdges(blockSize: number, context: number): number[] {
  const edges = [0];
  for (let edge = blockSize; edge < context; edge *= 2) edges.push(edge);
  edges.push(context);
  return edges;
}

/**
 * Loss and perplexity of `ids` in consecutive, non-overlapping windows of `context` tokens:
 * every token after the first is predicted once, deterministically, and the loss is also given
 * per position bucket (0–T, T–2T, 2T–4T, ... with T = blockSize), which shows how a position
 * encoding extrapolates.
 */
export function evaluate(model: MiniGPT, ids: ArrayLike<number>, options: EvaluateOptions = {}): Evaluation {
  const { blockSize, vocabSize, position } = model.config;
  const context = options.context ?? blockSize;
  if (!Number.isInteger(context) || context < 1) throw new RangeError(`evaluate: context must be a positive integer, got ${context}`);
  if (context > blockSize && position === 'learned') {
    throw new RangeError(
      `evaluate: context ${context} exceeds blockSize ${blockSize}; learned positions have no row past the length they were trained with (sinusoidal, rope, alibi and none can read further)`,
    );
  }
  if (ids.length < context + 1) throw new RangeError(`evaluate: the text has ${ids.length} tokens, fewer than context + 1 = ${context + 1}`);
  // Several windows per forward pass (the numbers of one at a time, to float rounding, in fewer and
  // larger products), as many as keep the logits under WINDOW_BATCH_LOGITS values.
  const batch = Math.max(1, Math.floor(Math.min(WINDOW_BATCH_TOKENS, WINDOW_BATCH_LOGITS / vocabSize) / context));
  // A long context's attention weights grow with its square: refused before the first window is read.
  checkMemory(model.config, { mode: 'inference', batchSize: batch, context }, { label: 'evaluate' });
  const all = Array.from(ids);
  const windows = Math.floor((all.length - 1) / context);
  const perPosition = new Float64Array(context);
  for (let first = 0; first < windows; first += batch) {
    const count = Math.min(batch, windows - first);
    const x = Array.from({ length: count }, (_, w) => all.slice((first + w) * context, (first + w + 1) * context));
    const y = all.slice(first * context + 1, (first + count) * context + 1);
    const losses = tf.tidy(() => {
      const logits = tf.reshape(model.forward(x), [count * context, vocabSize]);
      return softmaxCrossEntropy(logits, tf.tensor1d(y, 'int32'), 'none').dataSync();
    });
    // Added window by window, in order, as before batching.
    for (let w = 0; w < count; w++) for (let p = 0; p < context; p++) perPosition[p]! += losses[w * context + p]!;
  }
  const summary = (from: number, to: number): BucketEvaluation => {
    let total = 0;
    for (let p = from; p < to; p++) total += perPosition[p]!;
    const loss = total / ((to - from) * windows);
    return { from, to, loss, perplexity: Math.exp(loss), tokens: (to - from) * windows };
  };
  const edges = bucketEdges(blockSize, context);
  const { loss, perplexity, tokens } = summary(0, context);
  return {
    loss,
    perplexity,
    tokens,
    context,
    buckets: edges.slice(1).map((to, i) => summary(edges[i]!, to)),
    byPosition: Array.from(perPosition, (total) => total / windows),
  };
}
