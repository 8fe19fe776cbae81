import { existsSync, readFileSync, statSync } from 'node:fs';
import { MAX_TOKENIZER_BYTES, type TokenizerChoice } from '@embedlab/mini-gpt';
import { availableWorkers, type PrepareProgress, prepareTokenDirectory, tokenizerFromSpec } from '@embedlab/mini-gpt/node';
import { tokenizerFromJSON } from '@embedlab/tokenizer';
import { SingleBar } from 'cli-progress';
import { Command } from 'commander';
import { integer, number } from './arguments.js';

interface PrepareFlags {
  out: string;
  tokenizer: string;
  valFraction: number;
  workers: number | 'auto';
  force?: boolean;
  json?: boolean;
}

/**
 * `char` and `bpe:SIZE` are made from the text as it streams by; `gpt2:FILE` is a GPT-2 rank file
 * or Hugging Face tokenizer.json; any other `.json` file, or a checkpoint directory, is this
 * package's tokenizer (to prepare more data for a model already trained).
 */
function tokenizerChoice(spec: string): TokenizerChoice {
  if (spec === 'char' || /^bpe:\d+$/.test(spec)) return spec as TokenizerChoice;
  if (spec.startsWith('gpt2:')) return tokenizerFromSpec(spec, '');
  const file = existsSync(spec) && statSync(spec).isDirectory() ? `${spec}/tokenizer.json` : spec;
  if (!existsSync(file)) throw new Error(`--tokenizer must be char, bpe:SIZE, gpt2:FILE, a tokenizer.json or a checkpoint directory; ${file} does not exist`);
  if (statSync(file).size > MAX_TOKENIZER_BYTES) throw new Error(`${file} is larger than ${MAX_TOKENIZER_BYTES >> 20} MiB; not a tokenizer file`);
  try {
    return tokenizerFromJSON(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message}`);
  }
}

async function prepareAction(inputs: string[], flags: PrepareFlags): Promise<void> {
  const bar =
    process.stderr.isTTY && !flags.json
      ? new SingleBar({ format: '{phase} [{bar}] {percentage}% | {mib}/{totalMib} MiB | {tokens} tokens | ETA {eta_formatted}', hideCursor: true })
      : undefined;
  const controller = new AbortController();
  const abort = () => controller.abort(new Error('interrupted; nothing was written'));
  // A closed terminal (SIGHUP) too: the partial output is removed rather than left behind.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const signal of signals) process.once(signal, abort);
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  let started = false;
  const onProgress = ({ bytes, totalBytes, tokens, phase }: PrepareProgress) => {
    if (!bar) return;
    if (!started) bar.start(totalBytes, 0, { phase, mib: '0', totalMib: mib(totalBytes), tokens: 0 });
    started = true;
    bar.update(bytes, { phase: phase === 'vocabulary' ? 'vocabulary' : 'tokenizing', mib: mib(bytes), tokens });
  };
  try {
    const meta = await prepareTokenDirectory({
      inputs,
      out: flags.out,
      tokenizer: tokenizerChoice(flags.tokenizer),
      valFraction: flags.valFraction,
      workers: flags.workers === 'auto' ? availableWorkers() : flags.workers,
      force: flags.force ?? false,
      onProgress,
      signal: controller.signal,
    });
    bar?.stop();
    if (flags.json) console.log(JSON.stringify({ out: flags.out, ...meta }));
    else
      console.log(
        `wrote ${flags.out}: train.bin ${meta.train.tokens} and val.bin ${meta.val.tokens} tokens (${meta.dtype}), ${meta.vocab_size} ids; train with: minigpt train --data ${flags.out}`,
      );
  } finally {
    bar?.stop();
    for (const signal of signals) process.off(signal, abort);
  }
}

export const prepareCommand = new Command('prepare')
  .description("tokenize text files of any size into nanoGPT's train.bin / val.bin (with meta.json and tokenizer.json), in constant memory")
  .argument('<inputs...>', 'text files, or directories of .txt files (read in name order, joined by newlines)')
  .requiredOption('--out <dir>', 'the directory to write')
  .option('--tokenizer <spec>', 'char, bpe:SIZE (trained on the first 64 MiB), gpt2:FILE, or a tokenizer.json / checkpoint directory of this package', 'char')
  .option(
    '--val-fraction <f>',
    'the share of the tokens, at the end, that go to val.bin',
    number('--val-fraction', (f) => f > 0 && f < 1, 'in (0, 1)'),
    0.1,
  )
  .option(
    '--workers <n>',
    "tokenizing threads, or 'auto' (the available cores)",
    (value: string) => (value === 'auto' ? value : integer('--workers')(value)),
    'auto',
  )
  .option('--force', 'replace --out if it exists')
  .option('--json', 'print the written meta.json as one JSON object')
  .action(prepareAction);
