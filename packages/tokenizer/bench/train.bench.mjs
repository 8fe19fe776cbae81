// BPE training time: 1 MB of prose to a 4,096-token vocabulary.
import { trainBpe } from '../dist/index.js';
import { prose, report } from './corpus.mjs';

const text = prose(1_000_000);
const start = performance.now();
const tokenizer = trainBpe(text, { vocabSize: 4096, specialTokens: ['<|endoftext|>'] });
const seconds = (performance.now() - start) / 1000;
const tokens = tokenizer.encode(text).length;
const megabytes = new TextEncoder().encode(text).length / 1e6;
console.log(
  `BPE training, ${megabytes.toFixed(2)} MB -> ${tokenizer.vocabSize} tokens in ${seconds.toFixed(1)} s; the result encodes it at ${((megabytes * 1e6) / tokens).toFixed(2)} bytes/token`,
);
await report({ benchmark: 'tokenizer-train', megabytes, vocabSize: tokenizer.vocabSize, seconds, bytesPerToken: (megabytes * 1e6) / tokens });
