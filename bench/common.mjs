// Shared by the benchmark scripts: argument parsing, medians, and the --json output.
import { writeFileSync } from 'node:fs';

export function argument(name, fallback) {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : fallback;
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Times `fn` (ms) `runs` times after `warmup` calls; returns every timing. */
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

export function writeJson(results) {
  const path = argument('--json');
  if (path) writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
}
