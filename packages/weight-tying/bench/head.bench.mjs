// The tied head must cost no more than an untied one: forward + backward of embed -> project,
// with GPT-2's vocabulary, measured in one run. The naive head (tf.matMul with transposeB, which
// the wasm backend runs in a scalar loop) is the baseline both should beat.
import { embeddingLookup, ready, tf } from '@embedlab/runtime';
import { medianMs } from '@embedlab/test-utils';
import { TokenEmbedding } from '@embedlab/token-embedding';
import { EmbeddingHead } from '../dist/index.js';

const vocabSize = 50257;
const dim = 64;
const tokens = 256;
const info = await ready();
const ids = tf.tensor2d(
  Array.from({ length: tokens }, (_, i) => (i * 7919) % vocabSize),
  [1, tokens],
  'int32',
);
const targets = tf.oneHot(
  tf.tensor1d(
    Array.from({ length: tokens }, (_, i) => (i * 104729) % vocabSize),
    'int32',
  ),
  vocabSize,
);

function stepFor(lossFn, variables) {
  return () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(lossFn, variables);
      value.dataSync();
      tf.dispose(grads);
    });
}

const heads = {
  tied: new EmbeddingHead(new TokenEmbedding({ vocabSize, dim, seed: 1 }), { tie: true }),
  untied: new EmbeddingHead(new TokenEmbedding({ vocabSize, dim, seed: 1 }), { tie: false, seed: 2 }),
};
const steps = Object.fromEntries(
  Object.entries(heads).map(([name, head]) => [
    name,
    stepFor(() => tf.losses.softmaxCrossEntropy(targets, head.logits(tf.reshape(head.embed(ids), [tokens, dim]))), head.trainableVariables),
  ]),
);
const naiveTable = tf.variable(tf.randomNormal([vocabSize, dim], 0, 0.02, 'float32', 1));
steps['naive (tf.matMul transposeB)'] = stepFor(
  () => tf.losses.softmaxCrossEntropy(targets, tf.matMul(tf.reshape(embeddingLookup(naiveTable, ids), [tokens, dim]), naiveTable, false, true)),
  [naiveTable],
);

const rows = Object.entries(steps).map(([name, step]) => ({ name, ms: medianMs(step, 7) }));
console.log(`Output head forward + backward, vocab ${vocabSize}, dim ${dim}, ${tokens} tokens, ${info.backend}${info.simd ? ' SIMD' : ''}`);
for (const row of rows) console.log(`  ${row.name.padEnd(30)} ${row.ms.toFixed(1).padStart(7)} ms   x${(row.ms / rows[0].ms).toFixed(2)} of tied`);
const at = process.argv.indexOf('--json');
if (at > 0)
  (await import('node:fs')).writeFileSync(
    process.argv[at + 1],
    `${JSON.stringify({ benchmark: 'weight-tying-head', vocabSize, dim, tokens, rows }, null, 2)}\n`,
  );
