import { type Evaluation, evaluate, type MiniGPT, parseRopeScaling, withRopeScaling } from '@embedlab/mini-gpt';
import { readCorpus } from '@embedlab/mini-gpt/node';
import { Command } from 'commander';
import { integer, loadModel, type ModelSource } from './arguments.js';

interface EvalFlags extends ModelSource {
  data: string;
  maxTokens: number;
  context?: number;
  ropeScaling?: string;
  json?: boolean;
}

function evalAction(flags: EvalFlags): void {
  const loaded = loadModel(flags);
  const { tokenizer } = loaded;
  const { blockSize } = loaded.model.config;
  const model: MiniGPT = flags.ropeScaling ? withRopeScaling(loaded.model, parseRopeScaling(flags.ropeScaling, blockSize)) : loaded.model;
  const context = flags.context ?? blockSize;
  const ids = tokenizer.encode(readCorpus(flags.data), { disallowedSpecial: [] }).slice(0, Math.max(flags.maxTokens, context) + 1);
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
  .requiredOption('--data <path>', 'a text file or a directory of .txt files')
  .option('--max-tokens <n>', 'evaluate at most this many tokens', integer('--max-tokens'), 200_000)
  .option('--context <n>', 'tokens per window (default blockSize; more for sinusoidal, rope, alibi, none)', integer('--context'))
  .option('--rope-scaling <kind:factor>', 'linear:F, dynamic:F, yarn:F or llama3:F, applied to a RoPE model without retraining')
  .option('--json', 'the numbers as one JSON object')
  .action(evalAction);
