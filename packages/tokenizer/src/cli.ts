#!/usr/bin/env node
import { constants } from 'node:os';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { GPT2_SPECIAL_TOKENS } from './bpe-tokenizer.js';
import { CharTokenizer } from './char-tokenizer.js';
import { entryExists, MAX_INPUT_BYTES, type ReadLimit, readInput } from './cli-input.js';
import { claimOutputs, type Output, type Target, writeOutputs } from './cli-output.js';
import { tokenizerFromJSON } from './json.js';
import { toHuggingFaceJSON, toTiktoken } from './export.js';
import {
  fromGpt2Files,
  fromHuggingFace,
  fromHuggingFaceCharLevel,
  fromTiktoken,
  isHuggingFaceCharLevel,
  readTiktokenSidecar,
  type TiktokenOptions,
} from './loaders.js';
import { trainBpe } from './trainer.js';
import type { EncodeOptions, SerializedTokenizer, Tokenizer } from './types.js';

const USAGE = `usage: embedlab-tokenizer <command> [options] [FILE...]   (no FILE, or -, reads stdin)

commands:
  encode   text -> one JSON array of ids per input
  decode   JSON arrays of ids (one per line, or one per input) -> text
  count    text -> number of tokens per input
  train    corpus -> byte-level BPE tokenizer JSON (--vocab-size N --out FILE [--force])
  export   tokenizer -> Hugging Face tokenizer.json, or (byte-level BPE) tiktoken rank file
           (--format hf|tiktoken --out FILE [--force]; tiktoken also writes FILE.json:
           name, pat_str, special_tokens)

tokenizer (encode, decode, count, export; exactly one; export also takes it as FILE,
its format read from the file):
  --tiktoken FILE              tiktoken rank file, with FILE.json beside it if there is one
                               (else GPT-2's: r50k_base.tiktoken, <|endoftext|> = 50256)
  --hf FILE                    Hugging Face tokenizer.json (byte-level BPE, or char-level as export writes it)
  --encoder FILE --vocab-bpe FILE   GPT-2's encoder.json and vocab.bpe
  --char-vocab FILE            char-level: the distinct characters of FILE
  --tokenizer FILE             a tokenizer saved by embedlab (toJSON)

options:
  --allow-special              encode special tokens written in the text as their ids
  --vocab-size N, --out FILE, --special TOKEN (repeatable), --quiet   (train)
  --format hf|tiktoken, --out FILE                                   (export)
  --force                      (train, export) overwrite FILE if it is a file of the kind written
  -h, --help

Every input (file or stdin) is read whole, up to ${MAX_INPUT_BYTES >> 20} MiB; a path must be a regular file.`;

const options = {
  tiktoken: { type: 'string' },
  hf: { type: 'string' },
  encoder: { type: 'string' },
  'vocab-bpe': { type: 'string' },
  'char-vocab': { type: 'string' },
  tokenizer: { type: 'string' },
  'allow-special': { type: 'boolean' },
  'vocab-size': { type: 'string' },
  out: { type: 'string' },
  special: { type: 'string', multiple: true },
  quiet: { type: 'boolean' },
  format: { type: 'string' },
  force: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>['values'];

class UsageError extends Error {}

/** A SIGINT, SIGTERM or SIGHUP while files were written: they are removed, and the exit code is 128 + its number. */
class Interrupted extends Error {
  constructor(readonly signal: 'SIGINT' | 'SIGTERM' | 'SIGHUP') {
    super(`interrupted by ${signal}; the files this run had created were removed`);
  }
}

/** Every path this run read, so that no output is written over one of them. */
const inputsRead = new Set<string>();

function read(path: string, limit?: ReadLimit): Promise<string> {
  inputsRead.add(path);
  return readInput(path, limit);
}

/** Runs `run`, naming the file in its errors. */
function named<T>(path: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
}

async function loadFile<T>(path: string, load: (text: string) => T): Promise<T> {
  const text = await read(path);
  return named(path, () => load(text));
}

/** What `export --format tiktoken` writes beside a rank file (FILE.json), if it is there. */
async function tiktokenSidecar(path: string): Promise<TiktokenOptions | undefined> {
  const sidecar = `${path}.json`;
  // A link loop or a dangling link there is reported, not taken for no sidecar.
  return path !== '-' && entryExists(sidecar) ? loadFile(sidecar, readTiktokenSidecar) : undefined;
}

function fromRankFile(text: string, options: TiktokenOptions | undefined): Tokenizer {
  if (options) return fromTiktoken(text, options);
  const tokenizer = fromTiktoken(text);
  // GPT-2's rank file has 50,256 ranks and one special token after them.
  return tokenizer.vocabSize === 50256 ? fromTiktoken(text, { specialTokens: GPT2_SPECIAL_TOKENS }) : tokenizer;
}

/** A tokenizer.json, char-level (as `export` writes a char tokenizer) or byte-level BPE. */
function fromAnyHuggingFace(json: string | object): Tokenizer {
  return isHuggingFaceCharLevel(json) ? fromHuggingFaceCharLevel(json) : fromHuggingFace(json);
}

/** A tokenizer file of any format but GPT-2's two-file one, told apart by its content. */
async function loadDetected(path: string): Promise<Tokenizer> {
  const text = await read(path);
  if (!text.trimStart().startsWith('{')) {
    const options = await tiktokenSidecar(path);
    return named(path, () => fromRankFile(text, options));
  }
  return named(path, () => {
    let json: { format?: unknown; model?: unknown };
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new Error(`not valid JSON: ${(error as Error).message}`);
    }
    if (json.format === 'embedlab-tokenizer') return tokenizerFromJSON(json as SerializedTokenizer);
    if (json.model !== undefined) return fromAnyHuggingFace(json);
    throw new Error(
      'neither an embedlab tokenizer (format "embedlab-tokenizer") nor a Hugging Face tokenizer.json (model); for GPT-2\'s encoder.json use --encoder FILE --vocab-bpe FILE',
    );
  });
}

async function loadTokenizer(values: Values, file?: string): Promise<Tokenizer> {
  const chosen = (['tiktoken', 'hf', 'encoder', 'char-vocab', 'tokenizer'] as const).filter((k) => values[k] !== undefined);
  if (file !== undefined) {
    if (chosen.length > 0) throw new UsageError(`give the tokenizer as FILE or as --${chosen[0]}, not both`);
    return loadDetected(file);
  }
  if (chosen.length !== 1)
    throw new UsageError(`choose exactly one tokenizer (--tiktoken, --hf, --encoder/--vocab-bpe, --char-vocab, --tokenizer); got ${chosen.length}`);
  switch (chosen[0]) {
    case 'tiktoken': {
      const options = await tiktokenSidecar(values.tiktoken!);
      return loadFile(values.tiktoken!, (text) => fromRankFile(text, options));
    }
    case 'hf':
      return loadFile(values.hf!, fromAnyHuggingFace);
    case 'encoder': {
      if (values['vocab-bpe'] === undefined) throw new UsageError('--encoder needs --vocab-bpe FILE too');
      const vocabBpe = await read(values['vocab-bpe']);
      return loadFile(values.encoder!, (text) => fromGpt2Files(text, vocabBpe));
    }
    case 'char-vocab':
      return loadFile(values['char-vocab']!, (text) => CharTokenizer.fromCorpus(text));
    default:
      return loadFile(values.tokenizer!, tokenizerFromJSON);
  }
}

function parseIds(text: string, source: string): number[][] {
  const trimmed = text.trim();
  const lines = trimmed.startsWith('[') && !trimmed.includes('\n') ? [trimmed] : trimmed.split('\n').filter((l) => l.trim() !== '');
  return lines.map((line, index) => {
    let ids: unknown;
    try {
      ids = JSON.parse(line);
    } catch {
      throw new Error(`${source}, line ${index + 1}: expected a JSON array of ids, got ${JSON.stringify(line.slice(0, 40))}`);
    }
    if (!Array.isArray(ids) || !ids.every((id) => Number.isInteger(id))) throw new Error(`${source}, line ${index + 1}: expected a JSON array of integer ids`);
    return ids as number[];
  });
}

/** A test of "a file of the kind this command writes": the loader of that kind accepts it. */
const loads = (load: (text: string) => unknown) => (text: string) => {
  try {
    load(text);
    return true;
  } catch {
    return false;
  }
};

const EMBEDLAB_FILE = { kind: 'an embedlab tokenizer (format "embedlab-tokenizer")', isOurs: loads(tokenizerFromJSON) };
const HF_FILE = { kind: 'a Hugging Face tokenizer.json that --hf loads', isOurs: loads(fromAnyHuggingFace) };
const RANK_FILE = { kind: 'a tiktoken rank file', isOurs: loads(fromTiktoken) };
const SIDECAR_FILE = { kind: 'a tiktoken sidecar (pat_str, special_tokens)', isOurs: loads(readTiktokenSidecar) };

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Writes `outputs` with a signal turned into an `Interrupted` error, after what was written is removed. */
async function write(outputs: Output[], force: boolean | undefined): Promise<void> {
  const controller = new AbortController();
  const stop = (signal: (typeof SIGNALS)[number]) => controller.abort(new Interrupted(signal));
  // `on`, not `once`: a second Ctrl-C while the files are removed must not kill the process half way.
  for (const signal of SIGNALS) process.on(signal, stop);
  try {
    await writeOutputs(outputs, { force: force ?? false, inputs: inputsRead, signal: controller.signal });
  } finally {
    for (const signal of SIGNALS) process.off(signal, stop);
  }
}

/** `export`: every output is checked before any is written, and each is written whole or not at all. */
async function exportTokenizer(values: Values, files: string[]): Promise<void> {
  const { format, out } = values;
  if (format !== 'hf' && format !== 'tiktoken') throw new UsageError(`export needs --format hf or --format tiktoken, got ${JSON.stringify(format ?? null)}`);
  if (out === undefined) throw new UsageError('export needs --out FILE');
  if (files.length > 1) throw new UsageError(`export takes one tokenizer file, got ${files.length}`);
  const tokenizer = await loadTokenizer(values, files[0]);
  const targets: Target[] =
    format === 'hf'
      ? [{ path: out, ...HF_FILE }]
      : [
          { path: out, ...RANK_FILE },
          { path: `${out}.json`, ...SIDECAR_FILE },
        ];
  await claimOutputs(targets, { force: values.force ?? false, inputs: inputsRead });
  let texts: string[];
  if (format === 'hf') {
    texts = [toHuggingFaceJSON(tokenizer)];
  } else {
    const { ranks, sidecar } = toTiktoken(tokenizer, { name: basename(out).replace(/\.tiktoken$/, '') });
    texts = [ranks, `${JSON.stringify(sidecar, null, 2)}\n`];
  }
  const outputs = targets.map((target, index) => ({ ...target, text: texts[index]! }));
  await write(outputs, values.force);
  if (!values.quiet) process.stderr.write(`wrote ${outputs.map(({ path }) => path).join(' and ')}: ${tokenizer.vocabSize} ids\n`);
}

/** `train`'s corpus: every input, read whole, `MAX_INPUT_BYTES` in all. */
async function readCorpus(inputs: string[]): Promise<string[]> {
  const corpus: string[] = [];
  let left = MAX_INPUT_BYTES;
  for (const input of inputs) {
    const text = await read(input, {
      limit: left,
      tooLarge: (name) => `${name}: the training text is larger than ${MAX_INPUT_BYTES >> 20} MiB in all, the most train reads into memory; train on less text`,
    });
    left -= Buffer.byteLength(text);
    corpus.push(text);
  }
  return corpus;
}

async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  const [command, ...files] = positionals;
  if (values.help || command === undefined) {
    console.log(USAGE);
    return;
  }
  const inputs = files.length === 0 ? ['-'] : files;
  const encodeOptions: EncodeOptions = values['allow-special'] ? { allowedSpecial: 'all' } : {};
  switch (command) {
    case 'encode': {
      const tokenizer = await loadTokenizer(values);
      for (const input of inputs) console.log(JSON.stringify(tokenizer.encode(await read(input), encodeOptions)));
      return;
    }
    case 'count': {
      const tokenizer = await loadTokenizer(values);
      for (const input of inputs) console.log(tokenizer.countTokens(await read(input), encodeOptions));
      return;
    }
    case 'decode': {
      const tokenizer = await loadTokenizer(values);
      for (const input of inputs) {
        for (const [index, ids] of parseIds(await read(input), input === '-' ? 'stdin' : input).entries()) {
          try {
            process.stdout.write(`${tokenizer.decode(ids)}\n`);
          } catch (error) {
            throw new Error(`${input === '-' ? 'stdin' : input}, line ${index + 1}: ${(error as Error).message}`);
          }
        }
      }
      return;
    }
    case 'train': {
      const vocabSize = Number(values['vocab-size']);
      if (values['vocab-size'] === undefined || !Number.isInteger(vocabSize))
        throw new UsageError(`train needs --vocab-size N (an integer), got ${JSON.stringify(values['vocab-size'] ?? null)}`);
      if (values.out === undefined) throw new UsageError('train needs --out FILE');
      const corpus = await readCorpus(inputs);
      const target = { path: values.out, ...EMBEDLAB_FILE };
      // Before training, which may take minutes, rather than after it.
      await claimOutputs([target], { force: values.force ?? false, inputs: inputsRead });
      const started = Date.now();
      const tokenizer = trainBpe(corpus, {
        vocabSize,
        specialTokens: values.special ?? [],
        progressEvery: 250,
        onProgress: ({ merges, targetMerges }) => {
          if (!values.quiet) process.stderr.write(`merges ${merges}/${targetMerges} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
        },
      });
      await write([{ ...target, text: JSON.stringify(tokenizer.toJSON()) }], values.force);
      if (!values.quiet) process.stderr.write(`wrote ${values.out}: ${tokenizer.vocabSize} tokens\n`);
      return;
    }
    case 'export':
      await exportTokenizer(values, files);
      return;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)} (expected encode, decode, count, train or export)`);
  }
}

run(process.argv.slice(2)).catch((error: unknown) => {
  const message = (error as Error).message.split('\n')[0];
  const usage = error instanceof UsageError || String((error as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS');
  console.error(`embedlab-tokenizer: ${message}${usage ? ' (see --help)' : ''}`);
  process.exitCode = error instanceof Interrupted ? 128 + constants.signals[error.signal] : 1;
});
