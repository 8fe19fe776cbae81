// Writes a byte-level BPE in the two formats other tools read: a Hugging Face `tokenizer.json`
// and a tiktoken rank file. Both are checked by loading them back (export.test.ts) with this
// package's loaders, with Hugging Face's own reader (@huggingface/tokenizers) and js-tiktoken.
import { mergeByScanning } from './bpe-merge.js';
import { byteStringToBytes, bytesToByteString, GPT2_PATTERN } from './bpe-tokenizer.js';
import { bytesToPrintable } from './byte-unicode.js';
import type { SerializedBpeTokenizer, Tokenizer } from './types.js';

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

function bpeParts(tokenizer: Tokenizer, format: string): BpeParts {
  const json = tokenizer.toJSON();
  if (json.type !== 'byte-bpe') {
    throw new Error(
      `cannot export a ${json.type}-level tokenizer to ${format}: ${format} describes byte-level BPE (every byte has a token, longer tokens are merges), and this vocabulary has one token per character; keep its embedlab JSON (toJSON()) instead`,
    );
  }
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

/**
 * A Hugging Face `tokenizer.json` for a byte-level BPE: model BPE with the vocabulary in GPT-2's
 * printable byte spelling (`Ġ` = space) and one merge per token in rank order, GPT-2's ByteLevel
 * pre-tokenizer, post-processor and decoder (a Split step first when the pattern is not GPT-2's),
 * and the special tokens as added tokens with their ids. `ignore_merges` is on, because this
 * package (like tiktoken) emits a piece that is itself a token directly. Hugging Face encodes
 * special tokens written in the text as their ids, as `encode(text, { allowedSpecial: 'all' })`.
 *
 * Throws for a char-level tokenizer, and for a special token spelled like an ordinary token.
 */
export function toHuggingFaceJSON(tokenizer: Tokenizer): string {
  const parts = bpeParts(tokenizer, 'a Hugging Face tokenizer.json');
  const { json, bytesById } = parts;
  const vocab = new Map<string, number>();
  bytesById.forEach((bytes, id) => {
    if (bytes) vocab.set(bytesToPrintable(bytes), id);
  });
  const specials = Object.entries(json.specialTokens).sort((a, b) => a[1] - b[1]);
  for (const [name, id] of specials) {
    const clash = vocab.get(name);
    if (clash !== undefined)
      throw new Error(
        `cannot export to a Hugging Face tokenizer.json: special token ${JSON.stringify(name)} (id ${id}) is spelled like ordinary token ${clash}, and the vocabulary can hold only one of them`,
      );
    vocab.set(name, id);
  }
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const preTokenizer =
    json.pattern === GPT2_PATTERN
      ? byteLevel
      : {
          type: 'Sequence',
          pretokenizers: [
            { type: 'Split', pattern: { Regex: json.pattern }, behavior: 'Isolated', invert: false },
            { ...byteLevel, use_regex: false },
          ],
        };
  return JSON.stringify({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map(([content, id]) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: preTokenizer,
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: true,
      // fromEntries, not assignment: a token spelled "__proto__" must stay a key.
      vocab: Object.fromEntries(vocab),
      // Byte-level tokens never contain a space (it is spelled Ġ), so "a b" is unambiguous, as in GPT-2's file.
      merges: deriveMerges(parts).map(([a, b]) => `${a} ${b}`),
    },
  });
}

/**
 * A tiktoken rank file and what goes beside it. tiktoken's rank is the id, so the merge order
 * must be id order (true of GPT-2 and of every tokenizer `trainBpe` makes; not of RoBERTa-style
 * Hugging Face vocabularies, which throw). In Python:
 * `tiktoken.Encoding(mergeable_ranks=load_tiktoken_bpe(path), **json.load(open(sidecar)))`.
 */
export function toTiktoken(tokenizer: Tokenizer, options: { name?: string } = {}): TiktokenExport {
  const { json, idOrder, mergeOrder } = bpeParts(tokenizer, 'tiktoken');
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
