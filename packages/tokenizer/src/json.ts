import { BpeTokenizer } from './bpe-tokenizer.js';
import { CharTokenizer } from './char-tokenizer.js';
import type { SerializedTokenizer, Tokenizer } from './types.js';

/** Restores any tokenizer saved with `toJSON()` (an object, or its JSON text). */
export function tokenizerFromJSON(json: SerializedTokenizer | string): Tokenizer {
  let value: unknown = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (error) {
      throw new Error(`tokenizer JSON: not valid JSON: ${(error as Error).message}`);
    }
  }
  const data = value as Partial<SerializedTokenizer> | null;
  if (data?.format !== 'embedlab-tokenizer') throw new Error(`tokenizer JSON: format must be "embedlab-tokenizer", got ${JSON.stringify(data?.format)}`);
  if (data.version !== 1) throw new Error(`tokenizer JSON: unsupported version ${JSON.stringify(data.version)} (this package reads version 1)`);
  switch (data.type) {
    case 'char':
      return CharTokenizer.fromJSON(data as SerializedTokenizer & { type: 'char' });
    case 'byte-bpe':
      return BpeTokenizer.fromJSON(data as SerializedTokenizer & { type: 'byte-bpe' });
    default:
      throw new Error(`tokenizer JSON: unknown type ${JSON.stringify((data as { type?: unknown }).type)} (expected "char" or "byte-bpe")`);
  }
}
