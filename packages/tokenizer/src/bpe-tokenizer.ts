import { bytesToPrintable, printableToBytes } from './byte-unicode.js';
import { SpecialTokenSplitter } from './special-tokens.js';
import type { EncodeOptions, SerializedBpeTokenizer, Tokenizer } from './types.js';

/** GPT-2's pre-tokenisation pattern (also tiktoken's `r50k_base`, `p50k_base`). */
export const GPT2_PATTERN = String.raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`;

/** GPT-2's only special token. */
export const GPT2_SPECIAL_TOKENS: Readonly<Record<string, number>> = Object.freeze({ '<|endoftext|>': 50256 });

export interface BpeTokenizerInit {
  /** Each token's bytes, indexed by id. Holes are allowed (ids with no token). */
  tokens: ReadonlyArray<Uint8Array | undefined>;
  /** Special token strings and their ids (outside the ids of `tokens`). */
  specialTokens?: Readonly<Record<string, number>>;
  /** Pre-tokenisation regular expression source, compiled with flags `gu`. Default GPT-2's. */
  pattern?: string;
  /**
   * Multi-byte token ids in merge priority order, for vocabularies whose ids are not in merge
   * order (Hugging Face vocabularies such as RoBERTa's). Default: lower id merges first.
   */
  mergePriority?: readonly number[];
}

const CACHE_LIMIT = 65_536;
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** A JS string whose char codes are the UTF-8 bytes of `text`: the map key for a byte sequence. */
function toByteString(text: string): string {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) >= 0x80) return bytesToByteString(utf8Encoder.encode(text));
  }
  return text;
}

function bytesToByteString(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += String.fromCharCode(bytes[i]!);
  return out;
}

function byteStringToBytes(key: string): Uint8Array {
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
  private readonly mergePriority: readonly number[] | undefined;
  private readonly specialById = new Map<number, string>();
  private readonly splitter: SpecialTokenSplitter;
  private cache = new Map<string, number | number[]>();

  constructor(init: BpeTokenizerInit) {
    const { tokens, specialTokens = {}, pattern = GPT2_PATTERN, mergePriority } = init;
    this.pattern = pattern;
    try {
      this.regex = new RegExp(pattern, 'gu');
    } catch (error) {
      throw new Error(`BPE tokenizer: the pre-tokenisation pattern is not a valid regular expression: ${(error as Error).message}`);
    }
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
      if (!this.idByKey.has(String.fromCharCode(b))) throw new Error(`BPE tokenizer: byte 0x${b.toString(16).padStart(2, '0')} has no token, so some text could not be encoded`);
    }
    if (mergePriority === undefined) {
      this.rankByKey = this.idByKey;
    } else {
      this.rankByKey = new Map();
      mergePriority.forEach((id, rank) => {
        const bytes = tokens[id];
        if (bytes === undefined) throw new Error(`BPE tokenizer: merge priority ${rank} names id ${id}, which has no token`);
        this.rankByKey.set(bytesToByteString(bytes), rank);
      });
    }
    this.mergePriority = mergePriority;
    let vocabSize = tokens.length;
    for (const [name, id] of Object.entries(specialTokens)) {
      if (!Number.isInteger(id) || id < 0) throw new Error(`BPE tokenizer: special token ${JSON.stringify(name)} has id ${id}, not a non-negative integer`);
      if (tokens[id] !== undefined || this.specialById.has(id)) throw new Error(`BPE tokenizer: special token ${JSON.stringify(name)} has id ${id}, which is already taken`);
      this.specialById.set(id, name);
      vocabSize = Math.max(vocabSize, id + 1);
    }
    this.specialTokens = new Map(Object.entries(specialTokens));
    this.vocabSize = vocabSize;
    this.splitter = new SpecialTokenSplitter(this.specialTokens);
  }

  static fromJSON(json: SerializedBpeTokenizer): BpeTokenizer {
    if (json.type !== 'byte-bpe' || !Array.isArray(json.tokens) || typeof json.pattern !== 'string') throw new Error('BPE tokenizer: not a serialized byte-level BPE tokenizer');
    const tokens = json.tokens.map((b64, id) => {
      if (b64 === null) return undefined;
      try {
        return byteStringToBytes(atob(b64));
      } catch {
        throw new Error(`BPE tokenizer: token ${id} is not valid base64: ${JSON.stringify(b64)}`);
      }
    });
    return new BpeTokenizer({ tokens, specialTokens: json.specialTokens ?? {}, pattern: json.pattern, ...(json.mergePriority ? { mergePriority: json.mergePriority } : {}) });
  }

  encode(text: string, options?: EncodeOptions): number[] {
    const out: number[] = [];
    for (const segment of this.splitter.split(text, options)) {
      if (segment.special) out.push(segment.id);
      else this.encodeOrdinary(segment.text, out);
    }
    return out;
  }

  /** Yields the ids of each pre-tokenised piece as soon as it is encoded. */
  *encodeGenerator(text: string, options?: EncodeOptions): Generator<number[], void, undefined> {
    for (const segment of this.splitter.split(text, options)) {
      if (segment.special) {
        yield [segment.id];
        continue;
      }
      const regex = new RegExp(this.regex);
      for (let match = regex.exec(segment.text); match !== null; match = regex.exec(segment.text)) {
        const ids: number[] = [];
        this.encodePiece(match[0], ids);
        yield ids;
      }
    }
  }

  private encodeOrdinary(text: string, out: number[]): void {
    const regex = this.regex;
    regex.lastIndex = 0;
    for (let match = regex.exec(text); match !== null; match = regex.exec(text)) this.encodePiece(match[0], out);
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
    if (this.cache.size >= CACHE_LIMIT) this.cache = new Map();
    this.cache.set(piece, result);
    if (typeof result === 'number') out.push(result);
    else for (const id of result) out.push(id);
  }

  /** tiktoken's merge loop: repeatedly join the adjacent pair whose concatenation ranks lowest. */
  private mergeBytes(key: string): number[] {
    const ranks = this.rankByKey;
    const starts: number[] = [];
    for (let i = 0; i <= key.length; i++) starts.push(i);
    const pairRank = (i: number) => (i + 2 < starts.length ? (ranks.get(key.slice(starts[i], starts[i + 2])) ?? Infinity) : Infinity);
    const pairRanks: number[] = [];
    for (let i = 0; i < starts.length - 1; i++) pairRanks.push(pairRank(i));
    while (starts.length > 2) {
      let best = Infinity;
      let at = -1;
      for (let i = 0; i < pairRanks.length - 1; i++) {
        if (pairRanks[i]! < best) {
          best = pairRanks[i]!;
          at = i;
        }
      }
      if (at < 0) break;
      starts.splice(at + 1, 1);
      pairRanks.splice(at + 1, 1);
      pairRanks[at] = pairRank(at);
      if (at > 0) pairRanks[at - 1] = pairRank(at - 1);
    }
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
    throw new RangeError(`id ${id}${position === undefined ? '' : ` at position ${position}`} is not a token of this vocabulary (ids are in [0, ${this.vocabSize}))`);
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
