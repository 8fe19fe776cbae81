import { BpeTokenizer, GPT2_PATTERN } from './bpe-tokenizer.js';
import { compilePattern, splitPieces } from './pattern.js';

export interface TrainProgress {
  /** Merges learned so far. */
  merges: number;
  /** Merges needed to reach the target vocabulary. */
  targetMerges: number;
  /** Current vocabulary size (bytes + merges, specials excluded). */
  vocabSize: number;
}

export interface TrainBpeOptions {
  /** Target vocabulary size, counting the 256 byte tokens, the merges and the special tokens. */
  vocabSize: number;
  /** Special tokens, given the ids after the learned tokens. */
  specialTokens?: string[];
  /** Pre-tokenisation pattern; merges never cross its pieces. Default GPT-2's. Vetted as `BpeTokenizer` vets it. */
  pattern?: string;
  /** Stop early when the most frequent pair occurs fewer times than this. Default 2. */
  minFrequency?: number;
  onProgress?: (progress: TrainProgress) => void;
  /** Merges between progress reports. Default 100. */
  progressEvery?: number;
}

// A pair of ids packed into one number: left * 2^21 + right (ids stay below 2^21).
const PAIR_BASE = 2 ** 21;
const pairKey = (left: number, right: number) => left * PAIR_BASE + right;

/** Max-heap on (count desc, pair key asc) with lazy deletion of stale entries. */
class PairHeap {
  private readonly counts: number[] = [];
  private readonly keys: number[] = [];

  get size(): number {
    return this.keys.length;
  }

  private before(i: number, j: number): boolean {
    const ci = this.counts[i]!;
    const cj = this.counts[j]!;
    return ci > cj || (ci === cj && this.keys[i]! < this.keys[j]!);
  }

  private swap(i: number, j: number): void {
    [this.counts[i], this.counts[j]] = [this.counts[j]!, this.counts[i]!];
    [this.keys[i], this.keys[j]] = [this.keys[j]!, this.keys[i]!];
  }

  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    for (let i = this.keys.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): { count: number; key: number } {
    const top = { count: this.counts[0]!, key: this.keys[0]! };
    const last = this.keys.length - 1;
    this.swap(0, last);
    this.counts.pop();
    this.keys.pop();
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < last && this.before(l, best)) best = l;
      if (r < last && this.before(r, best)) best = r;
      if (best === i) break;
      this.swap(i, best);
      i = best;
    }
    return top;
  }
}

/**
 * Learns byte-level BPE merges from a corpus: start from the 256 bytes, and repeatedly merge the
 * most frequent adjacent pair inside the pre-tokenised pieces. Deterministic: among pairs of
 * equal frequency, the one with the smaller left id wins, then the smaller right id. Byte `b`
 * gets id `b`; the n-th merge gets id `256 + n` (a merge whose bytes already exist as a token,
 * reached by another split, reuses that token).
 */
export function trainBpe(corpus: string | Iterable<string>, options: TrainBpeOptions): BpeTokenizer {
  const { vocabSize, specialTokens = [], pattern = GPT2_PATTERN, minFrequency = 2, onProgress, progressEvery = 100 } = options;
  if (!Number.isInteger(vocabSize) || vocabSize < 256 + specialTokens.length || vocabSize >= PAIR_BASE) {
    throw new RangeError(
      `trainBpe: vocabSize must be an integer in [${256 + specialTokens.length}, ${PAIR_BASE}) (256 bytes + ${specialTokens.length} special tokens at least), got ${vocabSize}`,
    );
  }
  if (new Set(specialTokens).size !== specialTokens.length) throw new Error('trainBpe: special tokens must be distinct');

  // Distinct pieces and their frequencies.
  const regex = compilePattern(pattern, 'trainBpe');
  const pieceCounts = new Map<string, number>();
  for (const text of typeof corpus === 'string' ? [corpus] : corpus) {
    splitPieces(regex, text, (piece) => pieceCounts.set(piece, (pieceCounts.get(piece) ?? 0) + 1));
  }
  const encoder = new TextEncoder();
  const words: number[][] = [];
  const wordCounts: number[] = [];
  for (const [piece, count] of pieceCounts) {
    words.push(Array.from(encoder.encode(piece)));
    wordCounts.push(count);
  }

  const pairCounts = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const adjust = (key: number, delta: number, word: number, changed: Set<number>) => {
    pairCounts.set(key, (pairCounts.get(key) ?? 0) + delta);
    changed.add(key);
    if (delta > 0) {
      const set = pairWords.get(key);
      if (set === undefined) pairWords.set(key, new Set([word]));
      else set.add(word);
    }
  };
  const initial = new Set<number>();
  words.forEach((tokens, w) => {
    for (let i = 0; i + 1 < tokens.length; i++) adjust(pairKey(tokens[i]!, tokens[i + 1]!), wordCounts[w]!, w, initial);
  });
  const heap = new PairHeap();
  for (const key of initial) heap.push(pairCounts.get(key)!, key);

  const tokenBytes: Uint8Array[] = Array.from({ length: 256 }, (_, b) => Uint8Array.of(b));
  const idByBytes = new Map<string, number>(tokenBytes.map((bytes, id) => [bytes.join(','), id]));
  const targetTokens = vocabSize - specialTokens.length;
  const targetMerges = targetTokens - 256;
  let merges = 0;

  while (tokenBytes.length < targetTokens && heap.size > 0) {
    const { count, key } = heap.pop();
    if (pairCounts.get(key) !== count) continue; // stale entry
    if (count < minFrequency) break;
    const left = Math.floor(key / PAIR_BASE);
    const right = key % PAIR_BASE;
    const bytes = new Uint8Array([...tokenBytes[left]!, ...tokenBytes[right]!]);
    const bytesKey = bytes.join(',');
    let id = idByBytes.get(bytesKey);
    if (id === undefined) {
      id = tokenBytes.length;
      tokenBytes.push(bytes);
      idByBytes.set(bytesKey, id);
    }
    merges++;

    const changed = new Set<number>();
    for (const w of pairWords.get(key) ?? []) {
      const tokens = words[w]!;
      const weight = wordCounts[w]!;
      let found = false;
      for (let i = 0; i + 1 < tokens.length; i++) if (tokens[i] === left && tokens[i + 1] === right) found = true;
      if (!found) continue;
      for (let i = 0; i + 1 < tokens.length; i++) adjust(pairKey(tokens[i]!, tokens[i + 1]!), -weight, w, changed);
      const mergedTokens: number[] = [];
      for (let i = 0; i < tokens.length; i++) {
        if (i + 1 < tokens.length && tokens[i] === left && tokens[i + 1] === right) {
          mergedTokens.push(id);
          i++;
        } else mergedTokens.push(tokens[i]!);
      }
      words[w] = mergedTokens;
      for (let i = 0; i + 1 < mergedTokens.length; i++) adjust(pairKey(mergedTokens[i]!, mergedTokens[i + 1]!), weight, w, changed);
    }
    for (const k of changed) {
      const c = pairCounts.get(k)!;
      if (c > 0) heap.push(c, k);
      else pairCounts.delete(k);
    }
    if (onProgress && merges % progressEvery === 0) onProgress({ merges, targetMerges, vocabSize: tokenBytes.length });
  }
  onProgress?.({ merges, targetMerges, vocabSize: tokenBytes.length });

  const specials = Object.fromEntries(specialTokens.map((name, i) => [name, tokenBytes.length + i]));
  return new BpeTokenizer({ tokens: tokenBytes, specialTokens: specials, pattern });
}
