// GFLOP/s of the runtime's product kernel (EmbedlabMatMul, assembly/gemm.ts) in its relaxed SIMD
// and plain SIMD builds against XNNPACK (tfjs-backend-wasm's fused matMul, the fastest product
// tfjs offers, with the same bias), on the products of a baby training step: the Linear layers'
// forward x·W + b, and their backward dX = dY·Wᵀ and dW = Xᵀ·dY (XNNPACK has no transposed
// form: its rows multiply explicit transposes, as the runtime's linear op did before). The
// variants run interleaved, round after round, in one process, so the ratios share the noise.
// `node bench/gemm.bench.mjs [--rounds 7]`.
import { ready, tf } from '@embedlab/runtime';
import { forceKernelBuild } from '@embedlab/runtime/testing';
import { argument, median } from './common.mjs';

const info = await ready();
const rounds = Number(argument('--rounds', '7'));
const builds = info.kernels === 'relaxed-simd' ? ['relaxed-simd', 'simd'] : ['simd'];

// [label, m, k, n, transposeA, transposeB]: op(A) [m, k] · op(B) [k, n].
const SHAPES = [
  ['fc forward   x·W + b', 1024, 128, 512, false, false],
  ['proj forward x·W + b', 1024, 512, 128, false, false],
  ['attn forward x·W + b', 1024, 128, 384, false, false],
  ['fc dX = dY·Wᵀ', 1024, 512, 128, false, true],
  ['fc dW = Xᵀ·dY', 128, 1024, 512, true, false],
];

function timeCalls(fn, minMs = 60) {
  let calls = 0;
  const start = performance.now();
  do {
    tf.dispose(fn());
    calls++;
  } while (performance.now() - start < minMs);
  return (performance.now() - start) / calls;
}

const MatMul = 'EmbedlabMatMul';
const rows = [];
for (const [label, m, k, n, transposeA, transposeB] of SHAPES) {
  const a = tf.randomNormal(transposeA ? [k, m] : [m, k]);
  const b = tf.randomNormal(transposeB ? [n, k] : [k, n]);
  const bias = transposeA || transposeB ? tf.zeros([0]) : tf.randomNormal([n]);
  const xnnpack = () =>
    tf.tidy(() => {
      const left = transposeA ? tf.transpose(a) : a;
      const right = transposeB ? tf.transpose(b) : b;
      return bias.size > 0 ? tf.fused.matMul({ a: left, b: right, bias }) : tf.matMul(left, right);
    });
  const ours = () => tf.engine().runKernel(MatMul, { a, b, bias }, { transposeA, transposeB, gelu: 'off' });
  const variants = [['XNNPACK', xnnpack], ...builds.map((build) => [build, ours, build])];
  const times = new Map(variants.map(([name]) => [name, []]));
  for (let round = 0; round < rounds + 1; round++) {
    for (const [name, fn, build] of variants) {
      forceKernelBuild(build);
      const ms = timeCalls(fn);
      if (round > 0) times.get(name).push(ms);
    }
  }
  forceKernelBuild(undefined);
  const gflops = (name) => (2 * m * k * n) / (median(times.get(name)) * 1e6);
  rows.push({ label: `${label} [${m},${k}]x[${k},${n}]`, xnnpack: gflops('XNNPACK'), builds: Object.fromEntries(builds.map((b) => [b, gflops(b)])) });
  tf.dispose([a, b, bias]);
}

console.log(`Node ${process.version}, kernels: ${info.kernels}; GFLOP/s, median of ${rounds} interleaved rounds`);
console.log(`${'product'.padEnd(44)} ${'XNNPACK'.padStart(8)} ${builds.map((b) => b.padStart(13)).join(' ')}   best/XNNPACK`);
for (const { label, xnnpack, builds: ours } of rows) {
  const best = Math.max(...Object.values(ours));
  console.log(
    `${label.padEnd(44)} ${xnnpack.toFixed(1).padStart(8)} ${Object.values(ours)
      .map((g) => g.toFixed(1).padStart(13))
      .join(' ')}   x${(best / xnnpack).toFixed(2)}`,
  );
}
