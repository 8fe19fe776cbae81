// A tokenizer named by a spec string (`char`, `bpe:SIZE`, `gpt2:FILE`), as the CLI and configs
// write it. Node only (`gpt2:FILE` reads a file).
import { extname } from 'node:path';
import { fromHuggingFace, fromTiktoken, GPT2_SPECIAL_TOKENS, type Tokenizer } from '@embedlab/tokenizer';
import { MAX_TOKENIZER_BYTES } from '../io/checkpoint.js';
import { type TokenizerChoice, tokenizerFor } from '../training/session.js';
import { readTextCapped } from './read-capped.js';

/**
 * A tokenizer from the CLI's spelling: `char`, `bpe:SIZE` (trained on `corpus`), or `gpt2:FILE`
 * (a `.tiktoken` rank file or a Hugging Face `tokenizer.json`).
 */
export function tokenizerFromSpec(spec: string, corpus: string): Tokenizer {
  if (!spec.startsWith('gpt2:')) {
    if (spec !== 'char' && !/^bpe:/.test(spec)) throw new Error(`\`tokenizer\` must be char, bpe:SIZE or gpt2:FILE, got ${JSON.stringify(spec)}`);
    if (spec !== 'char' && !/^bpe:\d+$/.test(spec)) throw new Error(`\`tokenizer: bpe:SIZE\` needs an integer size, got ${JSON.stringify(spec.slice(4))}`);
    return tokenizerFor(spec as TokenizerChoice, corpus);
  }
  const file = spec.slice('gpt2:'.length);
  const text = readTextCapped(file, MAX_TOKENIZER_BYTES, 'a tokenizer file');
  try {
    return extname(file) === '.json' ? fromHuggingFace(text) : fromTiktoken(text, { specialTokens: GPT2_SPECIAL_TOKENS });
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message}`);
  }
}
