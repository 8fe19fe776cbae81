import { readFileSync } from 'node:fs';
import { fromTiktoken, GPT2_SPECIAL_TOKENS } from './dist/index.js';
import { encode } from 'gpt-tokenizer/encoding/r50k_base';
const tok = fromTiktoken(readFileSync('node_modules/gpt-tokenizer/data/r50k_base.tiktoken', 'utf8'), { specialTokens: GPT2_SPECIAL_TOKENS });
const text = readFileSync('node_modules/gpt-tokenizer/README.md', 'utf8').repeat(20);
for (const [name, f] of [['ours', (t) => tok.encode(t)], ['gpt-tokenizer', (t) => encode(t)]]) {
  f(text); const t0 = performance.now(); for (let i = 0; i < 5; i++) f(text); const dt = (performance.now() - t0) / 5;
  console.log(name, (text.length / 1e6 / (dt / 1000)).toFixed(1), 'MB/s');
}
