// Byte-pair merging of one pre-tokenised piece: given the piece's bytes (a byte string: one char
// code per byte) and the merge rank of every multi-byte token, repeatedly join the adjacent pair
// whose concatenation has the lowest rank, the leftmost among equals, until no adjacent pair is a
// token. Both functions return the boundaries of the final parts: [0, ..., key.length].

/** The merge rank of each multi-byte token, keyed by its byte string. */
export interface MergeRanks {
  ranks: ReadonlyMap<string, number>;
  /** The longest token, in bytes: longer pairs are never looked up. */
  maxTokenLength: number;
  /** One more than the largest rank. */
  rankLimit: number;
}

/**
 * tiktoken's loop: scan every pair for the lowest rank, join it, repeat. O(n^2) in the piece's
 * length, and the fastest choice for the short pieces that prose is made of.
 */
export function mergeByScanning(key: string, { ranks }: MergeRanks): number[] {
  const starts: number[] = [];
  for (let i = 0; i <= key.length; i++) starts.push(i);
  const pairRank = (i: number) => (i + 2 < starts.length ? (ranks.get(key.slice(starts[i], starts[i + 2])) ?? Infinity) : Infinity);
  const pairRanks: number[] = [];
  for (let i = 0; i < starts.length - 1; i++) pairRanks.push(pairRank(i));
  while (starts.length > 2) {
    let best = Infinity;
    let at = -1;
    for (let i = 0; i < pairRanks.length - 1; i++) {
      if (pairRanks[i]! < best) {
        best = pairRanks[i]!;
        at = i;
      }
    }
    if (at < 0) break;
    starts.splice(at + 1, 1);
    pairRanks.splice(at + 1, 1);
    pairRanks[at] = pairRank(at);
    if (at > 0) pairRanks[at - 1] = pairRank(at - 1);
  }
  return starts;
}

/**
 * The same merges in O(n log n): the parts form a doubly linked list (indexed by their start),
 * and a binary min-heap holds each adjacent pair keyed by (rank, start), so the next merge is the
 * heap's top. A merge changes only the pairs on either side of the joined part; their new ranks
 * are pushed, and an entry whose rank no longer matches its part's current pair is stale and
 * skipped (ranks are distinct per token, and a part only grows, so a pair never gets an old rank
 * back). Pairs longer than `maxTokenLength` bytes are not looked up. Memory is O(n).
 */
export function mergeWithHeap(key: string, { ranks, maxTokenLength, rankLimit }: MergeRanks): number[] {
  const n = key.length;
  // Heap entries are rank * n + start: exact in a double while rank * n < 2^53.
  if (rankLimit * n > Number.MAX_SAFE_INTEGER || rankLimit > 2 ** 31) throw new RangeError(`BPE merge: a piece of ${n} bytes is too long for ranks up to ${rankLimit}`);
  const next = new Int32Array(n); // start of the following part; n after the last
  const prev = new Int32Array(n); // start of the preceding part; -1 before the first
  const rankAt = new Int32Array(n); // rank of the pair that starts here; -1 if none (or not a part)
  const pairRank = (start: number): number => {
    const middle = next[start]!;
    if (middle >= n) return -1;
    const end = next[middle]!;
    if (end - start > maxTokenLength) return -1;
    return ranks.get(key.slice(start, end)) ?? -1;
  };
  const heap: number[] = [];
  const down = (from: number) => {
    const size = heap.length;
    const entry = heap[from]!;
    let i = from;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      if (child + 1 < size && heap[child + 1]! < heap[child]!) child++;
      if (heap[child]! >= entry) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = entry;
  };
  const push = (entry: number) => {
    let i = heap.length;
    heap.push(entry);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]! <= entry) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
  };

  for (let i = 0; i < n; i++) {
    next[i] = i + 1;
    prev[i] = i - 1;
  }
  for (let i = 0; i < n; i++) {
    const rank = pairRank(i);
    rankAt[i] = rank;
    if (rank >= 0) heap.push(rank * n + i);
  }
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);

  while (heap.length > 0) {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      down(0);
    }
    const start = top % n;
    if (rankAt[start] !== (top - start) / n) continue; // stale
    const middle = next[start]!;
    const end = next[middle]!;
    next[start] = end;
    if (end < n) prev[end] = start;
    rankAt[middle] = -1;
    const rank = pairRank(start);
    rankAt[start] = rank;
    if (rank >= 0) push(rank * n + start);
    const before = prev[start]!;
    if (before >= 0) {
      const rankBefore = pairRank(before);
      rankAt[before] = rankBefore;
      if (rankBefore >= 0) push(rankBefore * n + before);
    }
  }

  const starts: number[] = [];
  for (let i = 0; i < n; i = next[i]!) starts.push(i);
  starts.push(n);
  return starts;
}
