import { BpeTokenizer, GPT2_PATTERN } from './bpe-tokenizer.js';
import { printableToBytes } from './byte-unicode.js';

export interface TiktokenOptions {
  /** Special tokens and their ids; the rank file has none. GPT-2: `GPT2_SPECIAL_TOKENS`. */
  specialTokens?: Readonly<Record<string, number>>;
  /** Pre-tokenisation pattern. Default GPT-2's (right for `r50k_base`/`gpt2`). */
  pattern?: string;
}

/** Parses a tiktoken `.tiktoken` rank file: one `<base64 token bytes> <rank>` per line. */
export function fromTiktoken(rankFile: string, options: TiktokenOptions = {}): BpeTokenizer {
  const tokens: Uint8Array[] = [];
  const lines = rankFile.split('\n');
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const match = /^([A-Za-z0-9+/]+={0,2}) (\d+)$/.exec(line.trim());
    if (!match) throw new Error(`tiktoken rank file, line ${index + 1}: expected "<base64 token> <rank>", got ${JSON.stringify(line.slice(0, 60))}`);
    const rank = Number(match[2]);
    if (tokens[rank] !== undefined) throw new Error(`tiktoken rank file, line ${index + 1}: rank ${rank} appears twice`);
    const binary = atob(match[1]!);
    tokens[rank] = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  });
  if (tokens.length === 0) throw new Error('tiktoken rank file: no ranks found (is the file empty?)');
  return new BpeTokenizer({ tokens, specialTokens: options.specialTokens ?? {}, pattern: options.pattern ?? GPT2_PATTERN });
}

/**
 * Builds a byte-level BPE from a printable vocabulary (`encoder.json` / tokenizer.json's
 * `model.vocab`) and its merge list. Entries that are neither a byte nor the result of a merge
 * (`<|endoftext|>` in GPT-2's encoder.json) are special tokens.
 */
function fromVocabAndMerges(source: string, vocab: Record<string, number>, merges: readonly (readonly [string, string])[], extraSpecial: Record<string, number> = {}): BpeTokenizer {
  if (typeof vocab !== 'object' || vocab === null || Array.isArray(vocab)) throw new Error(`${source}: the vocabulary must be an object of token -> id`);
  const tokens: Uint8Array[] = [];
  const specialTokens: Record<string, number> = { ...extraSpecial };
  const merged = new Set(merges.map(([a, b]) => a + b));
  for (const [token, id] of Object.entries(vocab)) {
    if (!Number.isInteger(id) || id < 0) throw new Error(`${source}: token ${JSON.stringify(token)} has id ${id}, not a non-negative integer`);
    if (token in specialTokens) continue;
    const bytes = printableToBytes(token);
    if (bytes === undefined || (bytes.length > 1 && !merged.has(token))) specialTokens[token] = id;
    else tokens[id] = bytes;
  }
  const mergePriority = merges.map(([a, b], index) => {
    const id = vocab[a + b];
    if (id === undefined) throw new Error(`${source}: merge ${index + 1} ("${a} ${b}") produces ${JSON.stringify(a + b)}, which is not in the vocabulary`);
    return id;
  });
  // Omit the priority when it is id order (GPT-2), so the tokenizer keys ranks by id.
  // (Single-byte ids do not matter: only concatenations of two or more bytes are ranked.)
  const inIdOrder = mergePriority.every((id, i) => i === 0 || id > mergePriority[i - 1]!);
  return new BpeTokenizer({ tokens, specialTokens, pattern: GPT2_PATTERN, ...(inIdOrder ? {} : { mergePriority }) });
}

function parseJson(source: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: not valid JSON: ${(error as Error).message}`);
  }
}

/** Loads GPT-2's original files: `encoder.json` (token -> id) and `vocab.bpe` (merges). */
export function fromGpt2Files(encoderJson: string, vocabBpe: string): BpeTokenizer {
  const vocab = parseJson('encoder.json', encoderJson) as Record<string, number>;
  const merges: [string, string][] = [];
  vocabBpe.split('\n').forEach((line, index) => {
    if (line.startsWith('#version') || line.trim() === '') return;
    const parts = line.split(' ');
    if (parts.length !== 2 || !parts[0] || !parts[1]) throw new Error(`vocab.bpe, line ${index + 1}: expected two tokens separated by a space, got ${JSON.stringify(line.slice(0, 60))}`);
    merges.push([parts[0], parts[1]]);
  });
  return fromVocabAndMerges('encoder.json', vocab, merges);
}

interface HuggingFaceTokenizerJson {
  model?: { type?: string; vocab?: Record<string, number>; merges?: (string | [string, string])[] };
  pre_tokenizer?: { type?: string; add_prefix_space?: boolean; pretokenizers?: { type?: string }[] } | null;
  added_tokens?: { id: number; content: string; special?: boolean }[];
}

/** Loads a Hugging Face `tokenizer.json` with a BPE model and a ByteLevel pre-tokenizer (GPT-2's). */
export function fromHuggingFace(tokenizerJson: string | object): BpeTokenizer {
  const json = (typeof tokenizerJson === 'string' ? parseJson('tokenizer.json', tokenizerJson) : tokenizerJson) as HuggingFaceTokenizerJson;
  const model = json.model;
  if (model?.type !== 'BPE') throw new Error(`tokenizer.json: model.type must be "BPE", got ${JSON.stringify(model?.type)}`);
  const pre = json.pre_tokenizer;
  const steps = pre?.type === 'Sequence' ? (pre.pretokenizers ?? []) : pre ? [pre] : [];
  if (!steps.some((step) => step.type === 'ByteLevel')) throw new Error(`tokenizer.json: pre_tokenizer must be ByteLevel (byte-level BPE), got ${JSON.stringify(pre?.type ?? null)}`);
  if (pre?.add_prefix_space) throw new Error('tokenizer.json: ByteLevel add_prefix_space=true is not supported (GPT-2 uses false)');
  if (!model.vocab || !Array.isArray(model.merges)) throw new Error('tokenizer.json: model.vocab and model.merges are required');
  const merges = model.merges.map((merge, index) => {
    const pair = typeof merge === 'string' ? merge.split(' ') : merge;
    if (pair.length !== 2) throw new Error(`tokenizer.json: merge ${index + 1} is not a pair: ${JSON.stringify(merge)}`);
    return pair as [string, string];
  });
  const added = Object.fromEntries((json.added_tokens ?? []).map((t) => [t.content, t.id]));
  return fromVocabAndMerges('tokenizer.json', model.vocab, merges, added);
}
