// Timings for benchmarks: every run timed with performance.now(), after warm-up calls, and the
// median as the typical run.

/** The middle value (the upper middle for an even count). */
export function median(values) {
  if (values.length === 0) throw new Error('median: no values');
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Times `fn` (ms) `runs` times after `warmup` calls, awaiting each; returns every timing. */
export async function timeRuns(fn, { runs, warmup = 1 }) {
  for (let i = 0; i < warmup; i++) await fn();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return times;
}

/** Times a synchronous `fn` (ms) `runs` times after `warmup` calls; returns every timing. */
export function timeRunsSync(fn, { runs, warmup = 1 }) {
  for (let i = 0; i < warmup; i++) fn();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  return times;
}

/** Median of `runs` timings (ms) of a synchronous `fn`, after one warm-up call. */
export function medianMs(fn, runs = 5) {
  return median(timeRunsSync(fn, { runs, warmup: 1 }));
}
