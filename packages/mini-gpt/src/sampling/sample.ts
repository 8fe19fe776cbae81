import type { tf } from '@embedlab/runtime';
import type { Rng } from '../training/rng.js';

export interface SamplingOptions {
  /** Divides the logits; 0 means greedy (always the most likely token). Default 1. */
  temperature?: number;
  /** Keep only the k most likely tokens. */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p (nucleus sampling). */
  topP?: number;
  /** Drop tokens less likely than minP times the most likely one. */
  minP?: number;
}

export function checkSamplingOptions({ temperature = 1, topK, topP, minP }: SamplingOptions): void {
  if (!(Number.isFinite(temperature) && temperature >= 0)) throw new RangeError(`sampling: temperature must be a number >= 0, got ${temperature}`);
  if (topK !== undefined && !(Number.isInteger(topK) && topK >= 1)) throw new RangeError(`sampling: topK must be a positive integer, got ${topK}`);
  if (topP !== undefined && !(topP > 0 && topP <= 1)) throw new RangeError(`sampling: topP must be in (0, 1], got ${topP}`);
  if (minP !== undefined && !(minP >= 0 && minP <= 1)) throw new RangeError(`sampling: minP must be in [0, 1], got ${minP}`);
}

const INDEX_BITS = 21;
const INDEX_SPAN = 2 ** INDEX_BITS;
const float32 = new Float32Array(1);
const float32Bits = new Uint32Array(float32.buffer);

/**
 * The ids by logit, largest first, ties by id: a comparator sort of a 50,257-id vocabulary costs
 * ~25 ms a token, so float32 logits are sorted as numbers instead, each an exact 53-bit integer
 * made of its bits (ordered as the floats are, -0 as +0) and its id.
 */
function descendingOrder(logits: ArrayLike<number>): Uint32Array | number[] {
  const n = logits.length;
  if (!(logits instanceof Float32Array) || n > INDEX_SPAN) return Array.from({ length: n }, (_, i) => i).sort((a, b) => logits[b]! - logits[a]! || a - b);
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    float32[0] = logits[i]! + 0; // -0 + 0 is +0: the two zeros tie, as they compare
    const bits = float32Bits[0]!;
    // Ascending floats as ascending unsigned integers, then reversed for largest first.
    const ascending = bits & 0x80000000 ? ~bits >>> 0 : (bits | 0x80000000) >>> 0;
    keys[i] = (0xffffffff - ascending) * INDEX_SPAN + i;
  }
  keys.sort();
  const order = new Uint32Array(n);
  for (let rank = 0; rank < n; rank++) order[rank] = keys[rank]! % INDEX_SPAN;
  return order;
}

/** The next-token distribution after temperature, top-k, top-p and min-p, as probabilities (zeros for dropped tokens). */
export function nextTokenProbabilities(logits: ArrayLike<number>, options: SamplingOptions = {}): Float64Array {
  const { temperature = 1, topK, topP, minP } = options;
  const n = logits.length;
  const probabilities = new Float64Array(n);
  if (temperature === 0) {
    let best = 0;
    for (let i = 1; i < n; i++) if (logits[i]! > logits[best]!) best = i;
    probabilities[best] = 1;
    return probabilities;
  }
  const order = descendingOrder(logits);
  const kept = order.slice(0, Math.min(n, topK ?? n));
  const max = logits[kept[0]!]! / temperature;
  let sum = 0;
  for (const i of kept) sum += probabilities[i] = Math.exp(logits[i]! / temperature - max);
  for (const i of kept) probabilities[i]! /= sum;
  let cut = kept.length;
  if (topP !== undefined) {
    let cumulative = 0;
    for (let rank = 0; rank < kept.length; rank++) {
      cumulative += probabilities[kept[rank]!]!;
      if (cumulative >= topP) {
        cut = rank + 1;
        break;
      }
    }
  }
  if (minP !== undefined) {
    // The most likely token is never below minP times itself, so at least one survives.
    const floor = minP * probabilities[kept[0]!]!;
    const firstBelow = kept.findIndex((i, rank) => rank < cut && probabilities[i]! < floor);
    if (firstBelow > 0) cut = firstBelow;
  }
  for (let rank = cut; rank < kept.length; rank++) probabilities[kept[rank]!] = 0;
  let total = 0;
  for (let rank = 0; rank < cut; rank++) total += probabilities[kept[rank]!]!;
  for (let rank = 0; rank < cut; rank++) probabilities[kept[rank]!]! /= total;
  return probabilities;
}

/** Draws an id from probabilities with the given random stream. */
export function drawToken(probabilities: Float64Array, rng: Rng): number {
  let u = rng.float();
  let last = 0;
  for (let i = 0; i < probabilities.length; i++) {
    const p = probabilities[i]!;
    if (p === 0) continue;
    last = i;
    u -= p;
    if (u < 0) return i;
  }
  return last;
}

/** Reads a `[1, 1, vocab]` logits tensor (and disposes it). */
export function lastLogits(logits: tf.Tensor): Float32Array {
  const values = logits.dataSync() as Float32Array;
  logits.dispose();
  return values;
}
