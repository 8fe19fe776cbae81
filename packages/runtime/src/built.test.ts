import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The built package in plain `node` (no bundler, no vitest transform): this is how Node ESM
// users load it, and where tfjs-core's CJS entry would otherwise have no gradients.
describe('built package in plain node', { timeout: 60_000 }, () => {
  it('computes gradients through the embedding and linear ops on wasm', () => {
    const script = `
      import { tf, ready, embeddingLookup, linear } from '@embedlab/runtime';
      const info = await ready();
      const ids = tf.tensor1d([0, 2, 2], 'int32');
      const table = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
      const weight = tf.tensor2d([[1, 0, 1], [0, 1, 1]]);
      const [dTable, dWeight] = tf.grads((t, w) => tf.sum(linear(embeddingLookup(t, ids), w)))([table, weight]);
      const dRatio = tf.grad((x) => tf.sum(tf.div(x, tf.scalar(4))))(tf.ones([2]));
      console.log(JSON.stringify({ info, dTable: Array.from(dTable.dataSync()), dWeight: Array.from(dWeight.dataSync()), dRatio: Array.from(dRatio.dataSync()) }));
    `;
    const cwd = fileURLToPath(new URL('..', import.meta.url));
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd, encoding: 'utf8' });
    const result = JSON.parse(out.trim().split('\n').at(-1)!);
    expect(result.info).toEqual({ backend: 'wasm', simd: true, threads: 1, kernels: 'relaxed-simd' });
    // d/dtable of sum(E[ids] @ W) is (row sums of W) per lookup: [2, 2] once for id 0, twice for id 2.
    expect(result.dTable).toEqual([2, 2, 0, 0, 4, 4]);
    // d/dW = sum over lookups of the looked-up rows: [1+5+5, 2+6+6] broadcast over 3 outputs.
    expect(result.dWeight).toEqual([11, 11, 11, 14, 14, 14]);
    expect(result.dRatio).toEqual([0.25, 0.25]);
  });
});
