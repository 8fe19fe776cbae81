import { type MergeRanks, mergeByScanning, mergeLinked } from './bpe-merge.js';
import { bytesToPrintable, printableToBytes } from './byte-unicode.js';
import { compilePattern, nextPiece } from './pattern.js';
import { SpecialTokenSplitter } from './special-tokens.js';
import type { EncodeOptions, SerializedBpeTokenizer, Tokenizer } from './types.js';

/** GPT-2's pre-tokenisation pattern (also tiktoken's `r50k_base`, `p50k_base`). */
export const GPT2_PATTERN = String.raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`;

/** GPT-2's only special token. */
export const GPT2_SPECIAL_TOKENS: Readonly<Record<string, number>> = Object.freeze({ '<|endoftext|>': 50256 });

export interface BpeTokenizerInit {
  /** Each token's bytes, indexed by id. Holes are allowed (ids with no token). */
  tokens: ReadonlyArray<Uint8Array | undefined>;
  /**
   * Special token strings (non-empty) and their ids, outside the ids of `tokens` and below
   * `tokens.length + (number of special tokens) + MAX_UNUSED_IDS`.
   */
  specialTokens?: Readonly<Record<string, number>>;
  /**
   * Pre-tokenisation regular expression source (Unicode mode). Default GPT-2's. Its matches must
   * cover every character, one after another, and never be empty; it is vetted when the
   * tokenizer is built (see `pattern.ts`), and encoding throws, naming the index, if a text has a
   * character it does not match, rather than dropping it.
   */
  pattern?: string;
  /**
   * Multi-byte token ids in merge priority order, for vocabularies whose ids are not in merge
   * order (Hugging Face vocabularies such as RoBERTa's). Default: lower id merges first.
   */
  mergePriority?: readonly number[];
}

/**
 * How many ids above the ordinary tokens may be left unused before the special tokens: real
 * encodings reserve a few (cl100k_base's `<|endofprompt|>` is 100276, 20 above its last token),
 * and the bound keeps `vocabSize`, which models allocate rows for, proportional to the file.
 */
export const MAX_UNUSED_IDS = 1024;

const CACHE_LIMIT = 65_536;
/** Longer pieces are not cached (they rarely repeat, and would hold memory). */
const CACHE_PIECE_LIMIT = 256;
/** Pieces of at least this many bytes are merged as a linked list (O(n log n)), shorter ones by scanning. */
const LINKED_THRESHOLD = 32;
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** A JS string whose char codes are the UTF-8 bytes of `text`: the map key for a byte sequence. */
function toByteString(text: string): string {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) >= 0x80) return bytesToByteString(utf8Encoder.encode(text));
  }
  return text;
}

/** One char code per byte: the map key for a byte sequence. */
export function bytesToByteString(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += String.fromCharCode(bytes[i]!);
  return out;
}

export function byteStringToBytes(key: string): Uint8Array {
  const bytes = new Uint8Array(key.length);
  for (let i = 0; i < key.length; i++) bytes[i] = key.charCodeAt(i);
  return bytes;
}

/**
 * Byte-level byte-pair encoding, compatible with OpenAI's GPT-2 encoding (`r50k_base`) and
 * tiktoken's algorithm: text is split by the pre-tokenisation pattern, each piece is UTF-8
 * encoded, and adjacent parts are merged, lowest rank first, while their concatenation is a
 * token. A piece that is itself a token is emitted directly.
 */
export class BpeTokenizer implements Tokenizer {
  readonly kind = 'byte-bpe';
  readonly vocabSize: number;
  readonly specialTokens: ReadonlyMap<string, number>;
  readonly pattern: string;
  private readonly regex: RegExp;
  private readonly bytesById: (Uint8Array | undefined)[];
  private readonly idByKey = new Map<string, number>();
  /** Merge rank of each multi-byte token (its id unless a merge priority was given). */
  private readonly rankByKey: Map<string, number>;
  private readonly mergeRanks: MergeRanks;
  private readonly mergePriority: readonly number[] | undefined;
  private readonly specialById = new Map<number, string>();
  private readonly splitter: SpecialTokenSplitter;
  private cache = new Map<string, number | number[]>();

  constructor(init: BpeTokenizerInit) {
    const { tokens, specialTokens = {}, pattern = GPT2_PATTERN, mergePriority } = init;
    this.regex = compilePattern(pattern, 'BPE tokenizer');
    this.pattern = pattern;
    this.bytesById = [...tokens];
    tokens.forEach((bytes, id) => {
      if (bytes === undefined) return;
      if (bytes.length === 0) throw new Error(`BPE tokenizer: token ${id} is empty`);
      const key = bytesToByteString(bytes);
      const previous = this.idByKey.get(key);
      if (previous !== undefined) throw new Error(`BPE tokenizer: tokens ${previous} and ${id} have the same bytes`);
      this.idByKey.set(key, id);
    });
    for (let b = 0; b < 256; b++) {
      if (!this.idByKey.has(String.fromCharCode(b)))
        throw new Error(`BPE tokenizer: byte 0x${b.toString(16).padStart(2, '0')} has no token, so some text could not be encoded`);
    }
    if (mergePriority === undefined) {
      this.rankByKey = this.idByKey;
    } else {
      this.rankByKey = new Map();
      mergePriority.forEach((id, rank) => {
        const bytes = Number.isInteger(id) ? tokens[id] : undefined;
        if (bytes === undefined) throw new Error(`BPE tokenizer: merge priority ${rank} names id ${JSON.stringify(id)}, which has no token`);
        this.rankByKey.set(bytesToByteString(bytes), rank);
      });
    }
    this.mergePriority = mergePriority;
    let maxTokenLength = 0;
    let rankLimit = 0;
    for (const [key, rank] of this.rankByKey) {
      maxTokenLength = Math.max(maxTokenLength, key.length);
      rankLimit = Math.max(rankLimit, rank + 1);
    }
    this.mergeRanks = { ranks: this.rankByKey, maxTokenLength, rankLimit };
    let vocabSize = tokens.length;
    const specialEntries = Object.entries(specialTokens);
    const idLimit = tokens.length + specialEntries.length + MAX_UNUSED_IDS;
    for (const [name, id] of specialEntries) {
      if (name === '') throw new Error(`BPE tokenizer: a special token is the empty string (id ${JSON.stringify(id)}); it would match everywhere`);
      if (!Number.isInteger(id) || id < 0)
        throw new Error(`BPE tokenizer: special token ${JSON.stringify(name)} has id ${JSON.stringify(id)}, not a non-negative integer`);
      if (id >= idLimit) {
        throw new RangeError(
          `BPE tokenizer: special token ${JSON.stringify(name)} has id ${id}; with ${tokens.length} token ids and ${specialEntries.length} special tokens, ids must be below ${idLimit} (at most ${MAX_UNUSED_IDS} unused ids)`,
        );
      }
      if (tokens[id] !== undefined || this.specialById.has(id))
        throw new Error(`BPE tokenizer: special token ${JSON.stringify(name)} has id ${id}, which is already taken`);
      this.specialById.set(id, name);
      vocabSize = Math.max(vocabSize, id + 1);
    }
    this.specialTokens = new Map(Object.entries(specialTokens));
    this.vocabSize = vocabSize;
    this.splitter = new SpecialTokenSplitter(this.specialTokens);
  }

  /** Restores a tokenizer saved with `toJSON()`, checking every field (it may come from an untrusted file). */
  static fromJSON(json: SerializedBpeTokenizer): BpeTokenizer {
    const where = 'BPE tokenizer JSON';
    if (typeof json !== 'object' || json === null || json.type !== 'byte-bpe')
      throw new Error(`${where}: not a serialized byte-level BPE tokenizer (type must be "byte-bpe")`);
    if (!Array.isArray(json.tokens))
      throw new Error(`${where}: field "tokens" must be an array of base64 strings or null, got ${JSON.stringify(json.tokens)?.slice(0, 60)}`);
    compilePattern(json.pattern, `${where}: field "pattern"`);
    const tokens = json.tokens.map((b64, id) => {
      if (b64 === null) return undefined;
      try {
        if (typeof b64 !== 'string') throw new Error();
        return byteStringToBytes(atob(b64));
      } catch {
        throw new Error(`${where}: field "tokens", entry ${id} is not a base64 string or null: ${JSON.stringify(b64)?.slice(0, 60)}`);
      }
    });
    const specialTokens = json.specialTokens ?? {};
    if (typeof specialTokens !== 'object' || specialTokens === null || Array.isArray(specialTokens))
      throw new Error(`${where}: field "specialTokens" must be an object of name -> id, got ${JSON.stringify(specialTokens)?.slice(0, 60)}`);
    const mergePriority = json.mergePriority;
    if (mergePriority !== undefined && !Array.isArray(mergePriority))
      throw new Error(`${where}: field "mergePriority" must be an array of ids, got ${JSON.stringify(mergePriority)?.slice(0, 60)}`);
    try {
      return new BpeTokenizer({ tokens, specialTokens, pattern: json.pattern, ...(mergePriority ? { mergePriority } : {}) });
    } catch (error) {
      throw new Error(`${where}: ${(error as Error).message.replace(/^BPE tokenizer: /, '')}`);
    }
  }

  encode(text: string, options?: EncodeOptions): number[] {
    const out: number[] = [];
    for (const segment of this.splitter.split(text, options)) {
      if (segment.special) out.push(segment.id);
      else this.encodeOrdinary(segment.text, segment.start, out);
    }
    return out;
  }

  /**
   * Whether `encode(text, options)` would succeed: false when the text holds a special token
   * that `options` does not allow, or a character the pre-tokenisation pattern does not match
   * (never the case with GPT-2's pattern). Any text is otherwise encodable, byte by byte.
   */
  canEncode(text: string, options?: EncodeOptions): boolean {
    const segments = this.splitter.splitIfAllowed(text, options);
    if (segments === undefined) return false;
    const regex = this.regex;
    for (const segment of segments) {
      if (segment.special) continue;
      for (let at = 0; at < segment.text.length; ) {
        regex.lastIndex = at;
        const length = regex.exec(segment.text)?.[0].length ?? 0;
        if (length === 0) return false;
        at += length;
      }
    }
    return true;
  }

  /** Text to put between documents and to start a sample from: `'\n'`, which byte-level BPE always encodes. */
  get separator(): string {
    return '\n';
  }

  /** Yields the ids of each pre-tokenised piece as soon as it is encoded. */
  *encodeGenerator(text: string, options?: EncodeOptions): Generator<number[], void, undefined> {
    for (const segment of this.splitter.split(text, options)) {
      if (segment.special) {
        yield [segment.id];
        continue;
      }
      const regex = new RegExp(this.regex);
      for (let at = 0; at < segment.text.length; ) {
        const piece = nextPiece(regex, segment.text, at, segment.start);
        at += piece.length;
        const ids: number[] = [];
        this.encodePiece(piece, ids);
        yield ids;
      }
    }
  }

  /** Encodes `text` piece by piece; `offset` is its index in the whole text (for errors). */
  private encodeOrdinary(text: string, offset: number, out: number[]): void {
    const regex = this.regex;
    for (let at = 0; at < text.length; ) {
      const piece = nextPiece(regex, text, at, offset);
      this.encodePiece(piece, out);
      at += piece.length;
    }
  }

  private encodePiece(piece: string, out: number[]): void {
    const cached = this.cache.get(piece);
    if (cached !== undefined) {
      if (typeof cached === 'number') out.push(cached);
      else for (const id of cached) out.push(id);
      return;
    }
    const key = toByteString(piece);
    const direct = this.idByKey.get(key);
    const result = direct ?? this.mergeBytes(key);
    if (piece.length <= CACHE_PIECE_LIMIT) {
      if (this.cache.size >= CACHE_LIMIT) this.cache = new Map();
      this.cache.set(piece, result);
    }
    if (typeof result === 'number') out.push(result);
    else for (const id of result) out.push(id);
  }

  /** tiktoken's merges (see `bpe-merge.ts`): by scanning for short pieces, as a linked list for long ones. */
  private mergeBytes(key: string): number[] {
    const starts = key.length < LINKED_THRESHOLD ? mergeByScanning(key, this.mergeRanks) : mergeLinked(key, this.mergeRanks);
    const ids: number[] = [];
    for (let i = 0; i < starts.length - 1; i++) ids.push(this.idByKey.get(key.slice(starts[i], starts[i + 1]))!);
    return ids;
  }

  decode(ids: Iterable<number>): string {
    const parts: Uint8Array[] = [];
    let length = 0;
    let position = 0;
    for (const id of ids) {
      const bytes = this.bytesAt(id, position++);
      parts.push(bytes);
      length += bytes.length;
    }
    const all = new Uint8Array(length);
    let offset = 0;
    for (const part of parts) {
      all.set(part, offset);
      offset += part.length;
    }
    return utf8Decoder.decode(all);
  }

  tokenBytes(id: number): Uint8Array {
    return this.bytesAt(id, undefined);
  }

  private bytesAt(id: number, position: number | undefined): Uint8Array {
    const bytes = this.bytesById[id];
    if (bytes !== undefined) return bytes;
    const special = this.specialById.get(id);
    if (special !== undefined) return utf8Encoder.encode(special);
    throw new RangeError(
      `id ${id}${position === undefined ? '' : ` at position ${position}`} is not a token of this vocabulary (ids are in [0, ${this.vocabSize}))`,
    );
  }

  idToToken(id: number): string {
    return this.specialById.get(id) ?? bytesToPrintable(this.bytesAt(id, undefined));
  }

  tokenToId(token: string): number | undefined {
    const special = this.specialTokens.get(token);
    if (special !== undefined) return special;
    const bytes = printableToBytes(token);
    return bytes === undefined ? undefined : this.idByKey.get(bytesToByteString(bytes));
  }

  countTokens(text: string, options?: EncodeOptions): number {
    return this.encode(text, options).length;
  }

  toJSON(): SerializedBpeTokenizer {
    const tokens = this.bytesById.map((bytes) => (bytes === undefined ? null : btoa(bytesToByteString(bytes))));
    return {
      format: 'embedlab-tokenizer',
      version: 1,
      type: 'byte-bpe',
      pattern: this.pattern,
      tokens,
      ...(this.mergePriority ? { mergePriority: [...this.mergePriority] } : {}),
      specialTokens: Object.fromEntries(this.specialTokens),
    };
  }
}
