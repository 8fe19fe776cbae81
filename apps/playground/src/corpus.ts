// The corpus the panels share: the shipped names list, or a text file the person drops in.
import { namesCorpus } from '@embedlab/mini-gpt';
import { plural } from './ui.js';

let current = namesCorpus();
let currentName = 'names';
const listeners: ((text: string) => void)[] = [];

/** Characters that are not whitespace a corpus needs (a BPE needs more text to learn merges from). */
export const MIN_CHARACTERS = { char: 100, bpe: 2000 } as const;

export function corpus(): string {
  return current;
}

/** The corpus's name: "names" (shipped) or the file's name. */
export function corpusName(): string {
  return currentName;
}

/** Characters that are not whitespace. */
export function visibleCharacters(text: string): number {
  let count = 0;
  for (const c of text) if (!/\s/.test(c)) count++;
  return count;
}

/**
 * Reads a file as a text corpus: UTF-8, or UTF-16 with a byte-order mark. Refuses what is not text
 * (an image, a binary: invalid UTF-8 or NUL bytes), saying so of UTF-16 without a mark, and text
 * too short to train on.
 */
export async function readCorpusFile(file: File): Promise<string> {
  if (file.size > 50_000_000) throw new Error(`${file.name} is ${(file.size / 1e6).toFixed(0)} MB; the playground takes text files up to 50 MB`);
  const bytes = new Uint8Array(await file.arrayBuffer());
  const encoding = bytes[0] === 0xff && bytes[1] === 0xfe ? 'utf-16le' : bytes[0] === 0xfe && bytes[1] === 0xff ? 'utf-16be' : 'utf-8';
  if (encoding === 'utf-8' && looksLikeUtf16(bytes))
    throw new Error(`${file.name} looks like UTF-16 text without a byte-order mark; save it as UTF-8 (or as UTF-16 with its mark)`);
  let text: string;
  try {
    text = new TextDecoder(encoding, { fatal: true }).decode(bytes);
  } catch {
    throw new Error(
      encoding === 'utf-8'
        ? `${file.name} is not a UTF-8 text file${file.type ? ` (the browser says ${file.type})` : ''}; choose a .txt file`
        : `${file.name} starts with a ${encoding.toUpperCase()} byte-order mark but is not valid ${encoding.toUpperCase()} text; save it as UTF-8`,
    );
  }
  if (text.includes('\u0000')) throw new Error(`${file.name} holds NUL bytes: it looks like a binary file, not text; choose a .txt file`);
  const visible = visibleCharacters(text);
  if (visible < MIN_CHARACTERS.char)
    throw new Error(
      `${file.name} has ${plural(visible, 'character')} that ${visible === 1 ? 'is' : 'are'} not whitespace; a corpus needs at least ${MIN_CHARACTERS.char}`,
    );
  return text;
}

/**
 * UTF-16 text of mostly Latin script has a zero in every other byte: at odd offsets
 * (little-endian) or even ones, and few on the other side (emoji and other characters past U+FFFF add some).
 */
function looksLikeUtf16(bytes: Uint8Array): boolean {
  const zeros = [0, 0];
  const sample = Math.min(bytes.length, 65_536);
  for (let i = 0; i < sample; i++) if (bytes[i] === 0) zeros[i % 2]!++;
  return Math.max(zeros[0]!, zeros[1]!) > sample / 4 && Math.min(zeros[0]!, zeros[1]!) < Math.max(zeros[0]!, zeros[1]!) / 8;
}

export function setCorpus(text: string, name: string): void {
  current = text;
  currentName = name;
  for (const listener of listeners) listener(text);
}

export function onCorpusChange(listener: (text: string) => void): void {
  listeners.push(listener);
}
