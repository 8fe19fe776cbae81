// Encoding speed against gpt-tokenizer (and js-tiktoken) on the same text in the same run.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
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

const encoders = { '@embedlab/tokenizer': (t) => ours.encode(t), 'gpt-tokenizer (r50k_base)': (t) => gptTokenizerEncode(t), 'js-tiktoken (gpt2)': (t) => jsTiktoken.encode(t) };
const rows = Object.entries(encoders).map(([name, encode]) => ({ name, mbPerSecond: megabytes / (medianMs(() => encode(text), name.startsWith('js-') ? 3 : 7) / 1000) }));
const baseline = rows[1].mbPerSecond;
console.log(`GPT-2 encode, ${megabytes.toFixed(2)} MB of English prose, ${expected.length} tokens, identical ids: ${same}`);
for (const row of rows) console.log(`  ${row.name.padEnd(28)} ${row.mbPerSecond.toFixed(1).padStart(6)} MB/s   x${(row.mbPerSecond / baseline).toFixed(2)} vs gpt-tokenizer`);
await report({ benchmark: 'tokenizer-encode', megabytes, tokens: expected.length, identicalIds: same, rows });
