import { evaluate } from '@embedlab/mini-gpt';
import { readCorpus } from '@embedlab/mini-gpt/node';
import { Command } from 'commander';
import { integer, loadModel, type ModelSource } from './arguments.js';

function evalAction(flags: ModelSource & { data: string; maxTokens: number }): void {
  const { model, tokenizer } = loadModel(flags);
  const ids = tokenizer.encode(readCorpus(flags.data), { disallowedSpecial: [] }).slice(0, flags.maxTokens + 1);
  const { blockSize } = model.config;
  if (ids.length < blockSize + 1) throw new Error(`${flags.data} has ${ids.length} tokens, fewer than blockSize + 1 = ${blockSize + 1}`);
  const { loss, perplexity, tokens } = evaluate(model, ids);
  console.log(`loss ${loss.toFixed(4)}  perplexity ${perplexity.toFixed(2)}  (${tokens} tokens of ${flags.data})`);
}

export const evalCommand = new Command('eval')
  .description('loss and perplexity of a checkpoint on a text')
  .option('--checkpoint <dir>', 'checkpoint directory')
  .option('--hf <dir>', 'Hugging Face GPT-2 directory')
  .requiredOption('--data <path>', 'a text file or a directory of .txt files')
  .option('--max-tokens <n>', 'evaluate at most this many tokens', integer('--max-tokens'), 200_000)
  .action(evalAction);
