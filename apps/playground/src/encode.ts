// Long text encoded a slice at a time, so that whoever encodes it can yield, report progress or give up between slices.
import type { Tokenizer } from '@embedlab/tokenizer';

/** Characters (UTF-16 units) encoded per slice. */
export const SLICE = 20_000;

/**
 * Encodes `text` in slices cut where whitespace follows a non-space character (the
 * pre-tokenizers of these tokenizers always split there, so the ids are those of the whole text).
 * After each slice, `between(done)` is told how much of the text is encoded; it may wait (give the
 * page a turn), and ends the encoding by returning false (newer text replaced this one).
 */
export async function encodeInSlices(tokenizer: Tokenizer, text: string, between: (done: number) => boolean | Promise<boolean>): Promise<number[] | undefined> {
  if (text.length <= SLICE) return tokenizer.encode(text, { disallowedSpecial: [] });
  const ids: number[] = [];
  let at = 0;
  while (at < text.length) {
    let end = Math.min(text.length, at + SLICE);
    if (end < text.length) {
      // Cut where whitespace follows something else: no token spans such a point.
      let cut = end;
      while (cut > at && !(/\s/.test(text[cut]!) && !/\s/.test(text[cut - 1]!))) cut--;
      end = cut > at ? cut : text.length;
    }
    for (const id of tokenizer.encode(text.slice(at, end), { disallowedSpecial: [] })) ids.push(id);
    at = end;
    if (!(await between(at))) return undefined;
  }
  return ids;
}
