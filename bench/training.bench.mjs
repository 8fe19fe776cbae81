// Training throughput (forward + backward + optimizer, tokens/s) of mini-gpt against the naive
// tfjs baseline on wasm, and on the cpu backend, in one process so the ratios share its noise.
import { createModel, createRng, PRESETS, TokenDataset } from '@embedlab/mini-gpt';
import { ready, tf } from '@embedlab/runtime';
import { argument, median, timeRuns, writeJson } from './common.mjs';
import { createNaiveGpt } from './naive-gpt.mjs';
import { AdamW, clipByGlobalNorm } from '@embedlab/mini-gpt';

const presetName = argument('--preset', 'baby');
const vocabSize = Number(argument('--vocab', presetName === 'names' ? '28' : '65'));
const { model: shape, training } = PRESETS[presetName];
const config = { ...shape, vocabSize, dropout: 0 };
const batchSize = training.batchSize;
const tokensPerStep = batchSize * config.blockSize;
const dataset = new TokenDataset(Array.from({ length: 50_000 }, (_, i) => (i * 7919 + (i >> 5)) % vocabSize));

/** One optimizer step of mini-gpt as its trainer takes it (clipping, AdamW). */
function oursStep(model, optimizer, step) {
  const { x, y } = dataset.batch('train', batchSize, config.blockSize, createRng(1, step));
  const { value, grads } = tf.variableGrads(() => model.loss(x, y), model.trainableVariables);
  value.dataSync();
  const map = new Map(model.trainableVariables.map((v) => [v, grads[v.name]]));
  clipByGlobalNorm(map, 1);
  optimizer.apply(map, 1e-3);
  tf.dispose([value, x, y, ...map.values()]);
}

async function measure(label, backend, makeStep, runs) {
  await ready({ backend });
  const step = makeStep();
  let i = 0;
  const times = await timeRuns(() => step(i++), { runs, warmup: 1 });
  const tokensPerSecond = tokensPerStep / (median(times) / 1000);
  return { label, backend, tokensPerSecond, stepMs: median(times), runs };
}

const ours = () => {
  const model = createModel(config, 1);
  const optimizer = new AdamW();
  return (i) => oursStep(model, optimizer, i);
};
const naive = () => {
  const model = createNaiveGpt(config);
  return (i) => {
    const { x, y } = dataset.batch('train', batchSize, config.blockSize, createRng(1, i));
    model.step(x, y);
    tf.dispose([x, y]);
  };
};

const quick = presetName === 'names';
const rows = [];
rows.push(await measure('mini-gpt', 'wasm', ours, quick ? 15 : 7));
rows.push(await measure('naive tfjs', 'wasm', naive, quick ? 5 : 3));
rows.push(await measure('mini-gpt', 'cpu', ours, quick ? 3 : 2));
const product = rows[0].tokensPerSecond;
for (const row of rows) row.ratioToProduct = row.tokensPerSecond / product;
const maxRssMB = process.resourceUsage().maxRSS / 1024;
console.log(`Training ${presetName} (block ${config.blockSize}, ${config.nLayer} layers, ${config.nHead} heads, ${config.nEmbd} dims, batch ${batchSize}, vocab ${vocabSize}), ${tokensPerStep} tokens/step:`);
for (const row of rows) console.log(`  ${`${row.label} on ${row.backend}`.padEnd(24)} ${row.tokensPerSecond.toFixed(0).padStart(7)} tokens/s  (${row.stepMs.toFixed(0)} ms/step, median of ${row.runs})`);
console.log(`  mini-gpt wasm is ${(rows[0].tokensPerSecond / rows[1].tokensPerSecond).toFixed(1)}x the naive baseline; peak RSS ${maxRssMB.toFixed(0)} MB`);
writeJson({ benchmark: 'training', preset: presetName, config, batchSize, rows, speedupOverNaive: rows[0].tokensPerSecond / rows[1].tokensPerSecond, maxRssMB });
