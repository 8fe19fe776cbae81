/**
 * GPT-2's reversible map from the 256 byte values to printable Unicode characters: printable
 * Latin-1 bytes map to themselves, the other 68 to U+0100 onwards in byte order. It is how
 * `encoder.json`, `vocab.bpe` and Hugging Face's ByteLevel vocabularies spell byte tokens
 * (a leading space shows as `Ġ`, U+0120).
 */
function buildByteToUnicode(): string[] {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const table: string[] = [];
  let next = 0;
  for (let b = 0; b < 256; b++) table.push(String.fromCodePoint(printable(b) ? b : 256 + next++));
  return table;
}

export const BYTE_TO_UNICODE: readonly string[] = buildByteToUnicode();
const UNICODE_TO_BYTE = new Map(BYTE_TO_UNICODE.map((c, b) => [c, b]));

/** Bytes to GPT-2's printable spelling. */
export function bytesToPrintable(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += BYTE_TO_UNICODE[b];
  return out;
}

/** GPT-2's printable spelling back to bytes, or undefined if a character is not in the map. */
export function printableToBytes(token: string): Uint8Array | undefined {
  const bytes: number[] = [];
  for (const c of token) {
    const b = UNICODE_TO_BYTE.get(c);
    if (b === undefined) return undefined;
    bytes.push(b);
  }
  return Uint8Array.from(bytes);
}
