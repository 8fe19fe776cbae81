// `pnpm bench`: every benchmark, one after another (never in parallel: they share two cores),
// each in its own process; then one table, and all results as JSON with `--json FILE`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { argument } from './common.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'embedlab-bench-'));
const benchmarks = [
  ['training (baby)', 'bench/training.bench.mjs', ['--preset', 'baby']],
  ['training (names)', 'bench/training.bench.mjs', ['--preset', 'names']],
  ['sampling', 'bench/sampling.bench.mjs', []],
  ['tokenizer encode', 'packages/tokenizer/bench/encode.bench.mjs', []],
  ['tokenizer train', 'packages/tokenizer/bench/train.bench.mjs', []],
  ['tied head', 'packages/weight-tying/bench/head.bench.mjs', []],
];

const results = {};
for (const [name, script, args] of benchmarks) {
  const json = join(scratch, `${name.replace(/\W+/g, '-')}.json`);
  process.stderr.write(`running ${name}...\n`);
  const output = execFileSync(process.execPath, [join(root, script), ...args, '--json', json], { cwd: join(root, script, '..'), encoding: 'utf8' });
  process.stderr.write(output);
  results[name] = JSON.parse(readFileSync(json, 'utf8'));
}

const rows = [];
for (const preset of ['baby', 'names']) {
  const r = results[`training (${preset})`];
  for (const row of r.rows) rows.push([`train ${preset}: ${row.label} (${row.backend})`, `${row.tokensPerSecond.toFixed(0)} tokens/s`, row === r.rows[0] ? `${r.speedupOverNaive.toFixed(1)}x naive` : `x${row.ratioToProduct.toFixed(2)} of mini-gpt wasm`]);
  rows.push([`train ${preset}: peak RSS`, `${r.maxRssMB.toFixed(0)} MB`, '']);
}
const s = results.sampling;
rows.push([`sample ${s.tokens} tokens: KV cache`, `${s.cachedTokensPerSecond.toFixed(0)} tokens/s`, `${s.speedup.toFixed(1)}x no cache`]);
rows.push([`sample ${s.tokens} tokens: no cache`, `${s.recomputedTokensPerSecond.toFixed(0)} tokens/s`, '']);
const e = results['tokenizer encode'];
for (const row of e.rows) rows.push([`GPT-2 encode: ${row.name}`, `${row.mbPerSecond.toFixed(1)} MB/s`, `x${(row.mbPerSecond / e.rows[1].mbPerSecond).toFixed(2)} of gpt-tokenizer`]);
for (const a of e.adversarial ?? []) rows.push([`GPT-2 encode ${a.name}: @embedlab/tokenizer`, `${a.oursMs.toFixed(0)} ms`, a.gptTokenizerMs === null ? `gpt-tokenizer > ${a.limitSeconds} s (stopped)` : `gpt-tokenizer ${(a.gptTokenizerMs / 1000).toFixed(1)} s (x${(a.gptTokenizerMs / a.oursMs).toFixed(0)})`]);
const t = results['tokenizer train'];
rows.push([`BPE training ${t.megabytes.toFixed(1)} MB -> ${t.vocabSize}`, `${t.seconds.toFixed(1)} s`, `${t.bytesPerToken.toFixed(2)} bytes/token`]);
const h = results['tied head'];
for (const row of h.rows) rows.push([`head vocab ${h.vocabSize}: ${row.name}`, `${row.ms.toFixed(0)} ms/step`, `x${(row.ms / h.rows[0].ms).toFixed(2)} of tied`]);

const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length)));
const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
console.log(line(['benchmark', 'result', 'comparison']));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const row of rows) console.log(line(row));
const out = argument('--json');
if (out) writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, results }, null, 2)}\n`);
