// Training throughput (forward + backward + clipping + AdamW, tokens/s) of mini-gpt through its
// own train(), against PyTorch eager on the same shape and settings (1 thread and every core),
// and against two tfjs baselines and the cpu backend, all in one run so the ratios share the
// machine's noise. Peak RSS: ours read before any baseline runs; PyTorch's per process.
// `--other-node BIN` runs mini-gpt's rows again under that Node binary (a child process with
// `--ours-only`), compared with the same PyTorch rows. Each row says its effective GFLOP/s
// (nanoGPT's estimate_mfu count) and what fraction that is of the product kernel's own speed,
// measured in the same process: how close the whole step comes to this machine's WASM peak.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { countParameters, createModel, PRESETS, TokenDataset, createRng, train } from '@embedlab/mini-gpt';
import { availableWorkers, startWorkers } from '@embedlab/mini-gpt/node';
import { linear, ready, tf } from '@embedlab/runtime';
import { argument, median, peakRssMB, timeRuns, torchLabel, torchNote, torchReferences, torchRows, writeJson } from './common.mjs';
import { createNaiveGpt } from './naive-gpt.mjs';
import { create2dGpt } from './tfjs-2d-gpt.mjs';

const presetName = argument('--preset', 'baby');
const vocabSize = Number(argument('--vocab', presetName === 'names' ? '28' : '65'));
const { model: shape, training } = PRESETS[presetName];
// The preset's own settings (dropout included), passed as they are to PyTorch so both run the same numbers.
const config = { ...shape, vocabSize };
const { batchSize, learningRate, weightDecay } = training;
const tokensPerStep = batchSize * config.blockSize;
const dataset = new TokenDataset(Array.from({ length: 50_000 }, (_, i) => (i * 7919 + (i >> 5)) % vocabSize));
const quick = presetName === 'names';
const oursOnly = process.argv.includes('--ours-only');
const otherNode = argument('--other-node');

// nanoGPT's estimate_mfu: 6 FLOPs per parameter per token (forward and backward; the position
// table excluded) plus attention's 12·layers·heads·headDim·block.
const flopsPerStep =
  tokensPerStep *
  (6 * (countParameters(config) - (config.position === 'learned' ? config.blockSize * config.nEmbd : 0)) +
    12 * config.nLayer * config.nHead * (config.nEmbd / config.nHead) * config.blockSize);

/** The product kernel alone: GFLOP/s of [1024, 512] · [512, 512] (the best of 20), this process's WASM peak for a product. */
async function productPeak() {
  await ready();
  const x = tf.randomNormal([1024, 512]);
  const w = tf.randomNormal([512, 512]);
  const times = await timeRuns(() => linear(x, w).dispose(), { runs: 20, warmup: 3 });
  tf.dispose([x, w]);
  return (2 * 1024 * 512 * 512) / (Math.min(...times) / 1000) / 1e9;
}
const steps = { ours: quick ? 20 : 8, torch: quick ? 30 : 10, baseline: quick ? 5 : 3, cpu: 2 };

// mini-gpt's rows: [label, worker threads]. One worker first, so its peak RSS is its own.
const OURS = [...new Set([1, availableWorkers()])].map((workers) => ['mini-gpt', workers]);

/**
 * mini-gpt's train() as `minigpt train --workers N` runs it (the batch split into N micro-batches
 * of batchSize / N, one per thread, averaged into one AdamW step): the median of train()'s
 * per-step tokens/s after `warmup` steps, and the cores it kept busy.
 */
async function oursRow(label, backend, workers, runs, warmup = 2) {
  const { kernels } = await ready({ backend });
  const model = createModel(config, 1);
  const pool = workers > 1 ? await startWorkers(workers) : undefined;
  const options = pool ? { batchSize: batchSize / workers, gradientAccumulation: workers, workers: pool } : {};
  const speeds = [];
  let mark;
  let coresUsed = 0;
  const onStep = ({ step, tokensPerSecond }) => {
    if (step === warmup - 1) mark = { cpu: process.cpuUsage(), wall: performance.now() };
    if (step < warmup) return;
    speeds.push(tokensPerSecond);
    if (step === warmup + runs - 1) {
      const cpu = process.cpuUsage(mark.cpu);
      coresUsed = (cpu.user + cpu.system) / 1000 / (performance.now() - mark.wall);
    }
  };
  try {
    await train(model, dataset, { steps: warmup + runs, batchSize, learningRate, weightDecay, evalInterval: 1e9, evalBatches: 1, ...options }, { onStep });
  } finally {
    pool?.close();
    model.dispose();
  }
  const tokensPerSecond = median(speeds);
  const stepMs = (tokensPerStep / tokensPerSecond) * 1000;
  const gflops = flopsPerStep / (stepMs / 1000) / 1e9;
  return { label, backend, workers, kernels, node: process.version, tokensPerSecond, stepMs, gflops, runs, coresUsed, peakRssMB: peakRssMB() };
}

/** A baseline's own step function, timed from outside after one warm-up step. */
async function baselineRow(label, create, runs) {
  await ready({ backend: 'wasm' });
  const model = create();
  let i = 0;
  const times = await timeRuns(
    () => {
      const { x, y } = dataset.batch('train', batchSize, config.blockSize, createRng(1, i++));
      model.step(x, y);
      tf.dispose([x, y]);
    },
    { runs, warmup: 1 },
  );
  tf.dispose(model.variables);
  return { label, backend: 'wasm', tokensPerSecond: tokensPerStep / (median(times) / 1000), stepMs: median(times), runs };
}

const ours = [];
for (const [label, workers] of OURS) ours.push(await oursRow(label, 'wasm', workers, steps.ours));
const peakGflops = await productPeak();
for (const row of ours) row.peakFraction = row.gflops / (peakGflops * row.workers);
if (oursOnly) {
  writeJson({ ours, peakGflops });
  process.exit(0);
}
// The same rows under another Node (its own process and peak), beside this run's PyTorch.
let otherOurs = [];
if (otherNode) {
  const json = join(mkdtempSync(join(tmpdir(), 'embedlab-bench-node-')), 'ours.json');
  execFileSync(otherNode, [fileURLToPath(import.meta.url), '--preset', presetName, '--vocab', String(vocabSize), '--ours-only', '--json', json], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const other = JSON.parse(readFileSync(json, 'utf8'));
  otherOurs = other.ours.map((row) => ({ ...row, label: `mini-gpt on Node ${row.node.split('.')[0].slice(1)}`, peakGflops: other.peakGflops }));
}
const torch = torchRows('train_step.py', { config, batchSize, learningRate, weightDecay, steps: steps.torch, warmup: 2 });
const baselines = [
  await baselineRow('2-D tfjs', () => create2dGpt(config, { weightDecay, learningRate }), steps.baseline),
  await baselineRow('naive tfjs', () => createNaiveGpt(config), steps.baseline),
  await oursRow('mini-gpt', 'cpu', 1, steps.cpu, 1),
];
for (const row of [...ours, ...baselines]) row.ratioToProduct = row.tokensPerSecond / ours[0].tokensPerSecond;
const { single, best } = torchReferences(torch.rows ?? []);
// Per core against PyTorch on one thread; with every core against its fastest configuration.
for (const row of [...ours, ...otherOurs])
  row.ratioToTorch = [single, best].flatMap((t) =>
    t ? [{ label: t === single ? torchLabel(t) : `best: ${torchLabel(t)}`, ratio: row.tokensPerSecond / t.tokensPerSecond }] : [],
  );

const fmt = (n) => n.toFixed(0).padStart(7);
console.log(
  `Training ${presetName} (block ${config.blockSize}, ${config.nLayer} layers, ${config.nHead} heads, ${config.nEmbd} dims, batch ${batchSize}, vocab ${vocabSize}, dropout ${config.dropout}), ${tokensPerStep} tokens/step, ${(flopsPerStep / 1e9).toFixed(2)} GFLOP/step; Node ${process.version}, product kernel ${ours[0].kernels} at ${peakGflops.toFixed(1)} GFLOP/s alone:`,
);
for (const row of [...ours, ...otherOurs]) {
  const ratios = row.ratioToTorch.map((r) => `x${r.ratio.toFixed(2)} of PyTorch (${r.label})`).join(', ');
  const node = row.node === process.version ? '' : `, ${row.node} ${row.kernels}, its kernel ${row.peakGflops.toFixed(1)} GFLOP/s alone`;
  console.log(
    `  ${`${row.label}, ${row.workers} worker(s)`.padEnd(28)} ${fmt(row.tokensPerSecond)} tokens/s  (${row.stepMs.toFixed(0)} ms/step, median of ${row.runs}, ${row.gflops.toFixed(1)} GFLOP/s = ${(row.peakFraction * 100).toFixed(0)}% of the kernel's peak per worker${node}, ${row.coresUsed.toFixed(1)} cores busy, peak RSS ${row.peakRssMB.toFixed(0)} MB)  ${ratios}`,
  );
}
if (torch.missing) console.log(`  ${torch.missing}`);
for (const row of torch.rows ?? []) {
  console.log(
    `  ${`PyTorch, ${torchLabel(row)}`.padEnd(36)} ${fmt(row.tokensPerSecond)} tokens/s  (${row.stepMs.toFixed(0)} ms/step, median of ${row.runs}, ${torchNote(row)}, peak RSS ${row.maxRssMB.toFixed(0)} MB)`,
  );
}
for (const row of baselines) {
  console.log(
    `  ${`${row.label} on ${row.backend}`.padEnd(28)} ${fmt(row.tokensPerSecond)} tokens/s  (${row.stepMs.toFixed(0)} ms/step, median of ${row.runs}, x${row.ratioToProduct.toFixed(2)} of mini-gpt)`,
  );
}
writeJson({
  benchmark: 'training',
  preset: presetName,
  node: process.version,
  config,
  batchSize,
  flopsPerStep,
  peakGflops,
  ours,
  otherOurs,
  torch,
  baselines,
  maxRssMB: peakRssMB(),
});
