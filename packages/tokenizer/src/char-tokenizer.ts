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
      if ([...c].length !== 1) throw new Error(`char tokenizer: entry ${i} (${JSON.stringify(c)}) is not a single character`);
    }
    const specials = new Map<string, number>();
    for (const token of specialTokens) {
      if (token.length === 0) throw new Error('char tokenizer: a special token cannot be empty');
      if (specials.has(token)) throw new Error(`char tokenizer: special token ${JSON.stringify(token)} is listed twice`);
      specials.set(token, chars.length + specials.size);
    }
    if (unknownToken !== null && !specials.has(unknownToken)) throw new Error(`char tokenizer: the unknown token ${JSON.stringify(unknownToken)} is not among the special tokens`);
    this.specialTokens = specials;
    this.specialNames = [...specials.keys()];
    this.unknownId = unknownToken === null ? undefined : specials.get(unknownToken);
    this.vocabSize = chars.length + specials.size;
    this.splitter = new SpecialTokenSplitter(specials);
  }

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
    if (json.type !== 'char' || !Array.isArray(json.chars) || !Array.isArray(json.specialTokens)) throw new Error('char tokenizer: not a serialized char tokenizer');
    return new CharTokenizer(json.chars, json.specialTokens, json.unknownToken ?? null);
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
        if (id === undefined) throw new Error(`character ${describeChar(char)} at position ${position} is not in the vocabulary of ${this.chars.length} characters`);
        out.push(id);
        position++;
      }
    }
    return out;
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
