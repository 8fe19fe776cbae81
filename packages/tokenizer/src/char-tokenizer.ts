import { SpecialTokenSplitter } from './special-tokens.js';
import type { EncodeOptions, SerializedCharTokenizer, Tokenizer } from './types.js';

export interface CharTokenizerOptions {
  /** Special tokens (e.g. `'<BOS>'`), given ids after the characters, in this order. */
  specialTokens?: string[];
  /**
   * What to do with a character outside the vocabulary: `'error'` (default) throws, naming the
   * character and its position; `'unk'` maps it to an `<unk>` special token added for the purpose.
   */
  unknown?: 'error' | 'unk';
}

const UNKNOWN_TOKEN = '<unk>';
const utf8 = new TextEncoder();

function describeChar(char: string): string {
  return `${JSON.stringify(char)} (U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`;
}

/**
 * One token per Unicode code point (so an emoji is one token, not two UTF-16 units), the
 * vocabulary being the corpus's distinct characters sorted by code point: the tokenizer of
 * nanoGPT's Shakespeare (65 characters) and microgpt's names (26 letters + BOS).
 */
export class CharTokenizer implements Tokenizer {
  readonly kind = 'char';
  readonly vocabSize: number;
  readonly specialTokens: ReadonlyMap<string, number>;
  private readonly chars: string[];
  private readonly ids: Map<string, number>;
  private readonly specialNames: string[];
  private readonly unknownId: number | undefined;
  private readonly splitter: SpecialTokenSplitter;

  private constructor(chars: string[], specialTokens: string[], unknownToken: string | null) {
    this.chars = chars;
    this.ids = new Map(chars.map((c, i) => [c, i]));
    if (this.ids.size !== chars.length) throw new Error('char tokenizer: the character list has duplicates');
    for (const [i, c] of chars.entries()) {
      if (typeof c !== 'string' || [...c].length !== 1) throw new Error(`char tokenizer: chars entry ${i} (${JSON.stringify(c)}) is not a single character`);
    }
    const specials = new Map<string, number>();
    for (const [i, token] of specialTokens.entries()) {
      if (typeof token !== 'string' || token.length === 0)
        throw new Error(`char tokenizer: specialTokens entry ${i} (${JSON.stringify(token)}) is not a non-empty string`);
      if (specials.has(token)) throw new Error(`char tokenizer: special token ${JSON.stringify(token)} is listed twice`);
      specials.set(token, chars.length + specials.size);
    }
    if (unknownToken !== null && (typeof unknownToken !== 'string' || !specials.has(unknownToken)))
      throw new Error(`char tokenizer: the unknown token ${JSON.stringify(unknownToken)} is not among the special tokens`);
    this.specialTokens = specials;
    this.specialNames = [...specials.keys()];
    this.unknownId = unknownToken === null ? undefined : specials.get(unknownToken);
    this.vocabSize = chars.length + specials.size;
    this.splitter = new SpecialTokenSplitter(specials);
    // A single-character special token name would be refused as text, so it is never chosen.
    this.separator = ['\n', ' ', ...chars].find((c) => this.ids.has(c) && !specials.has(c)) ?? chars[0]!;
  }

  /**
   * Text to put between documents and to start a sample from, chosen so that it always encodes:
   * `'\n'` if the vocabulary has it (nanoGPT's Shakespeare, a names list), else `' '` if it has
   * that, else the vocabulary's first character. Never a special token or `<unk>`.
   */
  readonly separator: string;

  /** Builds the vocabulary from the distinct characters of `corpus`, sorted by code point. */
  static fromCorpus(corpus: string, options: CharTokenizerOptions = {}): CharTokenizer {
    const { specialTokens = [], unknown = 'error' } = options;
    if (unknown !== 'error' && unknown !== 'unk') throw new Error(`char tokenizer: unknown must be 'error' or 'unk', got ${JSON.stringify(unknown)}`);
    const chars = [...new Set(corpus)].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
    if (chars.length === 0) throw new Error('char tokenizer: the corpus is empty, so there is no vocabulary');
    const specials = unknown === 'unk' && !specialTokens.includes(UNKNOWN_TOKEN) ? [...specialTokens, UNKNOWN_TOKEN] : specialTokens;
    return new CharTokenizer(chars, specials, unknown === 'unk' ? UNKNOWN_TOKEN : null);
  }

  static fromJSON(json: SerializedCharTokenizer): CharTokenizer {
    if (typeof json !== 'object' || json === null || json.type !== 'char')
      throw new Error('char tokenizer JSON: not a serialized char tokenizer (type must be "char")');
    if (!Array.isArray(json.chars) || json.chars.length === 0)
      throw new Error(`char tokenizer JSON: field "chars" must be a non-empty array of characters, got ${JSON.stringify(json.chars)?.slice(0, 60)}`);
    if (!Array.isArray(json.specialTokens))
      throw new Error(`char tokenizer JSON: field "specialTokens" must be an array of strings, got ${JSON.stringify(json.specialTokens)?.slice(0, 60)}`);
    try {
      return new CharTokenizer(json.chars, json.specialTokens, json.unknownToken ?? null);
    } catch (error) {
      throw new Error((error as Error).message.replace(/^char tokenizer: /, 'char tokenizer JSON: '));
    }
  }

  encode(text: string, options?: EncodeOptions): number[] {
    const out: number[] = [];
    let position = 0;
    for (const segment of this.splitter.split(text, options)) {
      if (segment.special) {
        out.push(segment.id);
        position++;
        continue;
      }
      for (const char of segment.text) {
        const id = this.ids.get(char) ?? this.unknownId;
        if (id === undefined)
          throw new Error(`character ${describeChar(char)} at position ${position} is not in the vocabulary of ${this.chars.length} characters`);
        out.push(id);
        position++;
      }
    }
    return out;
  }

  /**
   * Whether `encode(text, options)` would succeed: every character is in the vocabulary (or
   * there is an `<unk>` token), and no special token appears that `options` does not allow.
   * `canEncode(tokenizer.separator)` is always true.
   */
  canEncode(text: string, options?: EncodeOptions): boolean {
    const segments = this.splitter.splitIfAllowed(text, options);
    if (segments === undefined) return false;
    if (this.unknownId !== undefined) return true;
    for (const segment of segments) {
      if (segment.special) continue;
      for (const char of segment.text) if (!this.ids.has(char)) return false;
    }
    return true;
  }

  decode(ids: Iterable<number>): string {
    let text = '';
    let position = 0;
    for (const id of ids) {
      text += this.idToTokenAt(id, position++);
    }
    return text;
  }

  tokenBytes(id: number): Uint8Array {
    return utf8.encode(this.idToToken(id));
  }

  idToToken(id: number): string {
    return this.idToTokenAt(id, undefined);
  }

  private idToTokenAt(id: number, position: number | undefined): string {
    const token = this.chars[id] ?? (Number.isInteger(id) && id >= this.chars.length ? this.specialNames[id - this.chars.length] : undefined);
    if (token === undefined) throw new RangeError(`id ${id}${position === undefined ? '' : ` at position ${position}`} is not in [0, ${this.vocabSize})`);
    return token;
  }

  tokenToId(token: string): number | undefined {
    return this.ids.get(token) ?? this.specialTokens.get(token);
  }

  countTokens(text: string, options?: EncodeOptions): number {
    return this.encode(text, options).length;
  }

  toJSON(): SerializedCharTokenizer {
    const unknownToken = this.unknownId === undefined ? null : this.specialNames[this.unknownId - this.chars.length]!;
    return { format: 'embedlab-tokenizer', version: 1, type: 'char', chars: [...this.chars], specialTokens: [...this.specialNames], unknownToken };
  }
}
