// Where a training step's time goes: per-kernel time (tf.profile) of one forward + backward
// pass of mini-gpt on wasm, grouped by kernel, and the products by operand shapes.
// `node bench/profile.mjs [--preset baby|names]`. Nested scopes ("unnamed scope",
// "fusedMatMul__op") include the kernels they call, so the shares add up to more than 100%.
import { createModel, PRESETS } from '@embedlab/mini-gpt';
import { ready, tf } from '@embedlab/runtime';
import { argument } from './common.mjs';

await ready();
const presetName = argument('--preset', 'baby');
const { model: shape, training } = PRESETS[presetName];
const vocabSize = 65;
const model = createModel({ ...shape, vocabSize }, 1);
const [batch, seq] = [training.batchSize, shape.blockSize];
const tokens = (salt) =>
  tf.tensor2d(
    Array.from({ length: batch * seq }, (_, i) => (i * salt) % vocabSize),
    [batch, seq],
    'int32',
  );
const [ids, targets] = [tokens(7), tokens(11)];
const step = () => {
  const { value, grads } = tf.variableGrads(() => model.loss(ids, targets, { dropoutSeed: () => 1 }));
  tf.dispose([value, ...Object.values(grads)]);
};
for (let i = 0; i < 3; i++) step();
const start = performance.now();
for (let i = 0; i < 5; i++) step();
const ms = (performance.now() - start) / 5;
console.log(`${presetName}: forward + backward ${ms.toFixed(0)} ms per step, ${(((batch * seq) / ms) * 1000).toFixed(0)} tokens/s (no optimizer)`);

const { kernels } = await tf.profile(step);
const sum = (groups, key, ms) => groups.set(key, { ms: (groups.get(key)?.ms ?? 0) + ms, calls: (groups.get(key)?.calls ?? 0) + 1 });
const byKernel = new Map();
const byShape = new Map();
for (const k of kernels) {
  sum(byKernel, k.name, k.kernelTimeMs);
  if (k.name === 'BatchMatMul' || k.name === 'EmbedlabMatMul') sum(byShape, k.inputShapes.map((s) => `[${s}]`).join(' @ '), k.kernelTimeMs);
}
console.log(`${kernels.length} kernels in one forward + backward step (tf.profile)`);
const top = (groups, n) => [...groups].sort((a, b) => b[1].ms - a[1].ms).slice(0, n);
console.log('\nkernel                   ms   share  calls');
for (const [name, { ms: t, calls }] of top(byKernel, Number(argument('--top', '15'))))
  console.log(`${name.padEnd(22)} ${t.toFixed(1).padStart(6)} ${((100 * t) / ms).toFixed(1).padStart(6)}% ${String(calls).padStart(6)}`);
console.log('\nProducts (EmbedlabMatMul, and tfjs BatchMatMul if any) by operand shapes as stored');
for (const [shapes, { ms: t, calls }] of top(byShape, 10))
  console.log(`${shapes.padEnd(36)} ${t.toFixed(1).padStart(6)} ms ${String(calls).padStart(4)} calls`);
