// Node-only helpers (file system), exported as `@embedlab/mini-gpt/node` so the main entry stays browser-safe.
export {
  type CheckpointLock,
  hasCheckpoint,
  loadCheckpoint,
  prepareCheckpointDirectory,
  readCheckpointFiles,
  saveCheckpoint,
} from './checkpoint-directory.js';
export { checkOutputDirectory, type OutputRules } from './output-directory.js';
export { claimDirectory, type DirectoryLock, type OutputKind, OwnedDirectory, RECORD_FILE } from './owned-directory.js';
export { type PrepareOptions, type PrepareProgress, prepareTokenDirectory } from './prepare.js';
export {
  isTokenDirectory,
  openTokenDirectory,
  TOKEN_DIRECTORY_FORMAT,
  type TokenDirectory,
  type TokenDirectoryMeta,
  type TokenDtype,
  TokenFile,
  type TokenSplitMeta,
  tokenDtype,
} from './token-directory.js';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { type BackendName, tf } from '@embedlab/runtime';
import {
  fromGpt2Files,
  fromHuggingFace,
  fromHuggingFaceCharLevel,
  fromTiktoken,
  GPT2_SPECIAL_TOKENS,
  isHuggingFaceCharLevel,
  type Tokenizer,
  toHuggingFaceJSON,
} from '@embedlab/tokenizer';
import { loadHuggingFaceGPT2, MAX_TOKENIZER_BYTES } from './checkpoint.js';
import { connectReplicas, type ReplicaEndpoint, type ReplicaPool } from './data-parallel.js';
import { modelToHuggingFace } from './huggingface-export.js';
import { checkFileSize, MAX_READ_BYTES, readTextCapped } from './read-capped.js';
import type { MiniGPT } from './model.js';
import { OutputWriter, writeInPieces } from './output-directory.js';
import { type TokenizerChoice, type TrainingSession, tokenizerFor } from './session.js';

/** The largest corpus read into memory: past it, a text file is refused rather than exhausting memory. */
export const MAX_CORPUS_BYTES = 64 * 1024 * 1024;

/** Reads at most `limit` bytes of a regular file as a stream (a file growing while it is read is refused early too). */
function readLimited(path: string, limit: number, alreadyRead: number): Buffer {
  // A device never ends and a FIFO blocks the open itself: refused before opening.
  if (!statSync(path).isFile()) throw new Error(`${path} is not a regular file; a corpus is read from text files`);
  const fd = openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    const buffer = Buffer.allocUnsafe(1 << 20);
    let total = alreadyRead;
    for (;;) {
      const read = readSync(fd, buffer, 0, buffer.length, null);
      if (read === 0) return Buffer.concat(chunks);
      total += read;
      if (total > limit)
        throw new Error(`${path}: the corpus is larger than ${Math.round(limit / 2 ** 20)} MiB, the most read into memory; use a smaller text`);
      chunks.push(Buffer.from(buffer.subarray(0, read)));
    }
  } finally {
    closeSync(fd);
  }
}

/** UTF-8 text without a leading byte-order mark (a marker, not text: `prepareTokenDirectory` drops it too). */
function textOf(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * A text file, or the `.txt` files of a directory joined by newlines (sorted by name), read as
 * streams up to `maxBytes` in all (default `MAX_CORPUS_BYTES`).
 */
export function readCorpus(path: string, { maxBytes = MAX_CORPUS_BYTES }: { maxBytes?: number } = {}): string {
  try {
    if (statSync(path).isDirectory()) {
      const files = readdirSync(path)
        .filter((f) => f.endsWith('.txt'))
        .sort();
      if (files.length === 0) throw new Error(`${path} has no .txt files`);
      let read = 0;
      const parts = files.map((f) => {
        const bytes = readLimited(join(path, f), maxBytes, read);
        read += bytes.length;
        return textOf(bytes);
      });
      return parts.join('\n');
    }
    return textOf(readLimited(path, maxBytes, 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined) throw error;
    throw new Error(code === 'ENOENT' ? `no such file or directory: ${path}` : `cannot read ${path}: ${(error as Error).message}`);
  }
}

/**
 * A tokenizer from the CLI's spelling: `char`, `bpe:SIZE` (trained on `corpus`), or `gpt2:FILE`
 * (a `.tiktoken` rank file or a Hugging Face `tokenizer.json`).
 */
export function tokenizerFromSpec(spec: string, corpus: string): Tokenizer {
  if (!spec.startsWith('gpt2:')) {
    if (spec !== 'char' && !/^bpe:/.test(spec)) throw new Error(`--tokenizer must be char, bpe:SIZE or gpt2:FILE, got ${JSON.stringify(spec)}`);
    if (spec !== 'char' && !/^bpe:\d+$/.test(spec)) throw new Error(`--tokenizer bpe:SIZE needs an integer size, got ${JSON.stringify(spec.slice(4))}`);
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

/** The largest Hugging Face config.json read (GPT-2's is under 1 kB). */
const MAX_HF_CONFIG_BYTES = 1 << 20;

/**
 * A Hugging Face GPT-2 directory, as `gpt2` is published: `model.safetensors`, `config.json`,
 * and `tokenizer.json` or `vocab.json` + `merges.txt`.
 */
export function loadHuggingFaceDirectory(dir: string): { model: MiniGPT; tokenizer: Tokenizer } {
  const file = (name: string) => join(dir, name);
  for (const name of ['model.safetensors', 'config.json'])
    if (!existsSync(file(name))) throw new Error(`${dir} is not a Hugging Face GPT-2 directory: ${name} is missing`);
  // Every file is read whole, so each is capped before it is opened.
  const tokenizerFile = (name: string) => readTextCapped(file(name), MAX_TOKENIZER_BYTES, 'a tokenizer file');
  const config = readTextCapped(file('config.json'), MAX_HF_CONFIG_BYTES, 'a config.json');
  let tokenizer: Tokenizer;
  if (existsSync(file('tokenizer.json'))) {
    const json = tokenizerFile('tokenizer.json');
    tokenizer = isHuggingFaceCharLevel(json) ? fromHuggingFaceCharLevel(json) : fromHuggingFace(json);
  } else if (existsSync(file('vocab.json')) && existsSync(file('merges.txt')))
    tokenizer = fromGpt2Files(tokenizerFile('vocab.json'), tokenizerFile('merges.txt'));
  else throw new Error(`${dir} has no tokenizer: tokenizer.json, or vocab.json and merges.txt, are needed`);
  checkFileSize(file('model.safetensors'), MAX_READ_BYTES, 'a model file read at once');
  const model = loadHuggingFaceGPT2(new Uint8Array(readFileSync(file('model.safetensors'))), config);
  if (tokenizer.vocabSize > model.config.vocabSize) {
    model.dispose();
    throw new Error(`${dir}: the tokenizer has ${tokenizer.vocabSize} tokens but the model only ${model.config.vocabSize}`);
  }
  return { model, tokenizer };
}

/**
 * Writes `model` and `tokenizer` as a Hugging Face GPT-2 directory (`model.safetensors`,
 * `config.json`, `tokenizer.json` and `tokenizer_config.json`), whole or not at all: `dir` must
 * be new, empty, or (with `force`) a Hugging Face directory this package wrote, and is claimed
 * before anything is written. `signal` stops the writing and removes what was written. Returns
 * the notes of `modelToHuggingFace`; `loadHuggingFaceDirectory` reads the directory back.
 */
export async function saveHuggingFaceDirectory(
  dir: string,
  model: MiniGPT,
  tokenizer: Tokenizer,
  {
    force = false,
    source,
    signal,
  }: { force?: boolean /** The directory the model was read from: never replaced. */; source?: string; signal?: AbortSignal } = {},
): Promise<string[]> {
  const writer = OutputWriter.start(dir, { kind: 'Hugging Face directory', force, ...(source ? { sources: [source] } : {}) });
  try {
    const endOfTextId = tokenizer.specialTokens.get('<|endoftext|>');
    const { files, notes } = modelToHuggingFace(model, endOfTextId === undefined ? {} : { endOfTextId });
    // Hugging Face's decode would otherwise drop the space before punctuation: ids would not decode to their text.
    const endOfText = endOfTextId === undefined ? {} : { bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', unk_token: '<|endoftext|>' };
    const tokenizerConfig = {
      tokenizer_class: 'PreTrainedTokenizerFast',
      clean_up_tokenization_spaces: false,
      model_max_length: model.config.blockSize,
      ...endOfText,
    };
    const all = { ...files, 'tokenizer.json': toHuggingFaceJSON(tokenizer), 'tokenizer_config.json': `${JSON.stringify(tokenizerConfig, null, 2)}\n` };
    for (const [name, content] of Object.entries(all)) await writeInPieces(writer.path(name), content, signal);
    // config.json last: without it the directory is no model to any reader.
    writer.finish(Object.keys(all), 'config.json');
    return notes;
  } catch (error) {
    writer.abort();
    throw error;
  }
}

/** Stops `session` after its current step on SIGINT or SIGTERM (so it saves); returns the undo. */
export function stopOnSignals(session: TrainingSession): () => void {
  const stop = () => session.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  };
}

/** Threads `--workers auto` uses: the cores this process may run on. */
export function availableWorkers(): number {
  return availableParallelism();
}

/**
 * `count` threads for data-parallel training (`train({ workers })`): this one and `count - 1`
 * worker threads, each with the model on its own wasm instance. Close the pool when done.
 */
export async function startWorkers(count: number): Promise<ReplicaPool> {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`startWorkers: count must be a positive integer, got ${count}`);
  const backend = tf.getBackend() as BackendName;
  const endpoints = Array.from({ length: count - 1 }, (): ReplicaEndpoint => {
    const worker = new Worker(new URL('./replica-thread.js', import.meta.url), { workerData: { backend } });
    const listeners: ((message: unknown) => void)[] = [];
    worker.on('message', (message) => {
      for (const listener of listeners) listener(message);
    });
    // A worker that dies answers its pending step with an error instead of leaving it hanging.
    worker.on('error', (error) => {
      for (const listener of listeners) listener({ type: 'error', message: error.message });
    });
    return {
      postMessage: (message, transfer) => worker.postMessage(message, transfer as never),
      onMessage: (listener) => void listeners.push(listener),
      terminate: () => void worker.terminate(),
    };
  });
  return connectReplicas(endpoints);
}
