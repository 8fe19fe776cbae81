// Writes a tokenizer in the two formats other tools read: a Hugging Face `tokenizer.json`
// (byte-level BPE or char-level) and a tiktoken rank file (byte-level BPE). Both are checked by
// loading them back (export.test.ts) with this package's loaders, with Hugging Face's own reader
// (@huggingface/tokenizers) and with js-tiktoken.
import { mergeByScanning } from './bpe-merge.js';
import { byteStringToBytes, bytesToByteString, GPT2_PATTERN } from './bpe-tokenizer.js';
import { bytesToPrintable } from './byte-unicode.js';
import type { SerializedBpeTokenizer, SerializedCharTokenizer, Tokenizer } from './types.js';

/** What Python's `tiktoken.Encoding` needs beside the rank file: the keys are that constructor's arguments. */
export interface TiktokenSidecar {
  name: string;
  /** The pre-tokenisation pattern, as written in this package (JavaScript `u` syntax). */
  pat_str: string;
  special_tokens: Record<string, number>;
}

export interface TiktokenExport {
  /** The `.tiktoken` rank file: `<base64 token bytes> <rank>` per line, in rank order. */
  ranks: string;
  sidecar: TiktokenSidecar;
}

/** A byte-level BPE's tokens, by id, and the multi-byte ids in merge order. */
interface BpeParts {
  json: SerializedBpeTokenizer;
  bytesById: (Uint8Array | undefined)[];
  /** Multi-byte token ids, lowest merge rank first (those missing are never merged, only matched whole). */
  mergeOrder: number[];
  /** Multi-byte token ids in id order. */
  idOrder: number[];
}

function bpeParts(json: SerializedBpeTokenizer): BpeParts {
  const bytesById = json.tokens.map((b64) => (b64 === null ? undefined : byteStringToBytes(atob(b64))));
  const idOrder = bytesById.flatMap((bytes, id) => (bytes && bytes.length > 1 ? [id] : []));
  return { json, bytesById, idOrder, mergeOrder: json.mergePriority ? [...json.mergePriority] : idOrder };
}

/**
 * The merge that makes each multi-byte token, as tiktoken's algorithm builds the token from its
 * own bytes: merge with only the lower ranks, and the two parts left are its merge (what
 * transformers' TikTokenConverter does). Hugging Face's BPE joins only the listed pairs, where
 * tiktoken (and this package) join any two neighbours that make a token; the two agree when every
 * token is built this way (GPT-2's are, and `trainBpe`'s in every test), so a token that is not
 * (three or more parts are left: it ranks before its own parts) is refused, naming it.
 */
function deriveMerges({ bytesById, mergeOrder }: BpeParts): [string, string][] {
  const ranks = new Map(mergeOrder.map((id, rank) => [bytesToByteString(bytesById[id]!), rank]));
  const printable = (key: string) => bytesToPrintable(byteStringToBytes(key));
  return mergeOrder.map((id, rank) => {
    const key = bytesToByteString(bytesById[id]!);
    const starts = mergeByScanning(key, { ranks, maxTokenLength: key.length, rankLimit: rank }, rank);
    if (starts.length !== 3)
      throw new Error(
        `cannot export to a Hugging Face tokenizer.json faithfully: token ${id} (${JSON.stringify(bytesToPrintable(bytesById[id]!).slice(0, 40))}) is not the merge of two tokens of lower rank (from its own bytes, merging leaves ${starts.length - 1} parts), so Hugging Face's merge list cannot say when this package would build it`,
      );
    return [printable(key.slice(0, starts[1])), printable(key.slice(starts[1]))];
  });
}

/** A tokenizer.json's model vocabulary, special tokens and pipeline, before the special tokens join the vocabulary. */
interface HuggingFaceParts {
  vocab: Map<string, number>;
  specials: [string, number][];
  pipeline: { pre_tokenizer: object | null; post_processor: object | null; decoder: object };
  model: object;
}

/** GPT-2's layout: byte-level vocabulary and merges, ByteLevel pre-tokenizer (after a Split for another pattern) and decoder. */
function byteLevelParts(parts: BpeParts): HuggingFaceParts {
  const { json, bytesById } = parts;
  const vocab = new Map<string, number>();
  bytesById.forEach((bytes, id) => {
    if (bytes) vocab.set(bytesToPrintable(bytes), id);
  });
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const split = { type: 'Split', pattern: { Regex: json.pattern }, behavior: 'Isolated', invert: false };
  return {
    vocab,
    specials: Object.entries(json.specialTokens),
    pipeline: {
      pre_tokenizer: json.pattern === GPT2_PATTERN ? byteLevel : { type: 'Sequence', pretokenizers: [split, { ...byteLevel, use_regex: false }] },
      post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: true,
      // Byte-level tokens never contain a space (it is spelled Ġ), so "a b" is unambiguous, as in GPT-2's file.
      merges: deriveMerges(parts).map(([a, b]) => `${a} ${b}`),
    },
  };
}

/**
 * The unknown token of a char-level export whose tokenizer refuses unknown characters: it is not
 * in the vocabulary, so Hugging Face's BPE fails on such a character (UnkTokenOutOfVocabulary,
 * naming this) where without an unknown token it would drop it silently.
 */
export const HF_REFUSED_CHARACTER = '<character not in the vocabulary>';

/**
 * One token per character: Hugging Face's BPE model without merges splits a text into its
 * characters (code points) and looks each up, with no pre-tokenizer, and the Fuse decoder joins
 * the tokens back without spaces.
 */
function charParts(json: SerializedCharTokenizer): HuggingFaceParts {
  const surrogate = json.chars.find((c) => /^[\ud800-\udfff]$/.test(c));
  if (surrogate !== undefined)
    throw new Error(
      `cannot export to a Hugging Face tokenizer.json: the vocabulary has the lone surrogate U+${surrogate.charCodeAt(0).toString(16).toUpperCase()}, which Hugging Face's (Rust) strings cannot hold`,
    );
  const specials = json.specialTokens.map((name, i): [string, number] => [name, json.chars.length + i]);
  if (json.unknownToken === null && specials.some(([name]) => name === HF_REFUSED_CHARACTER))
    throw new Error(
      `cannot export to a Hugging Face tokenizer.json: a special token is named ${JSON.stringify(HF_REFUSED_CHARACTER)}, which the export reserves`,
    );
  return {
    vocab: new Map(json.chars.map((c, id) => [c, id])),
    specials,
    pipeline: { pre_tokenizer: null, post_processor: null, decoder: { type: 'Fuse' } },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: json.unknownToken ?? HF_REFUSED_CHARACTER,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      merges: [],
    },
  };
}

/**
 * A Hugging Face `tokenizer.json`, with the special tokens as added tokens with their ids (and in
 * the vocabulary, as GPT-2's file has them). Hugging Face encodes special tokens written in the
 * text as their ids, as `encode(text, { allowedSpecial: 'all' })` does.
 *
 * A byte-level BPE is laid out as GPT-2's: model BPE with the vocabulary in GPT-2's printable
 * byte spelling (`Ġ` = space) and one merge per token in rank order, GPT-2's ByteLevel
 * pre-tokenizer, post-processor and decoder (a Split step first when the pattern is not GPT-2's).
 * `ignore_merges` is on, because this package (like tiktoken) emits a piece that is itself a
 * token directly. A char-level tokenizer becomes a BPE model without merges (one token per
 * character) and the Fuse decoder; a character outside the vocabulary is an error there too
 * (see `HF_REFUSED_CHARACTER`), or the `<unk>` token if the tokenizer has one.
 *
 * Throws, saying why, where the file would not encode as this tokenizer does (see `deriveMerges`),
 * and for a special token spelled like an ordinary token.
 */
export function toHuggingFaceJSON(tokenizer: Tokenizer): string {
  const json = tokenizer.toJSON();
  const { vocab, specials, pipeline, model } = json.type === 'char' ? charParts(json) : byteLevelParts(bpeParts(json));
  specials.sort((a, b) => a[1] - b[1]);
  for (const [name, id] of specials) {
    const clash = vocab.get(name);
    if (clash !== undefined)
      throw new Error(
        `cannot export to a Hugging Face tokenizer.json: special token ${JSON.stringify(name)} (id ${id}) is spelled like ordinary token ${clash}, and the vocabulary can hold only one of them`,
      );
    vocab.set(name, id);
  }
  return JSON.stringify({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map(([content, id]) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    ...pipeline,
    // fromEntries, not assignment: a token spelled "__proto__" must stay a key.
    model: { ...model, vocab: Object.fromEntries(vocab) },
  });
}

/**
 * A tiktoken rank file and what goes beside it. tiktoken's rank is the id, so the merge order
 * must be id order (true of GPT-2 and of every tokenizer `trainBpe` makes; not of RoBERTa-style
 * Hugging Face vocabularies, which throw). In Python:
 * `tiktoken.Encoding(mergeable_ranks=load_tiktoken_bpe(path), **json.load(open(sidecar)))`.
 */
export function toTiktoken(tokenizer: Tokenizer, options: { name?: string } = {}): TiktokenExport {
  const saved = tokenizer.toJSON();
  if (saved.type !== 'byte-bpe')
    throw new Error(
      'cannot export a char-level tokenizer to tiktoken: tiktoken is byte-level BPE (every byte has a token, longer tokens are merges), and this vocabulary has one token per character; a Hugging Face tokenizer.json can hold it',
    );
  const { json, idOrder, mergeOrder } = bpeParts(saved);
  const differ = idOrder.findIndex((id, i) => mergeOrder[i] !== id);
  if (differ >= 0 || mergeOrder.length !== idOrder.length) {
    const at = differ >= 0 ? differ : idOrder.length;
    throw new Error(
      `cannot export to tiktoken: a tiktoken rank is both a token's id and its merge priority, but this tokenizer's merge order is not its id order (merge ${at} makes token ${mergeOrder[at] ?? '(none)'}, id order says ${idOrder[at] ?? '(none)'}); a Hugging Face tokenizer.json can hold it`,
    );
  }
  const lines: string[] = [];
  json.tokens.forEach((b64, id) => {
    if (b64 !== null) lines.push(`${b64} ${id}`);
  });
  return {
    ranks: `${lines.join('\n')}\n`,
    sidecar: { name: options.name ?? 'embedlab-bpe', pat_str: json.pattern, special_tokens: { ...json.specialTokens } },
  };
}
