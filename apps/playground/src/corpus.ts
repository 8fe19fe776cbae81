// The corpus the panels share: the shipped names list, or a text file the person drops in.
import { namesCorpus } from '@embedlab/mini-gpt';

let current = namesCorpus();
const listeners: ((text: string) => void)[] = [];

export function corpus(): string {
  return current;
}

export function setCorpus(text: string): void {
  if (text.trim().length < 100) throw new Error(`that text has ${text.length} characters; a corpus needs at least 100`);
  current = text;
  for (const listener of listeners) listener(text);
}

export function onCorpusChange(listener: (text: string) => void): void {
  listeners.push(listener);
}
