import { BpeTokenizer, GPT2_PATTERN, MAX_UNUSED_IDS } from './bpe-tokenizer.js';
import { printableToBytes } from './byte-unicode.js';
import { CharTokenizer } from './char-tokenizer.js';

export interface TiktokenOptions {
  /** Special tokens and their ids; the rank file has none. GPT-2: `GPT2_SPECIAL_TOKENS`. */
  specialTokens?: Readonly<Record<string, number>>;
  /** Pre-tokenisation pattern. Default GPT-2's (right for `r50k_base`/`gpt2`). */
  pattern?: string;
}

/**
 * Parses a tiktoken `.tiktoken` rank file: one `<base64 token bytes> <rank>` per line. Ranks are
 * distinct and below (number of lines) + `MAX_UNUSED_IDS` (OpenAI's files use exactly 0 to
 * count - 1), so a file never makes the vocabulary much larger than itself.
 */
export function fromTiktoken(rankFile: string, options: TiktokenOptions = {}): BpeTokenizer {
  if (typeof rankFile !== 'string') throw new Error(`tiktoken rank file: expected the file's text, got ${typeof rankFile}`);
  const lines = rankFile.split('\n');
  let count = 0;
  for (const line of lines) if (line.trim() !== '') count++;
  if (count === 0) throw new Error('tiktoken rank file: no ranks found (is the file empty?)');
  const limit = count + MAX_UNUSED_IDS;
  const tokens: Uint8Array[] = [];
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const match = /^([A-Za-z0-9+/]+={0,2}) (\d+)$/.exec(line.trim());
    if (!match) throw new Error(`tiktoken rank file, line ${index + 1}: expected "<base64 token> <rank>", got ${JSON.stringify(line.slice(0, 60))}`);
    const rank = Number(match[2]);
    if (rank >= limit)
      throw new RangeError(
        `tiktoken rank file, line ${index + 1}: rank ${match[2]!.slice(0, 20)} is out of range: the file has ${count} ranks, so they must be below ${limit} (at most ${MAX_UNUSED_IDS} unused)`,
      );
    if (tokens[rank] !== undefined) throw new Error(`tiktoken rank file, line ${index + 1}: rank ${rank} appears twice`);
    let binary: string;
    try {
      binary = atob(match[1]!);
    } catch {
      throw new Error(`tiktoken rank file, line ${index + 1}: ${JSON.stringify(match[1]!.slice(0, 60))} is not valid base64`);
    }
    tokens[rank] = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  });
  return new BpeTokenizer({ tokens, specialTokens: options.specialTokens ?? {}, pattern: options.pattern ?? GPT2_PATTERN });
}

interface VocabOptions {
  /** Special tokens listed apart from the vocabulary (tokenizer.json's `added_tokens`). */
  extraSpecial?: Record<string, number>;
  pattern?: string;
  /**
   * Multi-byte entries that no merge makes are ordinary tokens, matched only as a whole piece
   * (tokenizer.json with `ignore_merges`), instead of special tokens.
   */
  unmergedAreTokens?: boolean;
}

/**
 * Builds a byte-level BPE from a printable vocabulary (`encoder.json` / tokenizer.json's
 * `model.vocab`) and its merge list. Entries that are neither a byte nor the result of a merge
 * (`<|endoftext|>` in GPT-2's encoder.json) are special tokens, unless `unmergedAreTokens`.
 */
function fromVocabAndMerges(
  source: string,
  vocab: Record<string, number>,
  merges: readonly (readonly [string, string])[],
  { extraSpecial = {}, pattern = GPT2_PATTERN, unmergedAreTokens = false }: VocabOptions = {},
): BpeTokenizer {
  if (typeof vocab !== 'object' || vocab === null || Array.isArray(vocab)) throw new Error(`${source}: the vocabulary must be an object of token -> id`);
  // Every id is below the number of distinct tokens + MAX_UNUSED_IDS, so the file bounds the vocabulary's size.
  const names = new Set([...Object.keys(vocab), ...Object.keys(extraSpecial)]);
  const limit = names.size + MAX_UNUSED_IDS;
  const checkId = (what: string, id: unknown) => {
    if (!Number.isInteger(id) || (id as number) < 0) throw new Error(`${source}: ${what} has id ${JSON.stringify(id)}, not a non-negative integer`);
    if ((id as number) >= limit)
      throw new RangeError(
        `${source}: ${what} has id ${id}, out of range: the file has ${names.size} distinct tokens, so ids must be below ${limit} (at most ${MAX_UNUSED_IDS} unused)`,
      );
  };
  const tokens: Uint8Array[] = [];
  const specialTokens: Record<string, number> = { ...extraSpecial };
  const nameById = new Map<number, string>();
  for (const [token, id] of Object.entries(extraSpecial)) {
    checkId(`added token ${JSON.stringify(token)}`, id);
    nameById.set(id, token);
  }
  const merged = new Set(merges.map(([a, b]) => a + b));
  for (const [token, id] of Object.entries(vocab)) {
    checkId(`token ${JSON.stringify(token)}`, id);
    if (Object.hasOwn(specialTokens, token)) continue;
    const other = nameById.get(id);
    if (other !== undefined) throw new Error(`${source}: tokens ${JSON.stringify(other)} and ${JSON.stringify(token)} both have id ${id}`);
    nameById.set(id, token);
    const bytes = printableToBytes(token);
    if (bytes === undefined || (bytes.length > 1 && !unmergedAreTokens && !merged.has(token))) specialTokens[token] = id;
    else tokens[id] = bytes;
  }
  const mergePriority = merges.map(([a, b], index) => {
    const id = Object.hasOwn(vocab, a + b) ? vocab[a + b] : undefined;
    if (id === undefined) throw new Error(`${source}: merge ${index + 1} ("${a} ${b}") produces ${JSON.stringify(a + b)}, which is not in the vocabulary`);
    return id;
  });
  // Omit the priority when it is id order (GPT-2), so the tokenizer keys ranks by id.
  // (Single-byte ids do not matter: only concatenations of two or more bytes are ranked.)
  const inIdOrder = mergePriority.every((id, i) => i === 0 || id > mergePriority[i - 1]!);
  return new BpeTokenizer({ tokens, specialTokens, pattern, ...(inIdOrder ? {} : { mergePriority }) });
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
    if (parts.length !== 2 || !parts[0] || !parts[1])
      throw new Error(`vocab.bpe, line ${index + 1}: expected two tokens separated by a space, got ${JSON.stringify(line.slice(0, 60))}`);
    merges.push([parts[0], parts[1]]);
  });
  return fromVocabAndMerges('encoder.json', vocab, merges);
}

interface PreTokenizerJson {
  type?: string;
  add_prefix_space?: boolean;
  use_regex?: boolean;
  pattern?: { Regex?: unknown; String?: unknown };
  behavior?: string;
  invert?: boolean;
}

interface HuggingFaceTokenizerJson {
  model?: { type?: string; vocab?: Record<string, number>; merges?: (string | [string, string])[]; ignore_merges?: boolean; unk_token?: unknown };
  normalizer?: unknown;
  decoder?: { type?: string } | null;
  pre_tokenizer?: (PreTokenizerJson & { pretokenizers?: PreTokenizerJson[] }) | null;
  added_tokens?: { id: number; content: string; special?: boolean }[];
}

/**
 * The pre-tokenisation pattern of a byte-level tokenizer.json: GPT-2's when ByteLevel splits
 * (`use_regex`, GPT-2's file), or the Regex of a Split step before a ByteLevel that does not
 * (cl100k-style files, and `toHuggingFaceJSON` for other patterns).
 */
function parseHuggingFace(tokenizerJson: string | object): HuggingFaceTokenizerJson {
  const json = (typeof tokenizerJson === 'string' ? parseJson('tokenizer.json', tokenizerJson) : tokenizerJson) as HuggingFaceTokenizerJson | null;
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new Error(`tokenizer.json: expected an object, got ${JSON.stringify(json)?.slice(0, 60)}`);
  return json;
}

/** The layout `toHuggingFaceJSON` gives a char-level tokenizer: BPE without merges or pre-tokenizer, Fuse decoder. */
function isCharLevel(json: HuggingFaceTokenizerJson): boolean {
  return (
    json.model?.type === 'BPE' && Array.isArray(json.model.merges) && json.model.merges.length === 0 && !json.pre_tokenizer && json.decoder?.type === 'Fuse'
  );
}

/**
 * Whether a tokenizer.json (text or parsed) is char-level (as `toHuggingFaceJSON` writes a
 * `CharTokenizer`), to choose between `fromHuggingFaceCharLevel` and `fromHuggingFace`.
 */
export function isHuggingFaceCharLevel(tokenizerJson: string | object): boolean {
  return isCharLevel(parseHuggingFace(tokenizerJson));
}

/**
 * Loads a char-level tokenizer.json: a BPE model without merges, no normalizer or pre-tokenizer,
 * the Fuse decoder; the characters have ids 0 to n-1 and the added tokens the ids after them, in
 * order. Its `unk_token`, if it is one of the added tokens, is the `<unk>` token; otherwise a
 * character outside the vocabulary is an error (Hugging Face fails on it too, or drops it if
 * there is no `unk_token`, which this package never does).
 */
export function fromHuggingFaceCharLevel(tokenizerJson: string | object): CharTokenizer {
  const json = parseHuggingFace(tokenizerJson);
  if (!isCharLevel(json))
    throw new Error('tokenizer.json: not a char-level tokenizer (expected model BPE with no merges, no pre_tokenizer and the Fuse decoder)');
  if (json.normalizer) throw new Error(`tokenizer.json: a char-level tokenizer must have no normalizer, got ${JSON.stringify(json.normalizer).slice(0, 60)}`);
  const vocab = json.model!.vocab;
  if (typeof vocab !== 'object' || vocab === null || Array.isArray(vocab)) throw new Error('tokenizer.json: model.vocab must be an object of token -> id');
  const added = json.added_tokens ?? [];
  if (!Array.isArray(added)) throw new Error(`tokenizer.json: added_tokens must be an array, got ${JSON.stringify(added)?.slice(0, 60)}`);
  const specialNames = new Set(added.map((token) => (token as { content?: unknown } | null)?.content));
  const entries = Object.entries(vocab).filter(([token]) => !specialNames.has(token));
  const chars: string[] = [];
  for (const [token, id] of entries) {
    if ([...token].length !== 1) throw new Error(`tokenizer.json: char-level vocabulary entry ${JSON.stringify(token.slice(0, 40))} is not one character`);
    if (!Number.isInteger(id) || id < 0 || id >= entries.length || chars[id] !== undefined)
      throw new Error(
        `tokenizer.json: character ${JSON.stringify(token)} has id ${JSON.stringify(id)}; the ${entries.length} characters must have the distinct ids 0 to ${entries.length - 1}`,
      );
    chars[id] = token;
  }
  const specialTokens = [...added]
    .sort((a, b) => a.id - b.id)
    .map((token, i) => {
      if (token.id !== entries.length + i)
        throw new Error(
          `tokenizer.json: added token ${JSON.stringify(token.content)} has id ${JSON.stringify(token.id)}; char-level added tokens must have the ids after the ${entries.length} characters, from ${entries.length} on`,
        );
      return token.content;
    });
  const unk = json.model!.unk_token;
  return CharTokenizer.fromJSON({
    format: 'embedlab-tokenizer',
    version: 1,
    type: 'char',
    chars,
    specialTokens,
    unknownToken: typeof unk === 'string' && specialTokens.includes(unk) ? unk : null,
  });
}

function huggingFacePattern(pre: HuggingFaceTokenizerJson['pre_tokenizer']): string {
  const steps = pre?.type === 'Sequence' ? (pre.pretokenizers ?? []) : pre ? [pre] : [];
  const byteLevel = steps.find((step) => step?.type === 'ByteLevel');
  if (!byteLevel) throw new Error(`tokenizer.json: pre_tokenizer must be ByteLevel (byte-level BPE), got ${JSON.stringify(pre?.type ?? null)}`);
  if (byteLevel.add_prefix_space) throw new Error('tokenizer.json: ByteLevel add_prefix_space=true is not supported (GPT-2 uses false)');
  const others = steps.filter((step) => step !== byteLevel);
  const byteLevelSplits = byteLevel.use_regex !== false;
  if (others.length === 0 && byteLevelSplits) return GPT2_PATTERN;
  const split = others[0];
  if (others.length !== 1 || split?.type !== 'Split' || byteLevelSplits || steps.indexOf(split) > steps.indexOf(byteLevel))
    throw new Error(
      `tokenizer.json: unsupported pre_tokenizer ${JSON.stringify(steps.map((step) => step?.type))}: expected ByteLevel (use_regex true), or a Split followed by ByteLevel (use_regex false)`,
    );
  if (typeof split.pattern?.Regex !== 'string' || split.behavior !== 'Isolated' || split.invert)
    throw new Error(
      `tokenizer.json: the Split pre-tokenizer must have a Regex pattern, behavior "Isolated" and invert false, got ${JSON.stringify({ pattern: split.pattern, behavior: split.behavior, invert: split.invert })?.slice(0, 120)}`,
    );
  return split.pattern.Regex;
}

/**
 * Loads a Hugging Face `tokenizer.json` with a BPE model and a ByteLevel pre-tokenizer (GPT-2's),
 * or a Split with a regex before a ByteLevel that does not split (the pattern then is the Split's).
 */
export function fromHuggingFace(tokenizerJson: string | object): BpeTokenizer {
  const json = parseHuggingFace(tokenizerJson);
  const model = json.model;
  if (model?.type !== 'BPE') throw new Error(`tokenizer.json: model.type must be "BPE", got ${JSON.stringify(model?.type)}`);
  if (isCharLevel(json))
    throw new Error('tokenizer.json: this is a char-level tokenizer (no pre-tokenizer, no merges, Fuse decoder): load it with fromHuggingFaceCharLevel');
  const pattern = huggingFacePattern(json.pre_tokenizer);
  if (!model.vocab || !Array.isArray(model.merges)) throw new Error('tokenizer.json: model.vocab and model.merges are required');
  const merges = model.merges.map((merge, index) => {
    const pair = typeof merge === 'string' ? merge.split(' ') : merge;
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string')
      throw new Error(`tokenizer.json: model.merges[${index}] is not a pair of tokens: ${JSON.stringify(merge)?.slice(0, 60)}`);
    return pair as [string, string];
  });
  const addedTokens = json.added_tokens ?? [];
  if (!Array.isArray(addedTokens)) throw new Error(`tokenizer.json: added_tokens must be an array, got ${JSON.stringify(addedTokens)?.slice(0, 60)}`);
  const added: Record<string, number> = {};
  addedTokens.forEach((token, index) => {
    const content = (token as { content?: unknown } | null)?.content;
    if (typeof content !== 'string' || content === '')
      throw new Error(`tokenizer.json: added_tokens[${index}].content must be a non-empty string, got ${JSON.stringify(content)}`);
    added[content] = (token as { id: number }).id;
  });
  return fromVocabAndMerges('tokenizer.json', model.vocab, merges, { extraSpecial: added, pattern, unmergedAreTokens: model.ignore_merges === true });
}

/**
 * Reads the JSON that `toTiktoken` writes beside a rank file (`{ name, pat_str, special_tokens }`,
 * tiktoken's own argument names) into the options of `fromTiktoken`. The pattern and the ids are
 * checked when the tokenizer is built.
 */
export function readTiktokenSidecar(text: string): TiktokenOptions {
  const json = parseJson('tiktoken sidecar', text) as { pat_str?: unknown; special_tokens?: unknown } | null;
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new Error(`tiktoken sidecar: expected an object with pat_str and special_tokens, got ${JSON.stringify(json)?.slice(0, 60)}`);
  const { pat_str: pattern, special_tokens: specialTokens } = json;
  if (typeof pattern !== 'string') throw new Error(`tiktoken sidecar: pat_str must be a string, got ${JSON.stringify(pattern)?.slice(0, 60)}`);
  if (typeof specialTokens !== 'object' || specialTokens === null || Array.isArray(specialTokens))
    throw new Error(`tiktoken sidecar: special_tokens must be an object of token -> id, got ${JSON.stringify(specialTokens)?.slice(0, 60)}`);
  return { pattern, specialTokens: specialTokens as Record<string, number> };
}
