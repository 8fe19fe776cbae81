import type { Tokenizer } from './types.js';

/**
 * Decodes ids one at a time for a sampler that prints as it goes. A token can end in the middle
 * of a UTF-8 sequence (GPT-2 splits many emoji and CJK characters across tokens); the decoder
 * holds those bytes back until the character is complete, so no broken character is printed.
 */
export class StreamingDecoder {
  private readonly decoder = new TextDecoder('utf-8');

  constructor(private readonly tokenizer: Pick<Tokenizer, 'tokenBytes'>) {}

  /** The text that the id completes (possibly empty while a character is unfinished). */
  push(id: number): string {
    return this.decoder.decode(this.tokenizer.tokenBytes(id), { stream: true });
  }

  /** Ends the stream: bytes of a character that never completed come out as U+FFFD. */
  flush(): string {
    return this.decoder.decode();
  }
}

/** Turns a stream of ids (e.g. a sampler's) into a stream of printable text pieces. */
export async function* decodeStream(
  tokenizer: Pick<Tokenizer, 'tokenBytes'>,
  ids: AsyncIterable<number> | Iterable<number>,
): AsyncGenerator<string, void, undefined> {
  const decoder = new StreamingDecoder(tokenizer);
  for await (const id of ids) {
    const text = decoder.push(id);
    if (text) yield text;
  }
  const rest = decoder.flush();
  if (rest) yield rest;
}
