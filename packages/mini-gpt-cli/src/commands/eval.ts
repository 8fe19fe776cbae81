import { type Evaluation, evaluate, type MiniGPT, parseRopeScaling, withRopeScaling } from '@embedlab/mini-gpt';
import { isTokenDirectory, openTokenDirectory, readCorpus } from '@embedlab/mini-gpt/node';
import type { Tokenizer } from '@embedlab/tokenizer';
import { Command } from 'commander';
import { integer, loadModel, type ModelSource } from './arguments.js';
import { namesItsTokenizer, sameTokenizer } from './training-data.js';

interface EvalFlags extends ModelSource {
  data: string;
  maxTokens: number;
  context?: number;
  ropeScaling?: string;
  json?: boolean;
}

/**
 * The first `limit` tokens of a text, or of a token directory's val.bin (which must have been
 * made by the model's tokenizer: ids of another would be scored as nonsense).
 */
function evaluationTokens(path: string, tokenizer: Tokenizer, limit: number): ArrayLike<number> {
  if (!isTokenDirectory(path)) return tokenizer.encode(readCorpus(path), { disallowedSpecial: [] }).slice(0, limit);
  // nanoGPT's own directories do not say their tokenizer: the model's is assumed. Only the ids
  // read from val.bin matter here (each is checked as it is read): no pass over train.bin.
  const directory = openTokenDirectory(path, { ...(namesItsTokenizer(path) ? {} : { tokenizer }), checkIds: false });
  try {
    if (!sameTokenizer(directory.tokenizer, tokenizer))
      throw new Error(
        `${path} was tokenized by another tokenizer than the model's; prepare the text with the model's (minigpt prepare --tokenizer CHECKPOINT_DIR)`,
      );
    const { validation } = directory.dataset;
    return validation instanceof Int32Array ? validation.subarray(0, limit) : validation.read(0, Math.min(limit, validation.length));
  } finally {
    directory.close();
  }
}

function evalAction(flags: EvalFlags): void {
  const loaded = loadModel(flags);
  const { tokenizer } = loaded;
  const { blockSize } = loaded.model.config;
  const model: MiniGPT = flags.ropeScaling ? withRopeScaling(loaded.model, parseRopeScaling(flags.ropeScaling, blockSize)) : loaded.model;
  const context = flags.context ?? blockSize;
  const ids = evaluationTokens(flags.data, tokenizer, Math.max(flags.maxTokens, context) + 1);
  if (ids.length < context + 1) throw new Error(`${flags.data} has ${ids.length} tokens, fewer than context + 1 = ${context + 1}`);
  const result: Evaluation = evaluate(model, ids, { context });
  if (flags.json) {
    console.log(JSON.stringify({ data: flags.data, blockSize, ropeScaling: flags.ropeScaling ?? null, ...result }));
    return;
  }
  console.log(`loss ${result.loss.toFixed(4)}  perplexity ${result.perplexity.toFixed(2)}  (${result.tokens} tokens of ${flags.data}, context ${context})`);
  if (result.buckets.length > 1) {
    for (const b of result.buckets)
      console.log(`  positions ${`${b.from}-${b.to}`.padEnd(11)} loss ${b.loss.toFixed(4)}  perplexity ${b.perplexity.toFixed(2)}`);
  }
}

export const evalCommand = new Command('eval')
  .description('loss and perplexity of a checkpoint on a text, overall and by position')
  .option('--checkpoint <dir>', 'checkpoint directory')
  .option('--hf <dir>', 'Hugging Face GPT-2 directory')
  .requiredOption('--data <path>', "a text file, a directory of .txt files, or a token directory (its val.bin; see 'minigpt prepare')")
  .option('--max-tokens <n>', 'evaluate at most this many tokens', integer('--max-tokens'), 200_000)
  .option('--context <n>', 'tokens per window (default blockSize; more for sinusoidal, rope, alibi, none)', integer('--context'))
  .option('--rope-scaling <kind:factor>', 'linear:F, dynamic:F, yarn:F or llama3:F, applied to a RoPE model without retraining')
  .option('--json', 'the numbers as one JSON object')
  .action(evalAction);
