import { generateText } from '@embedlab/mini-gpt';
import { Command } from 'commander';
import { integer, loadModel, type ModelSource, number } from './arguments.js';

interface SampleFlags extends ModelSource {
  prompt?: string;
  tokens: number;
  temperature: number;
  topK?: number;
  topP?: number;
  minP?: number;
  seed: number;
  cache: boolean;
  extrapolate?: boolean;
}

async function sample(flags: SampleFlags): Promise<void> {
  const { model, tokenizer } = loadModel(flags);
  // Without --prompt, start where a document starts: the tokenizer's separator (a newline, unless the vocabulary lacks one).
  const prompt = flags.prompt ?? tokenizer.separator ?? '\n';
  // Encoded as generateText will, before anything is printed: a character outside the vocabulary is named, with its position.
  try {
    tokenizer.encode(prompt, { allowedSpecial: 'all' });
  } catch (error) {
    throw new Error(`--prompt: ${(error as Error).message}`);
  }
  process.stdout.write(prompt);
  const options = {
    maxNewTokens: flags.tokens,
    temperature: flags.temperature,
    seed: flags.seed,
    cache: flags.cache,
    allowExtrapolation: Boolean(flags.extrapolate),
    ...(flags.topK ? { topK: flags.topK } : {}),
    ...(flags.topP ? { topP: flags.topP } : {}),
    ...(flags.minP ? { minP: flags.minP } : {}),
  };
  for await (const piece of generateText(model, tokenizer, prompt, options)) process.stdout.write(piece);
  process.stdout.write('\n');
}

export const sampleCommand = new Command('sample')
  .description('generate text from a checkpoint (or a Hugging Face GPT-2 directory)')
  .option('--checkpoint <dir>', 'checkpoint directory')
  .option('--hf <dir>', 'Hugging Face GPT-2 directory: model.safetensors, config.json, tokenizer.json (or vocab.json + merges.txt)')
  .option('--prompt <text>', "text to continue (default: the tokenizer's separator, a newline)")
  .option('--tokens <n>', 'tokens to generate', integer('--tokens'), 200)
  .option(
    '--temperature <t>',
    'sampling temperature (0 = greedy)',
    number('--temperature', (n) => n >= 0, 'a number >= 0'),
    0.8,
  )
  .option('--top-k <k>', 'keep the k most likely tokens', integer('--top-k'))
  .option(
    '--top-p <p>',
    'nucleus sampling mass',
    number('--top-p', (n) => n > 0 && n <= 1, 'in (0, 1]'),
  )
  .option(
    '--min-p <p>',
    'drop tokens below p times the most likely',
    number('--min-p', (n) => n >= 0 && n <= 1, 'in [0, 1]'),
  )
  .option('--seed <n>', 'sampling seed', integer('--seed', 0), 1337)
  .option('--no-cache', 'recompute the whole context at every step')
  .option('--extrapolate', 'read past blockSize (sinusoidal, rope, alibi)')
  .action(sample);
