// Where a 2-thread data-parallel baby step goes: pool.gradients against the main thread's share alone, and the update.
import { createModel, PRESETS, TokenDataset, AdamW, clipScale } from '@embedlab/mini-gpt';
import { startWorkers } from '@embedlab/mini-gpt/node';
import { ready, tf } from '@embedlab/runtime';
await ready();
const preset = PRESETS.baby;
const vocabSize = 65;
const config = { ...preset.model, vocabSize };
const dataset = new TokenDataset(Array.from({ length: 50_000 }, (_, i) => (i * 7919 + (i >> 5)) % vocabSize));
const model = createModel(config);
const pool = await startWorkers(2);
await pool.connect(model);
const { localGradients } = await import('../packages/mini-gpt/dist/training/data-parallel.js');
const optimizer = new AdamW({ beta1: 0.9, beta2: 0.95, weightDecay: 0.1 });
const vars = model.trainableVariables;
const rows = { pool: [], half: [], full: [], update: [] };
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
for (let step = 0; step < 14; step++) {
  let t = performance.now();
  const r = await pool.gradients(model, dataset, step, 2, 8, 1);
  const tp = performance.now() - t;
  t = performance.now();
  const grads = new Map(vars.map((v, i) => [v, r.grads[i]]));
  const { scale } = clipScale(grads, 1);
  optimizer.apply(grads, 1e-4, scale);
  tf.dispose(r.grads);
  const tu = performance.now() - t;
  t = performance.now();
  const h = localGradients(model, dataset, step, 1, 8, 1);
  const th = performance.now() - t;
  tf.dispose(h.grads);
  t = performance.now();
  const f = localGradients(model, dataset, step, 1, 16, 1);
  const tf1 = performance.now() - t;
  tf.dispose(f.grads);
  if (step >= 3) { rows.pool.push(tp); rows.update.push(tu); rows.half.push(th); rows.full.push(tf1); }
}

console.log(Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, +med(v).toFixed(1)])));
pool.close();
