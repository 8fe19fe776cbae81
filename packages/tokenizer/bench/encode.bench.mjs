// Encoding speed against gpt-tokenizer (and js-tiktoken) on the same text in the same run: English
// prose, then adversarial text (long pieces without spaces, on which a scanning BPE merge is
// quadratic; gpt-tokenizer runs in a worker that is stopped after LIMIT_SECONDS).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { encode as gptTokenizerEncode } from 'gpt-tokenizer/encoding/r50k_base';
import { getEncoding } from 'js-tiktoken';
import { fromTiktoken, GPT2_SPECIAL_TOKENS } from '../dist/index.js';
import { medianMs, prose, report } from './corpus.mjs';

const require = createRequire(import.meta.url);
const ours = fromTiktoken(readFileSync(require.resolve('gpt-tokenizer/data/r50k_base.tiktoken'), 'utf8'), { specialTokens: GPT2_SPECIAL_TOKENS });
const jsTiktoken = getEncoding('gpt2');
const text = prose(2_000_000);
const megabytes = new TextEncoder().encode(text).length / 1e6;

const expected = gptTokenizerEncode(text);
const same = JSON.stringify(ours.encode(text)) === JSON.stringify(expected);
if (!same) throw new Error('encode.bench: ids differ from gpt-tokenizer');

const encoders = {
  '@embedlab/tokenizer': (t) => ours.encode(t),
  'gpt-tokenizer (r50k_base)': (t) => gptTokenizerEncode(t),
  'js-tiktoken (gpt2)': (t) => jsTiktoken.encode(t),
};
const rows = Object.entries(encoders).map(([name, encode]) => ({
  name,
  mbPerSecond: megabytes / (medianMs(() => encode(text), name.startsWith('js-') ? 3 : 7) / 1000),
}));
const baseline = rows[1].mbPerSecond;
console.log(`GPT-2 encode, ${megabytes.toFixed(2)} MB of English prose, ${expected.length} tokens, identical ids: ${same}`);
for (const row of rows)
  console.log(`  ${row.name.padEnd(28)} ${row.mbPerSecond.toFixed(1).padStart(6)} MB/s   x${(row.mbPerSecond / baseline).toFixed(2)} vs gpt-tokenizer`);

const LIMIT_SECONDS = Number(process.argv[process.argv.indexOf('--limit') + 1]) || 60; // --limit SECONDS
/** gpt-tokenizer's time (one cold run) and ids, or null if it ran past the limit. */
function gptTokenizerTimed(text) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./gpt-tokenizer-worker.mjs', import.meta.url), { workerData: { text } });
    const timer = setTimeout(() => worker.terminate().then(() => resolve(null)), LIMIT_SECONDS * 1000);
    worker.once('message', (result) => {
      clearTimeout(timer);
      worker.terminate().then(() => resolve(result));
    });
    worker.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
// A million digits with no pattern to them (the MINSTD generator, fixed seed).
let seed = 12345;
const digits = Array.from({ length: 1_000_000 }, () => {
  seed = (seed * 48271) % 2147483647;
  return seed % 10;
}).join('');
const adversarialTexts = [
  ['128 KB of newlines', '\n'.repeat(131_072)],
  ['1e6 digits', digits],
  ['"!?" x 1e5', '!?'.repeat(100_000)],
];
const adversarial = [];
console.log(`GPT-2 encode, adversarial text (one piece each; ours: median of 3 runs, gpt-tokenizer: one run, stopped after ${LIMIT_SECONDS} s)`);
for (const [name, input] of adversarialTexts) {
  const oursIds = ours.encode(input);
  const oursMs = medianMs(() => ours.encode(input), 3);
  const reference = await gptTokenizerTimed(input);
  const identicalIds = reference === null ? null : reference.ids.length === oursIds.length && reference.ids.every((id, i) => id === oursIds[i]);
  if (identicalIds === false) throw new Error(`encode.bench: ids differ from gpt-tokenizer on ${name}`);
  const gptTokenizerMs = reference?.ms ?? null;
  adversarial.push({ name, bytes: input.length, tokens: oursIds.length, oursMs, gptTokenizerMs, limitSeconds: LIMIT_SECONDS, identicalIds });
  const theirs =
    gptTokenizerMs === null
      ? `gpt-tokenizer > ${LIMIT_SECONDS} s (stopped)`
      : `gpt-tokenizer ${(gptTokenizerMs / 1000).toFixed(1)} s, x${(gptTokenizerMs / oursMs).toFixed(0)} faster, identical ids`;
  console.log(`  ${name.padEnd(20)} ${oursIds.length} tokens: @embedlab/tokenizer ${oursMs.toFixed(0)} ms; ${theirs}`);
}
await report({ benchmark: 'tokenizer-encode', megabytes, tokens: expected.length, identicalIds: same, rows, adversarial });
