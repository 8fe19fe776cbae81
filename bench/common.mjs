// Shared by the benchmark scripts: argument parsing, medians (from @embedlab/test-utils), peak
// RSS, the PyTorch reference rows, and the --json output.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { pythonPath, runTorch } from '@embedlab/test-utils';

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

/** This process's peak resident set so far, in MB (it only grows: read it after the part to measure). */
export function peakRssMB() {
  return process.resourceUsage().maxRSS / 1024;
}

/**
 * The configurations PyTorch runs in: torch's own thread pool × the BLAS pool (Debian's torch
 * calls the system OpenBLAS, whose pool is separate), each of one thread or every core: the
 * every-core ratio is taken against the fastest of those using more than one core, so that an
 * oversubscribed setting never flatters us.
 */
const cores = availableParallelism();
export const TORCH_CONFIGS = [...new Set([1, cores])].flatMap((threads) => [...new Set([1, cores])].map((blasThreads) => ({ threads, blasThreads })));

/** How a PyTorch row ran: `1 thread`, or `1 torch + 2 BLAS threads`. */
export const torchLabel = ({ threads, blasThreads }) =>
  threads === 1 && blasThreads === 1 ? '1 thread' : `${threads} torch + ${blasThreads} BLAS thread${blasThreads === 1 ? '' : 's'}`;

/** The one-thread row, and the fastest row that uses more than one core (undefined on one core). */
export function torchReferences(rows) {
  const single = rows.find((row) => row.threads === 1 && row.blasThreads === 1);
  const multi = rows.filter((row) => row !== single);
  const best = multi.length > 0 ? multi.reduce((a, b) => (b.tokensPerSecond > a.tokensPerSecond ? b : a)) : undefined;
  return { single, best };
}

export const TORCH_MISSING = 'PyTorch not available: install python3-torch (scripts/setup-system.sh)';

let torchChecked;

/** Why PyTorch rows cannot run (undefined when they can): the interpreter pythonPath() picks has no torch. */
export function torchMissing() {
  if (torchChecked === undefined) {
    const python = pythonPath();
    const probe = spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' });
    torchChecked = probe.status === 0 ? '' : `${TORCH_MISSING} (or set PYTHON to a Python with torch; tried ${python})`;
  }
  return torchChecked || undefined;
}

/**
 * Runs bench/torch/<script> once per configuration of TORCH_CONFIGS, each in its own process (so
 * each has its own peak RSS and thread pools), with `request` as JSON. Returns the answers, or
 * `{ missing }` when PyTorch is not installed; a script that fails with torch present throws.
 */
export function torchRows(script, request) {
  const missing = torchMissing();
  if (missing) return { missing };
  const path = new URL(`torch/${script}`, import.meta.url).pathname;
  return { rows: TORCH_CONFIGS.map((config) => runTorch(path, { ...request, ...config })) };
}

/** How a PyTorch row ran, for the printed line: version, BLAS (a warning for the reference BLAS), cores it kept busy. */
export function torchNote(row) {
  const blas = row.blas === 'reference' ? 'REFERENCE BLAS, ~10x slow: install libopenblas0-pthread' : row.blas;
  return `torch ${row.torch}, ${blas}, ${row.coresUsed.toFixed(1)} cores busy`;
}
