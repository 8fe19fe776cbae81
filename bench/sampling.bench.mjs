// Sampling speed (tokens/s, batch 1, top-k 20) with the KV cache against PyTorch eager with the
// straightforward cached decode (1 thread and every core), and without the cache. `--shape baby`
// (default): a 256-token generation, the context long enough to hold it so the cache is never
// rebuilt. `--shape gpt2-small --tokens 20`: GPT-2 small's shape with random weights.
import { createModel, generate, PRESETS } from '@embedlab/mini-gpt';
import { ready } from '@embedlab/runtime';
import { argument, median, peakRssMB, torchLabel, torchNote, torchRows, writeJson } from './common.mjs';

const shapeName = argument('--shape', 'baby');
const tokens = Number(argument('--tokens', '256'));
const runs = Number(argument('--runs', '3'));
const gpt2 = shapeName === 'gpt2-small';
const preset = PRESETS[shapeName].model;
const config = { ...preset, blockSize: gpt2 ? preset.blockSize : tokens + 8, vocabSize: gpt2 ? 50257 : 65, dropout: 0 };
const prompt = [1, 2, 3, 4];
const sampling = { temperature: 1, topK: 20 };
await ready();
const model = createModel(config, 1);

/** Median tokens/s of `runs` generations of `tokens` tokens after an 8-token warm-up, and the cores kept busy. */
async function measure(cache, runs) {
  const options = { ...sampling, maxNewTokens: tokens, seed: 5, cache };
  for await (const _ of generate(model, prompt, { ...options, maxNewTokens: 8 })); // warm-up
  const speeds = [];
  const cpu = process.cpuUsage();
  const wall = performance.now();
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    let produced = 0;
    for await (const _ of generate(model, prompt, options)) produced++;
    speeds.push(produced / ((performance.now() - start) / 1000));
  }
  const used = process.cpuUsage(cpu);
  return { tokensPerSecond: median(speeds), runs, coresUsed: (used.user + used.system) / 1000 / (performance.now() - wall) };
}

const cached = await measure(true, runs);
const maxRssMB = peakRssMB();
const torch = torchRows('sample.py', { config, tokens, prompt, ...sampling, runs });
const recomputed = gpt2 ? undefined : await measure(false, 1);
const ratioToTorch = (torch.rows ?? []).map((t) => ({ label: torchLabel(t), ratio: cached.tokensPerSecond / t.tokensPerSecond }));

console.log(
  `Sampling ${tokens} tokens, batch 1 (${shapeName} shape: ${config.nLayer} layers, ${config.nHead} heads, ${config.nEmbd} dims, vocab ${config.vocabSize}, context ${config.blockSize}):`,
);
const ratios = ratioToTorch.map((r) => `x${r.ratio.toFixed(2)} of PyTorch (${r.label})`).join(', ');
console.log(
  `  mini-gpt, KV cache          ${cached.tokensPerSecond.toFixed(1).padStart(7)} tokens/s  (median of ${runs}, ${cached.coresUsed.toFixed(1)} cores busy, peak RSS ${maxRssMB.toFixed(0)} MB)  ${ratios}`,
);
if (torch.missing) console.log(`  ${torch.missing}`);
for (const row of torch.rows ?? []) {
  console.log(
    `  ${`PyTorch, KV cache, ${torchLabel(row)}`.padEnd(40)} ${row.tokensPerSecond.toFixed(1).padStart(7)} tokens/s  (median of ${row.runs}, ${torchNote(row)}, peak RSS ${row.maxRssMB.toFixed(0)} MB)`,
  );
}
if (recomputed) {
  console.log(
    `  mini-gpt, no cache          ${recomputed.tokensPerSecond.toFixed(1).padStart(7)} tokens/s  (the cache is ${(cached.tokensPerSecond / recomputed.tokensPerSecond).toFixed(1)}x faster)`,
  );
}
writeJson({
  benchmark: 'sampling',
  shape: shapeName,
  config,
  tokens,
  cachedTokensPerSecond: cached.tokensPerSecond,
  cached,
  maxRssMB,
  torch,
  ratioToTorch,
  ...(recomputed ? { recomputedTokensPerSecond: recomputed.tokensPerSecond, speedup: cached.tokensPerSecond / recomputed.tokensPerSecond } : {}),
});
