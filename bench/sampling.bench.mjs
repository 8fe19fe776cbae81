// Sampling speed (tokens/s) with and without the KV cache: a 256-token generation from the
// baby shape with a context long enough to hold it, so the cache is never rebuilt.
import { createModel, generate, PRESETS } from '@embedlab/mini-gpt';
import { ready } from '@embedlab/runtime';
import { argument, writeJson } from './common.mjs';

const tokens = Number(argument('--tokens', '256'));
await ready();
const model = createModel({ ...PRESETS.baby.model, blockSize: tokens + 8, vocabSize: 65, dropout: 0 }, 1);
const prompt = [1, 2, 3, 4];

async function tokensPerSecond(cache) {
  const options = { maxNewTokens: tokens, temperature: 1, topK: 20, seed: 5, cache };
  for await (const _ of generate(model, prompt, { ...options, maxNewTokens: 8 })); // warm-up
  const start = performance.now();
  let produced = 0;
  for await (const _ of generate(model, prompt, options)) produced++;
  return produced / ((performance.now() - start) / 1000);
}

const cached = await tokensPerSecond(true);
const recomputed = await tokensPerSecond(false);
console.log(`Sampling ${tokens} tokens (baby shape, context ${tokens + 8}):`);
console.log(`  with KV cache             ${cached.toFixed(0).padStart(7)} tokens/s`);
console.log(`  recomputing the context   ${recomputed.toFixed(0).padStart(7)} tokens/s`);
console.log(`  the cache is ${(cached / recomputed).toFixed(1)}x faster`);
writeJson({ benchmark: 'sampling', tokens, cachedTokensPerSecond: cached, recomputedTokensPerSecond: recomputed, speedup: cached / recomputed });
