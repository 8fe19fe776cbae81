// Hugging Face GPT-2 directories on disk: read (`gpt2` as published) and written (whole, into a
// directory claimed for it). Node only.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromGpt2Files, fromHuggingFace, fromHuggingFaceCharLevel, isHuggingFaceCharLevel, type Tokenizer, toHuggingFaceJSON } from '@embedlab/tokenizer';
import { checkFileSize, MAX_READ_BYTES, readTextCapped } from '../data/read-capped.js';
import type { MiniGPT } from '../model/model.js';
import { MAX_TOKENIZER_BYTES } from './checkpoint.js';
import { modelToHuggingFace } from './huggingface-export.js';
import { loadHuggingFaceGPT2 } from './huggingface-import.js';
import { OutputWriter, writeInPieces } from './output-directory.js';

/** The largest Hugging Face config.json read (GPT-2's is under 1 kB). */
const MAX_HF_CONFIG_BYTES = 1 << 20;

/**
 * A Hugging Face GPT-2 directory, as `gpt2` is published: `model.safetensors`, `config.json`,
 * and `tokenizer.json` or `vocab.json` + `merges.txt`.
 */
export function loadHuggingFaceDirectory(dir: string): { model: MiniGPT; tokenizer: Tokenizer } {
  const file = (name: string) => join(dir, name);
  for (const name of ['model.safetensors', 'config.json'])
    if (!existsSync(file(name))) throw new Error(`${dir} is not a Hugging Face GPT-2 directory: ${name} is missing`);
  // Every file is read whole, so each is capped before it is opened.
  const tokenizerFile = (name: string) => readTextCapped(file(name), MAX_TOKENIZER_BYTES, 'a tokenizer file');
  const config = readTextCapped(file('config.json'), MAX_HF_CONFIG_BYTES, 'a config.json');
  let tokenizer: Tokenizer;
  if (existsSync(file('tokenizer.json'))) {
    const json = tokenizerFile('tokenizer.json');
    tokenizer = isHuggingFaceCharLevel(json) ? fromHuggingFaceCharLevel(json) : fromHuggingFace(json);
  } else if (existsSync(file('vocab.json')) && existsSync(file('merges.txt')))
    tokenizer = fromGpt2Files(tokenizerFile('vocab.json'), tokenizerFile('merges.txt'));
  else throw new Error(`${dir} has no tokenizer: tokenizer.json, or vocab.json and merges.txt, are needed`);
  checkFileSize(file('model.safetensors'), MAX_READ_BYTES, 'a model file read at once');
  const model = loadHuggingFaceGPT2(new Uint8Array(readFileSync(file('model.safetensors'))), config);
  if (tokenizer.vocabSize > model.config.vocabSize) {
    model.dispose();
    throw new Error(`${dir}: the tokenizer has ${tokenizer.vocabSize} tokens but the model only ${model.config.vocabSize}`);
  }
  return { model, tokenizer };
}

/**
 * Writes `model` and `tokenizer` as a Hugging Face GPT-2 directory (`model.safetensors`,
 * `config.json`, `tokenizer.json` and `tokenizer_config.json`), whole or not at all: `dir` must
 * be new, empty, or (with `force`) a Hugging Face directory this package wrote, and is claimed
 * before anything is written. `signal` stops the writing and removes what was written. Returns
 * the notes of `modelToHuggingFace`; `loadHuggingFaceDirectory` reads the directory back.
 */
export async function saveHuggingFaceDirectory(
  dir: string,
  model: MiniGPT,
  tokenizer: Tokenizer,
  {
    force = false,
    source,
    signal,
  }: { force?: boolean /** The directory the model was read from: never replaced. */; source?: string; signal?: AbortSignal } = {},
): Promise<string[]> {
  const writer = OutputWriter.start(dir, { kind: 'Hugging Face directory', force, ...(source ? { sources: [source] } : {}) });
  try {
    const endOfTextId = tokenizer.specialTokens.get('<|endoftext|>');
    const { files, notes } = modelToHuggingFace(model, endOfTextId === undefined ? {} : { endOfTextId });
    // Hugging Face's decode would otherwise drop the space before punctuation: ids would not decode to their text.
    const endOfText = endOfTextId === undefined ? {} : { bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', unk_token: '<|endoftext|>' };
    const tokenizerConfig = {
      tokenizer_class: 'PreTrainedTokenizerFast',
      clean_up_tokenization_spaces: false,
      model_max_length: model.config.blockSize,
      ...endOfText,
    };
    const all = { ...files, 'tokenizer.json': toHuggingFaceJSON(tokenizer), 'tokenizer_config.json': `${JSON.stringify(tokenizerConfig, null, 2)}\n` };
    for (const [name, content] of Object.entries(all)) await writeInPieces(writer.path(name), content, signal);
    // config.json last: without it the directory is no model to any reader.
    writer.finish(Object.keys(all), 'config.json');
    return notes;
  } catch (error) {
    writer.abort();
    throw error;
  }
}
