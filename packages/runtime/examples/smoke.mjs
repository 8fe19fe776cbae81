// The root README's first command, until mini-gpt's training demo replaces it: start the
// runtime, learn a tiny bigram table with the runtime's ops, and show the loss fall.
import { tf, ready, embeddingLookup, linear } from '@embedlab/runtime';

const info = await ready();
console.log(`backend ${info.backend}, SIMD ${info.simd}, threads ${info.threads}`);
const text = 'abcdefghijklmnopqrstuvwxyz'.repeat(8);
const vocab = [...new Set(text)];
const ids = tf.tensor1d([...text].slice(0, -1).map((c) => vocab.indexOf(c)), 'int32');
const next = tf.oneHot(tf.tensor1d([...text].slice(1).map((c) => vocab.indexOf(c)), 'int32'), vocab.length);
const table = tf.variable(tf.randomNormal([vocab.length, 32], 0, 0.02, 'float32', 1));
const head = tf.variable(tf.randomNormal([32, vocab.length], 0, 0.02, 'float32', 2));
const optimizer = tf.train.adam(0.01);
for (let step = 0; step <= 60; step++) {
  const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(next, linear(embeddingLookup(table, ids), head)), true);
  if (step % 20 === 0) console.log(`step ${String(step).padStart(2)}  loss ${loss.dataSync()[0].toFixed(4)}`);
  loss.dispose();
}
