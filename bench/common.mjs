// Shared by the benchmark scripts: argument parsing, medians (from @embedlab/test-utils), and the --json output.
import { writeFileSync } from 'node:fs';

export function argument(name, fallback) {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : fallback;
}

// median(values) and timeRuns(fn, { runs, warmup }): one copy, shared with the packages' benchmarks.
export { median, timeRuns } from '@embedlab/test-utils';

export function writeJson(results) {
  const path = argument('--json');
  if (path) writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
}
