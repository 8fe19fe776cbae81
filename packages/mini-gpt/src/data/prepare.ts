// `minigpt prepare`: text files of any size through a tokenizer into a token directory, in
// constant memory. The text is read as a stream, cut into pieces where the tokenizer's own
// pre-tokenization splits (so the ids equal those of encoding the whole text at once),
// tokenized on worker threads and written in order. Node only.
import { closeSync, fsyncSync, ftruncateSync, openSync, readdirSync, readSync, type Stats, statSync, writeSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { BpeTokenizer, CharTokenizer, type Tokenizer, trainBpe } from '@embedlab/tokenizer';
import { OutputWriter } from '../io/output-directory.js';
import { writeSynced } from '../io/owned-directory.js';
import type { TokenizerChoice } from '../training/session.js';
import { TOKEN_DIRECTORY_FORMAT, type TokenDirectoryMeta, tokenDtype } from './token-directory.js';

export interface PrepareProgress {
  /** Bytes of text read so far, of `totalBytes`. */
  bytes: number;
  totalBytes: number;
  tokens: number;
  /** 'vocabulary' while a char vocabulary is collected or a BPE trained, then 'tokens'. */
  phase: 'vocabulary' | 'tokens';
}

export interface PrepareOptions {
  /** Text files, or directories whose `.txt` files are read in name order; joined by newlines (as `readCorpus` does). */
  inputs: string[];
  /** The directory to write: train.bin, val.bin, meta.json, tokenizer.json. */
  out: string;
  /** `'char'` (default; a first pass collects the characters), `'bpe:SIZE'` (trained on the first `bpeSampleBytes`), or a tokenizer. */
  tokenizer?: TokenizerChoice;
  /** The share of the tokens, at the end, that go to val.bin. Default 0.1 (as nanoGPT and `TokenDataset`). */
  valFraction?: number;
  /** Threads that tokenize (default, and at most: the available cores); 1 tokenizes on this thread. */
  workers?: number;
  /** Replace `out` if it exists. */
  force?: boolean;
  /** Text a `bpe:SIZE` tokenizer is trained on, from the start of the inputs. Default 64 MiB. */
  bpeSampleBytes?: number;
  /** Characters per piece handed to a thread. Default 1 Mi. */
  pieceSize?: number;
  onProgress?: (progress: PrepareProgress) => void;
  /** Stops the work; the partial output is removed. */
  signal?: AbortSignal;
}

const READ_BYTES = 1 << 20;
// Text the pattern reads as one piece for this many pieces' length is refused rather than buffered.
const MAX_PENDING_PIECES = 16;

/** `stat` of an input, with a message that says what is wrong with the path. */
function statOf(input: string): Stats {
  try {
    return statSync(input);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`no such file or directory: ${input}`);
    if (code === 'ELOOP') throw new Error(`${input} is a loop of symbolic links (each leads to another, never to a file)`);
    throw new Error(`cannot read ${input}: ${(error as Error).message}`);
  }
}

/** The files an input names: itself, or a directory's `.txt` files sorted by name. */
function expandInputs(inputs: string[]): { path: string; bytes: number }[] {
  if (inputs.length === 0) throw new Error('prepare: give at least one text file or directory');
  const files: { path: string; bytes: number }[] = [];
  for (const input of inputs) {
    const stat = statOf(input);
    const paths = stat.isDirectory()
      ? readdirSync(input)
          .filter((name) => name.endsWith('.txt'))
          .sort()
          .map((name) => join(input, name))
      : [input];
    if (paths.length === 0) throw new Error(`${input} has no .txt files`);
    for (const path of paths) {
      const fileStat = statOf(path);
      // A device or pipe has no end to plan for (/dev/zero would never finish): regular files only.
      if (!fileStat.isFile()) throw new Error(`${path} is not a regular file; prepare reads text files`);
      files.push({ path: resolve(path), bytes: fileStat.size });
    }
  }
  return files;
}

/** The text of `files` joined by newlines, as strings of about `READ_BYTES`, with the bytes read so far and the file. */
async function* readText(
  files: { path: string; bytes: number }[],
  signal: AbortSignal | undefined,
): AsyncGenerator<{ text: string; bytes: number; path: string }> {
  let bytes = 0;
  const total = totalOf(files);
  const buffer = Buffer.allocUnsafe(READ_BYTES);
  for (const [index, file] of files.entries()) {
    const { path } = file;
    if (index > 0) yield { text: '\n', bytes, path };
    const decoder = new TextDecoder('utf-8');
    const handle = await open(file.path, 'r');
    try {
      for (;;) {
        signal?.throwIfAborted();
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
        if (bytesRead === 0) break;
        bytes += bytesRead;
        if (bytes > total) throw new Error(`${path} grew while it was read; prepare a file that is not being written`);
        yield { text: decoder.decode(buffer.subarray(0, bytesRead), { stream: true }), bytes, path };
      }
      const rest = decoder.decode();
      if (rest) yield { text: rest, bytes, path };
    } finally {
      await handle.close();
    }
  }
}

function totalOf(files: { bytes: number }[]): number {
  return files.reduce((sum, file) => sum + file.bytes, 0);
}

// A cut is made at a boundary between two pre-tokenizer pieces that end at least this many
// characters before the end of the text read so far: there the pieces no longer depend on what
// comes next (a piece's end is decided by the characters after it: a run of letters or spaces, a
// lookahead), so both sides tokenize as the whole text does.
const SETTLED_MARGIN = 64;

/**
 * The last place `text` (which starts at a piece boundary) may be cut: the end of the last
 * settled piece of `pattern`'s split, or -1.
 */
function lastSettledBoundary(text: string, pattern: RegExp): number {
  let boundary = -1;
  for (let at = 0; at < text.length; ) {
    pattern.lastIndex = at;
    const piece = pattern.exec(text)?.[0];
    // A gap or an empty match is the tokenizer's to report, with the text it belongs to.
    if (!piece) break;
    at += piece.length;
    if (at > text.length - SETTLED_MARGIN) break;
    boundary = at;
  }
  return boundary;
}

/**
 * Cuts a text stream into pieces of about `pieceSize` characters where the tokenizer's own
 * pre-tokenization splits (a BPE's pattern), or anywhere but inside a surrogate pair (char).
 */
class PieceCutter {
  private pending = '';

  constructor(
    private readonly pieceSize: number,
    private readonly pattern: RegExp | undefined,
    private readonly describe: () => string,
  ) {}

  push(text: string): string[] {
    this.pending += text;
    const pieces: string[] = [];
    while (this.pending.length >= this.pieceSize) {
      let cut: number;
      if (!this.pattern) cut = this.pending.length - (/[\uD800-\uDBFF]$/.test(this.pending) ? 1 : 0);
      else {
        try {
          cut = lastSettledBoundary(this.pending, this.pattern);
        } catch (error) {
          // The regex engine's stack gives out on a very long piece (it backtracks recursively).
          if (!(error instanceof RangeError)) throw error;
          throw this.oneLongPiece();
        }
        if (cut <= 0) {
          if (this.pending.length <= this.pieceSize * MAX_PENDING_PIECES) break;
          throw this.oneLongPiece();
        }
      }
      pieces.push(this.pending.slice(0, cut));
      this.pending = this.pending.slice(cut);
    }
    return pieces;
  }

  private oneLongPiece(): Error {
    return new Error(
      `${this.describe()}: ${this.pending.length} characters that the tokenizer's pattern reads as one piece; prepare tokenizes text in pieces and will not buffer more`,
    );
  }

  flush(): string {
    const rest = this.pending;
    this.pending = '';
    return rest;
  }
}

/** The tokenizer a choice names, reading the inputs once for a char vocabulary or a BPE sample. */
async function resolveTokenizer(options: PrepareOptions, files: { path: string; bytes: number }[], report: (bytes: number) => void): Promise<Tokenizer> {
  const choice = options.tokenizer ?? 'char';
  if (typeof choice !== 'string') return choice;
  if (choice === 'char') {
    const chars = new Set<string>();
    for await (const { text, bytes } of readText(files, options.signal)) {
      for (const char of text) chars.add(char);
      report(bytes);
    }
    return CharTokenizer.fromCorpus([...chars].join(''));
  }
  const match = /^bpe:(\d+)$/.exec(choice);
  if (!match) throw new Error(`tokenizer must be 'char' or 'bpe:SIZE', got ${JSON.stringify(choice)}`);
  const limit = options.bpeSampleBytes ?? 64 << 20;
  let sample = '';
  for await (const { text, bytes } of readText(files, options.signal)) {
    sample += text;
    report(bytes);
    if (bytes >= limit) break;
  }
  return trainBpe(sample, { vocabSize: Number(match[1]) });
}

type Encode = (text: string) => Promise<Uint16Array | Uint32Array>;

/** Tokenizing threads (or this thread) answering in the order asked. */
function startEncoders(tokenizer: Tokenizer, count: number): { encode: Encode; close: () => void } {
  const Ids = tokenDtype(tokenizer.vocabSize) === 'uint16' ? Uint16Array : Uint32Array;
  if (count <= 1) return { encode: async (text) => Ids.from(tokenizer.encode(text, { disallowedSpecial: [] })), close: () => {} };
  const json = JSON.stringify(tokenizer.toJSON());
  // Started as pieces arrive: a small text starts no more threads than it has pieces.
  const workers: Worker[] = [];
  const workerFor = (id: number): Worker => {
    const index = id % count;
    if (!workers[index]) {
      const worker = new Worker(new URL('./tokenize-thread.js', import.meta.url), { workerData: { tokenizer: json } });
      worker.on('message', answer);
      worker.on('error', failAll);
      workers[index] = worker;
    }
    return workers[index];
  };
  const pending = new Map<number, { resolve: (ids: Uint16Array | Uint32Array) => void; reject: (error: Error) => void }>();
  // A thread that died answers nothing more: what is pending, and all that follows, fails.
  let failed: Error | undefined;
  const failAll = (error: Error) => {
    failed = new Error(`a tokenizing thread failed: ${error.message}`);
    for (const waiter of pending.values()) waiter.reject(failed);
    pending.clear();
  };
  function answer(message: { id: number; ids?: Uint16Array | Uint32Array; error?: string }): void {
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error !== undefined) waiter?.reject(new Error(message.error));
    else waiter?.resolve(message.ids!);
  }
  let next = 0;
  return {
    encode: (text) =>
      new Promise((resolve, reject) => {
        if (failed) return reject(failed);
        const id = next++;
        pending.set(id, { resolve, reject });
        workerFor(id).postMessage({ id, text });
      }),
    close: () => {
      for (const worker of workers) void worker.terminate();
    },
  };
}

/** Writes typed arrays in the order their promises were queued, keeping at most `depth` in flight. */
class OrderedWriter {
  private queue: Promise<Uint16Array | Uint32Array>[] = [];
  tokens = 0;

  constructor(
    private readonly handle: FileHandle,
    private readonly depth: number,
  ) {}

  async add(ids: Promise<Uint16Array | Uint32Array>): Promise<void> {
    this.queue.push(ids);
    // Rejections are awaited in order below; this keeps an early one from being unhandled meanwhile.
    ids.catch(() => {});
    while (this.queue.length > this.depth) await this.writeNext();
  }

  async drain(): Promise<void> {
    while (this.queue.length > 0) await this.writeNext();
  }

  private async writeNext(): Promise<void> {
    const ids = await this.queue.shift()!;
    await this.handle.write(new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength));
    this.tokens += ids.length;
  }
}

/** Copies tokens [cut, total) of `allPath` into `validationPath`, then truncates `allPath` to the first `cut`. */
function splitTail(allPath: string, validationPath: string, cut: number, total: number, bytesPerToken: number): void {
  const source = openSync(allPath, 'r+');
  const target = openSync(validationPath, 'w');
  try {
    const buffer = Buffer.allocUnsafe(READ_BYTES);
    const end = total * bytesPerToken;
    for (let position = cut * bytesPerToken; position < end; ) {
      const read = readSync(source, buffer, 0, Math.min(buffer.length, end - position), position);
      writeSync(target, buffer, 0, read);
      position += read;
    }
    fsyncSync(target);
    ftruncateSync(source, cut * bytesPerToken);
    fsyncSync(source);
  } finally {
    closeSync(target);
    closeSync(source);
  }
}

/**
 * Tokenizes `inputs` into a token directory at `out` (nanoGPT's train.bin / val.bin, uint16 or
 * uint32, with meta.json and tokenizer.json), reading the text as a stream: memory stays the same
 * whatever the size. The ids equal `tokenizer.encode` of the whole text, and the split is
 * `TokenDataset`'s (the last `valFraction` of the tokens). Nothing appears at `out` until all is
 * written; on error or abort the partial output is removed.
 */
export async function prepareTokenDirectory(options: PrepareOptions): Promise<TokenDirectoryMeta> {
  const { out, valFraction = 0.1, force = false, signal } = options;
  if (!(valFraction > 0 && valFraction < 1)) throw new RangeError(`valFraction must be in (0, 1), got ${valFraction}`);
  const pieceSize = options.pieceSize ?? 1 << 20;
  if (!(Number.isInteger(pieceSize) && pieceSize > 0)) throw new RangeError(`pieceSize must be a positive integer, got ${pieceSize}`);
  const asked = options.workers ?? availableParallelism();
  if (!(Number.isInteger(asked) && asked >= 1)) throw new RangeError(`workers must be a positive integer, got ${asked}`);
  // More threads than cores only cost memory (each holds the tokenizer).
  const workers = Math.min(asked, availableParallelism());
  const files = expandInputs(options.inputs);
  // Claimed now, so that nothing else can appear there while the text is tokenized.
  const writer = OutputWriter.start(out, { kind: 'token directory', force, sources: files.map((file) => file.path).concat(options.inputs) });
  const totalBytes = totalOf(files) + files.length - 1;
  let tokens = 0;
  const report = (phase: PrepareProgress['phase']) => (bytes: number) => options.onProgress?.({ bytes, totalBytes, tokens, phase });
  let encoders: ReturnType<typeof startEncoders> | undefined;
  try {
    const tokenizer = await resolveTokenizer(options, files, report('vocabulary'));
    const dtype = tokenDtype(tokenizer.vocabSize);
    const bytesPerToken = dtype === 'uint16' ? 2 : 4;
    encoders = startEncoders(tokenizer, workers);
    const trainPath = writer.path('train.bin');
    const handle = await open(trainPath, 'w');
    try {
      const ordered = new OrderedWriter(handle, 2 * workers);
      let current = files[0]!.path;
      const pattern = tokenizer instanceof BpeTokenizer ? new RegExp(tokenizer.pattern, 'uy') : undefined;
      const cutter = new PieceCutter(pieceSize, pattern, () => current);
      const progress = report('tokens');
      for await (const { text, bytes, path } of readText(files, signal)) {
        current = path;
        for (const piece of cutter.push(text)) await ordered.add(encoders.encode(piece));
        tokens = ordered.tokens;
        progress(bytes);
      }
      const rest = cutter.flush();
      if (rest) await ordered.add(encoders.encode(rest));
      await ordered.drain();
      tokens = ordered.tokens;
      progress(totalBytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    const cut = Math.floor(tokens * (1 - valFraction));
    if (cut === 0 || cut === tokens) throw new Error(`the text gives ${tokens} tokens, too few to split into train.bin and val.bin`);
    splitTail(trainPath, writer.path('val.bin'), cut, tokens, bytesPerToken);
    const meta: TokenDirectoryMeta = {
      format: TOKEN_DIRECTORY_FORMAT,
      vocab_size: tokenizer.vocabSize,
      dtype,
      tokenizer: 'tokenizer.json',
      train: { file: 'train.bin', tokens: cut },
      val: { file: 'val.bin', tokens: tokens - cut },
      val_fraction: valFraction,
      sources: files,
    };
    writeSynced(writer.path('tokenizer.json'), JSON.stringify(tokenizer.toJSON()));
    writeSynced(writer.path('meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
    // meta.json last: a directory without it is not a token directory to any reader.
    writer.finish(['train.bin', 'val.bin', 'tokenizer.json'], 'meta.json');
    return meta;
  } catch (error) {
    writer.abort();
    // A failed write (a full disk) names no file: say where, and that nothing was left.
    if ((error as NodeJS.ErrnoException).syscall === 'write')
      throw new Error(`cannot write ${out}: ${(error as Error).message}; nothing was written`, { cause: error });
    throw error;
  } finally {
    encoders?.close();
  }
}
