/** Which special tokens `encode` may turn into their ids. */
export interface EncodeOptions {
  /**
   * Special tokens that are encoded as their id when they appear in the text. Default none.
   * `'all'` allows every special token of the tokenizer.
   */
  allowedSpecial?: 'all' | Iterable<string>;
  /**
   * Special tokens whose appearance in the text is an error (the default, `'all'`, means every
   * special token not allowed). Tokens neither allowed nor disallowed are encoded as plain text.
   */
  disallowedSpecial?: 'all' | Iterable<string>;
}

/** The interface every embedlab tokenizer implements, and the one the model packages consume. */
export interface Tokenizer {
  readonly kind: 'char' | 'byte-bpe';
  /** Number of ids: every id is in `[0, vocabSize)`. */
  readonly vocabSize: number;
  /** Special token strings and their ids. */
  readonly specialTokens: ReadonlyMap<string, number>;
  encode(text: string, options?: EncodeOptions): number[];
  /** Ids back to text. Bytes that do not form valid UTF-8 become U+FFFD. */
  decode(ids: Iterable<number>): string;
  /** The UTF-8 bytes an id stands for (what streaming decoders concatenate). */
  tokenBytes(id: number): Uint8Array;
  /** The token's printable name: the character, or GPT-2's byte-to-unicode form (`Ġthe`). */
  idToToken(id: number): string;
  /** The id of a printable token name (as `idToToken` returns), or undefined. */
  tokenToId(token: string): number | undefined;
  countTokens(text: string, options?: EncodeOptions): number;
  /**
   * Whether `encode(text, options)` would succeed (a char tokenizer refuses characters outside
   * its vocabulary). Optional for other implementations; this package's tokenizers have it.
   */
  canEncode?(text: string, options?: EncodeOptions): boolean;
  /**
   * Text to put between documents and to start a sample from, which this tokenizer always
   * encodes: `'\n'` unless a char vocabulary lacks it (then `' '`, else its first character).
   * Optional for other implementations; this package's tokenizers have it.
   */
  readonly separator?: string;
  toJSON(): SerializedTokenizer;
}

export interface SerializedCharTokenizer {
  format: 'embedlab-tokenizer';
  version: 1;
  type: 'char';
  /** Characters in id order (one code point each). */
  chars: string[];
  /** Special tokens in id order; their ids follow the characters. */
  specialTokens: string[];
  /** The `<unk>`-style token that unknown characters map to, or null to refuse them. */
  unknownToken: string | null;
}

export interface SerializedBpeTokenizer {
  format: 'embedlab-tokenizer';
  version: 1;
  type: 'byte-bpe';
  /** Pre-tokenisation regular expression source (flags `gu`). */
  pattern: string;
  /** Base64 of each token's bytes, indexed by id (null for an id with no token; special tokens excluded). */
  tokens: (string | null)[];
  /** Ids in merge-priority order when it differs from id order (e.g. RoBERTa); absent otherwise. */
  mergePriority?: number[];
  specialTokens: Record<string, number>;
}

export type SerializedTokenizer = SerializedCharTokenizer | SerializedBpeTokenizer;
