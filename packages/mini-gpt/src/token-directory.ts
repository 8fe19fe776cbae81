// Token directories in nanoGPT's format: train.bin and val.bin (little-endian uint16, or uint32
// past 65,536 ids), read by offsets so that a corpus larger than memory trains; meta.json and
// tokenizer.json say what the ids mean. Node only.
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Tokenizer, tokenizerFromJSON } from '@embedlab/tokenizer';
import { TokenDataset, type TokenReader } from './data.js';

/** The `format` of the meta.json `minigpt prepare` writes. */
export const TOKEN_DIRECTORY_FORMAT = 'embedlab-tokens/1';

export type TokenDtype = 'uint16' | 'uint32';

export interface TokenSplitMeta {
  file: string;
  tokens: number;
}

/** meta.json of a token directory (snake_case, like nanoGPT's meta.pkl). */
export interface TokenDirectoryMeta {
  format: typeof TOKEN_DIRECTORY_FORMAT;
  vocab_size: number;
  dtype: TokenDtype;
  /** The tokenizer file beside it, in `@embedlab/tokenizer`'s JSON. */
  tokenizer: string;
  train: TokenSplitMeta;
  val: TokenSplitMeta;
  /** The share of the text (by bytes, cut at a line break) that went to val.bin. */
  val_fraction: number;
  /** The files read, in order, with their sizes in bytes. */
  sources: { path: string; bytes: number }[];
}

const BYTES: Record<TokenDtype, number> = { uint16: 2, uint32: 4 };
const MAX_META_BYTES = 1 << 20;
const MAX_TOKENIZER_BYTES = 64 << 20;

/** The narrowest dtype that holds every id of a vocabulary. */
export function tokenDtype(vocabSize: number): TokenDtype {
  return vocabSize <= 65_536 ? 'uint16' : 'uint32';
}

/** A token file read by offsets; every id read is checked against the vocabulary. */
export class TokenFile implements TokenReader {
  readonly length: number;
  private fd: number | undefined;
  private readonly bytesPerToken: number;

  constructor(
    readonly path: string,
    readonly dtype: TokenDtype,
    readonly vocabSize: number,
  ) {
    this.bytesPerToken = BYTES[dtype];
    // Checked before opening: opening a FIFO for reading would wait for a writer forever.
    if (!statSync(path).isFile()) throw new Error(`${path} is not a regular file`);
    const fd = openSync(path, 'r');
    const stat = fstatSync(fd);
    if (stat.size % this.bytesPerToken !== 0) {
      closeSync(fd);
      throw new Error(
        `${path}: ${stat.size} bytes is not a whole number of ${dtype} tokens (${this.bytesPerToken} bytes each); the file is cut short or not ${dtype}`,
      );
    }
    this.fd = fd;
    this.length = stat.size / this.bytesPerToken;
  }

  read(start: number, count: number): Int32Array {
    if (this.fd === undefined) throw new Error(`${this.path} is closed`);
    if (!(Number.isSafeInteger(start) && Number.isSafeInteger(count) && start >= 0 && count >= 0 && start + count <= this.length))
      throw new RangeError(`${this.path}: tokens ${start}..${start + count} are outside its ${this.length} tokens`);
    const bytes = Buffer.allocUnsafe(count * this.bytesPerToken);
    let filled = 0;
    while (filled < bytes.length) {
      const read = readSync(this.fd, bytes, filled, bytes.length - filled, start * this.bytesPerToken + filled);
      if (read === 0) throw new Error(`${this.path} became shorter while training (token ${start + filled / this.bytesPerToken} is gone)`);
      filled += read;
    }
    const ids = Int32Array.from(
      this.dtype === 'uint16' ? new Uint16Array(bytes.buffer, bytes.byteOffset, count) : new Uint32Array(bytes.buffer, bytes.byteOffset, count),
    );
    for (let i = 0; i < count; i++) {
      // uint32 ids past 2^31 become negative in an Int32Array: both ends are checked.
      if (ids[i]! < 0 || ids[i]! >= this.vocabSize)
        throw new Error(`${this.path}: token ${start + i} is id ${ids[i]! >>> 0}, outside the tokenizer's ${this.vocabSize} ids`);
    }
    return ids;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

export interface TokenDirectory {
  dataset: TokenDataset;
  tokenizer: Tokenizer;
  /** meta.json, or what was assumed for a nanoGPT directory without one. */
  meta: Pick<TokenDirectoryMeta, 'vocab_size' | 'dtype'> & Partial<TokenDirectoryMeta>;
  /** Closes the token files. */
  close(): void;
}

/** Whether `path` is a directory of token files (it holds train.bin). */
export function isTokenDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory() && existsSync(join(path, 'train.bin'));
}

function readCapped(path: string, limit: number): string {
  const stat = statSync(path);
  if (!stat.isFile()) throw new Error(`${path} is not a regular file`);
  const size = stat.size;
  if (size > limit)
    throw new Error(`${path} is ${size} bytes, more than the ${limit} a ${path.endsWith('meta.json') ? 'meta.json' : 'tokenizer file'} may have`);
  return readFileSync(path, 'utf8');
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
// Split files are named, not given as paths: a meta.json cannot point outside its directory.
const isPlainName = (value: unknown): value is string => typeof value === 'string' && /^[\w.-]+$/.test(value) && value !== '.' && value !== '..';

/** Checks a parsed meta.json field by field, naming the first that is wrong. */
function checkMeta(meta: unknown, source: string): TokenDirectoryMeta {
  const fail = (field: string, expected: string, value: unknown): never => {
    throw new Error(`${source}: ${field} must be ${expected}, got ${JSON.stringify(value)?.slice(0, 80)}`);
  };
  if (!isRecord(meta)) return fail('the file', 'a JSON object', meta);
  if (meta.format !== TOKEN_DIRECTORY_FORMAT) fail('format', JSON.stringify(TOKEN_DIRECTORY_FORMAT), meta.format);
  if (!(Number.isSafeInteger(meta.vocab_size) && (meta.vocab_size as number) > 0 && (meta.vocab_size as number) <= 2 ** 32))
    fail('vocab_size', 'a positive integer up to 2^32', meta.vocab_size);
  if (meta.dtype !== 'uint16' && meta.dtype !== 'uint32') fail('dtype', '"uint16" or "uint32"', meta.dtype);
  if (meta.dtype === 'uint16' && (meta.vocab_size as number) > 65_536) fail('dtype', 'uint32 for more than 65,536 ids', meta.dtype);
  if (!isPlainName(meta.tokenizer)) fail('tokenizer', 'a file name in the same directory', meta.tokenizer);
  for (const split of ['train', 'val'] as const) {
    const entry = meta[split];
    if (!isRecord(entry) || !isPlainName(entry.file) || !isCount(entry.tokens))
      fail(split, '{ file: a file name in the same directory, tokens: a count }', entry);
  }
  if ((meta.val as TokenSplitMeta).file === (meta.train as TokenSplitMeta).file)
    fail('val.file', 'another file than train.file', (meta.val as TokenSplitMeta).file);
  return meta as unknown as TokenDirectoryMeta;
}

/**
 * A token directory: `minigpt prepare`'s (meta.json + tokenizer.json), or nanoGPT's own
 * `prepare.py` output (train.bin and val.bin as uint16, no meta.json: the GPT-2 case), for which
 * `tokenizer` must be given. The splits are read by offsets, never whole. Close it when done.
 */
export function openTokenDirectory(dir: string, { tokenizer: given }: { tokenizer?: Tokenizer } = {}): TokenDirectory {
  const metaPath = join(dir, 'meta.json');
  let meta: TokenDirectory['meta'];
  let tokenizer: Tokenizer;
  if (existsSync(metaPath)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readCapped(metaPath, MAX_META_BYTES));
    } catch (error) {
      throw new Error(`${metaPath}: ${(error as Error).message}`);
    }
    const checked = checkMeta(parsed, metaPath);
    meta = checked;
    const tokenizerPath = join(dir, checked.tokenizer);
    if (given) tokenizer = given;
    else {
      try {
        tokenizer = tokenizerFromJSON(readCapped(tokenizerPath, MAX_TOKENIZER_BYTES));
      } catch (error) {
        throw new Error(`${tokenizerPath}: ${(error as Error).message}`);
      }
    }
    if (tokenizer.vocabSize !== checked.vocab_size)
      throw new Error(
        `${metaPath}: vocab_size is ${checked.vocab_size} but the tokenizer has ${tokenizer.vocabSize} ids; the tokens were made by another tokenizer`,
      );
  } else {
    if (!given) {
      const pickle = existsSync(join(dir, 'meta.pkl'))
        ? " (its meta.pkl is a Python pickle, which is not read: unpickling an untrusted file can run code; rebuild it with 'minigpt prepare')"
        : " (nanoGPT's GPT-2 directories have none: give the GPT-2 tokenizer, e.g. --tokenizer gpt2:FILE)";
      throw new Error(`${dir} has train.bin but no meta.json to say which tokenizer made it${pickle}`);
    }
    tokenizer = given;
    meta = { vocab_size: given.vocabSize, dtype: 'uint16' };
    if (given.vocabSize > 65_536)
      throw new Error(`${dir}: without a meta.json the ids are read as uint16, which cannot hold the tokenizer's ${given.vocabSize} ids`);
  }
  const files: TokenFile[] = [];
  const open = (name: string, expected: number | undefined) => {
    const file = new TokenFile(join(dir, name), meta.dtype, tokenizer.vocabSize);
    files.push(file);
    if (expected !== undefined && file.length !== expected)
      throw new Error(`${file.path} holds ${file.length} tokens but meta.json says ${expected}; the directory is incomplete or was changed`);
    return file;
  };
  try {
    const train = open(meta.train?.file ?? 'train.bin', meta.train?.tokens);
    const validation = open(meta.val?.file ?? 'val.bin', meta.val?.tokens);
    return {
      dataset: new TokenDataset({ train, validation }),
      tokenizer,
      meta,
      close: () => {
        for (const file of files) file.close();
      },
    };
  } catch (error) {
    for (const file of files) file.close();
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${dir}: ${(error as NodeJS.ErrnoException).path} is missing`);
    throw error;
  }
}
