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
 * Reads a file as a UTF-8 text corpus, refusing what is not text (an image, a binary: invalid
 * UTF-8 or NUL bytes) and text too short to train on.
 */
export async function readCorpusFile(file: File): Promise<string> {
  if (file.size > 50_000_000) throw new Error(`${file.name} is ${(file.size / 1e6).toFixed(0)} MB; the playground takes text files up to 50 MB`);
  const bytes = new Uint8Array(await file.arrayBuffer());
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new Error(`${file.name} is not a UTF-8 text file${file.type ? ` (the browser says ${file.type})` : ''}; choose a .txt file`);
  }
  if (text.includes('\u0000')) throw new Error(`${file.name} holds NUL bytes: it looks like a binary file, not text; choose a .txt file`);
  const visible = visibleCharacters(text);
  if (visible < MIN_CHARACTERS.char)
    throw new Error(
      `${file.name} has ${plural(visible, 'character')} that ${visible === 1 ? 'is' : 'are'} not whitespace; a corpus needs at least ${MIN_CHARACTERS.char}`,
    );
  return text;
}

export function setCorpus(text: string, name: string): void {
  current = text;
  currentName = name;
  for (const listener of listeners) listener(text);
}

export function onCorpusChange(listener: (text: string) => void): void {
  listeners.push(listener);
}
