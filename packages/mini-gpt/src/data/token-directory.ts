// Token directories in nanoGPT's format: train.bin and val.bin (little-endian uint16, or uint32
// past 65,536 ids), read by offsets so that a corpus larger than memory trains; meta.json and
// tokenizer.json say what the ids mean. Node only.
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Tokenizer, tokenizerFromJSON } from '@embedlab/tokenizer';
import * as v from 'valibot';
import { MAX_TOKENIZER_BYTES } from '../io/checkpoint.js';
import { TokenDataset, type TokenReader } from './data.js';
import { field, fieldIssue, nonNegativeInteger, oneOf, parseWith, text } from '../schema.js';
import { readTextCapped } from './read-capped.js';

/** The `format` of the meta.json `minigpt prepare` writes. */
export const TOKEN_DIRECTORY_FORMAT = 'embedlab-tokens/1';

export type TokenDtype = 'uint16' | 'uint32';

// Split files are named, not given as paths: a meta.json cannot point outside its directory.
const fileName = field<string>((x) => typeof x === 'string' && /^[\w.-]+$/.test(x) && x !== '.' && x !== '..', 'a file name in the same directory');

const TokenSplitSchema = v.object({ file: fileName, tokens: nonNegativeInteger });
export type TokenSplitMeta = v.InferOutput<typeof TokenSplitSchema>;

/**
 * meta.json of a token directory (snake_case, like nanoGPT's meta.pkl). Unknown keys are kept
 * (a later version may add some); the known ones are checked before anything else is read.
 */
export const TokenDirectoryMetaSchema = v.pipe(
  v.object({
    format: oneOf([TOKEN_DIRECTORY_FORMAT]),
    vocab_size: field<number>((x) => Number.isSafeInteger(x) && (x as number) > 0 && (x as number) <= 2 ** 32, 'a positive integer up to 2^32'),
    dtype: oneOf<TokenDtype>(['uint16', 'uint32']),
    // The tokenizer file beside it, in `@embedlab/tokenizer`'s JSON.
    tokenizer: fileName,
    train: TokenSplitSchema,
    val: TokenSplitSchema,
    // The share of the tokens, at the end, that went to val.bin.
    val_fraction: field<number>((x) => typeof x === 'number' && x > 0 && x < 1, 'a number in (0, 1)'),
    // The files read, in order, with their sizes in bytes.
    sources: v.array(v.object({ path: text, bytes: nonNegativeInteger })),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const meta = dataset.value as unknown as Record<string, unknown>;
    if (dataset.value.dtype === 'uint16' && dataset.value.vocab_size > 65_536) fieldIssue(addIssue, meta, 'dtype', 'uint32 for more than 65,536 ids');
    if (dataset.value.val.file === dataset.value.train.file) fieldIssue(addIssue, meta, ['val', 'file'], 'another file than train.file');
  }),
);
export type TokenDirectoryMeta = v.InferOutput<typeof TokenDirectoryMetaSchema>;

const BYTES: Record<TokenDtype, number> = { uint16: 2, uint32: 4 };
const MAX_META_BYTES = 1 << 20;
/** Bytes read at a time when a file's ids are checked: the check's memory, whatever the file's size. */
const SCAN_BYTES = 4 << 20;

/** The narrowest dtype that holds every id of a vocabulary. */
export function tokenDtype(vocabSize: number): TokenDtype {
  return vocabSize <= 65_536 ? 'uint16' : 'uint32';
}

/** The largest id of `ids` (a loop: `Math.max(...ids)` would overflow the stack on a chunk). */
function largest(ids: Uint16Array | Uint32Array): number {
  let max = 0;
  for (let i = 0; i < ids.length; i++) if (ids[i]! > max) max = ids[i]!;
  return max;
}

/**
 * A token file read by offsets. Every id is checked against the vocabulary when the file is
 * opened (streamed in fixed-size chunks; unless `checkIds` is false), so that a bad id stops a run
 * before its first step rather than at the batch that draws it; reads check again, in case the
 * file changes.
 */
export class TokenFile implements TokenReader {
  readonly length: number;
  /** The file's device and inode: two names of one file (a link) have the same. */
  readonly identity: string;
  private fd: number | undefined;
  private readonly bytesPerToken: number;

  constructor(
    readonly path: string,
    readonly dtype: TokenDtype,
    readonly vocabSize: number,
    { checkIds = true }: { checkIds?: boolean } = {},
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
    this.identity = `${stat.dev}:${stat.ino}`;
    try {
      if (checkIds) this.scanIds();
    } catch (error) {
      this.close();
      throw error;
    }
  }

  private outside(index: number, id: number): Error {
    return new Error(`${this.path}: token ${index} is id ${id}, outside the tokenizer's ${this.vocabSize} ids`);
  }

  /** Reads the whole file once, a chunk at a time, and throws at the first id outside the vocabulary. */
  private scanIds(): void {
    // uint16 cannot hold an id past a vocabulary of 65,536 or more.
    if (this.dtype === 'uint16' && this.vocabSize >= 65_536) return;
    const chunk = new Uint8Array(SCAN_BYTES);
    for (let start = 0; start < this.length; start += SCAN_BYTES / this.bytesPerToken) {
      const count = Math.min(SCAN_BYTES / this.bytesPerToken, this.length - start);
      const ids = this.readIds(chunk, start, count);
      if (largest(ids) < this.vocabSize) continue;
      const at = ids.findIndex((id) => id >= this.vocabSize);
      throw this.outside(start + at, ids[at]!);
    }
  }

  /** Tokens `start .. start + count` into `bytes`, as the file's dtype. */
  private readIds(bytes: Uint8Array, start: number, count: number): Uint16Array | Uint32Array {
    const length = count * this.bytesPerToken;
    let filled = 0;
    while (filled < length) {
      const read = readSync(this.fd!, bytes, filled, length - filled, start * this.bytesPerToken + filled);
      if (read === 0) throw new Error(`${this.path} became shorter while training (token ${start + filled / this.bytesPerToken} is gone)`);
      filled += read;
    }
    return this.dtype === 'uint16' ? new Uint16Array(bytes.buffer, bytes.byteOffset, count) : new Uint32Array(bytes.buffer, bytes.byteOffset, count);
  }

  read(start: number, count: number): Int32Array {
    if (this.fd === undefined) throw new Error(`${this.path} is closed`);
    if (!(Number.isSafeInteger(start) && Number.isSafeInteger(count) && start >= 0 && count >= 0 && start + count <= this.length))
      throw new RangeError(`${this.path}: tokens ${start}..${start + count} are outside its ${this.length} tokens`);
    const ids = Int32Array.from(this.readIds(new Uint8Array(count * this.bytesPerToken), start, count));
    for (let i = 0; i < count; i++) {
      // uint32 ids past 2^31 become negative in an Int32Array: both ends are checked.
      if (ids[i]! < 0 || ids[i]! >= this.vocabSize) throw this.outside(start + i, ids[i]! >>> 0);
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

/**
 * A token directory: `minigpt prepare`'s (meta.json + tokenizer.json), or nanoGPT's own
 * `prepare.py` output (train.bin and val.bin as uint16, no meta.json: the GPT-2 case), for which
 * `tokenizer` must be given. The splits are read by offsets, never whole; every id is checked
 * against the vocabulary first (a pass over both files), unless `checkIds` is false (a caller that
 * reads one split, or little of it: the ids read are still checked). Close it when done.
 */
export function openTokenDirectory(dir: string, { tokenizer: given, checkIds = true }: { tokenizer?: Tokenizer; checkIds?: boolean } = {}): TokenDirectory {
  const metaPath = join(dir, 'meta.json');
  let meta: TokenDirectory['meta'];
  let tokenizer: Tokenizer;
  if (existsSync(metaPath)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readTextCapped(metaPath, MAX_META_BYTES, 'a meta.json'));
    } catch (error) {
      throw new Error(`${metaPath}: ${(error as Error).message}`);
    }
    const checked = parseWith(TokenDirectoryMetaSchema, parsed, metaPath);
    meta = checked;
    const tokenizerPath = join(dir, checked.tokenizer);
    if (given) tokenizer = given;
    else {
      try {
        tokenizer = tokenizerFromJSON(readTextCapped(tokenizerPath, MAX_TOKENIZER_BYTES, 'a tokenizer file'));
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
        : " (nanoGPT's GPT-2 directories have none: give the GPT-2 tokenizer, e.g. `tokenizer: gpt2:FILE`)";
      throw new Error(`${dir} has train.bin but no meta.json to say which tokenizer made it${pickle}`);
    }
    tokenizer = given;
    meta = { vocab_size: given.vocabSize, dtype: 'uint16' };
    if (given.vocabSize > 65_536)
      throw new Error(`${dir}: without a meta.json the ids are read as uint16, which cannot hold the tokenizer's ${given.vocabSize} ids`);
  }
  const files: TokenFile[] = [];
  const open = (name: string, expected: number | undefined) => {
    const file = new TokenFile(join(dir, name), meta.dtype, tokenizer.vocabSize, { checkIds });
    files.push(file);
    if (expected !== undefined && file.length !== expected)
      throw new Error(`${file.path} holds ${file.length} tokens but meta.json says ${expected}; the directory is incomplete or was changed`);
    return file;
  };
  try {
    const train = open(meta.train?.file ?? 'train.bin', meta.train?.tokens);
    const validation = open(meta.val?.file ?? 'val.bin', meta.val?.tokens);
    // Names can differ and still be one file (a link): validating on the training tokens would flatter the model.
    if (validation.identity === train.identity)
      throw new Error(`${dir}: ${validation.path} is the same file as ${train.path} (a link); the validation split must be other tokens`);
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
