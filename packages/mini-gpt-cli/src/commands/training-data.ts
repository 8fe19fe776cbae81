import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type DataSource, namesCorpus } from '@embedlab/mini-gpt';
import { isTokenDirectory, openTokenDirectory, readCorpus, type TokenDirectory } from '@embedlab/mini-gpt/node';
import type { Tokenizer } from '@embedlab/tokenizer';

/** What a run trains on: a text read whole, or a token directory read by offsets (close it when done). */
export type TrainingData = { source: DataSource; corpus: string; tokens?: undefined } | { source: DataSource; tokens: TokenDirectory; corpus?: undefined };

export function sameTokenizer(a: Tokenizer, b: Tokenizer): boolean {
  return JSON.stringify(a.toJSON()) === JSON.stringify(b.toJSON());
}

/** Whether a token directory says which tokenizer made it (nanoGPT's own directories do not). */
export function namesItsTokenizer(dir: string): boolean {
  return existsSync(join(dir, 'meta.json'));
}

/**
 * `--data PATH` for a new run: a token directory (`minigpt prepare`'s, whose tokenizer it brings;
 * or nanoGPT's, read with the tokenizer of a `gpt2:FILE` --tokenizer), or text.
 */
export function openTrainingData(path: string, tokenizer: { given: boolean; spec: string; make: () => Tokenizer }): TrainingData {
  if (!isTokenDirectory(path)) return { source: { kind: 'file', path: resolve(path) }, corpus: readCorpus(path) };
  const source: DataSource = { kind: 'tokens', path: resolve(path) };
  if (namesItsTokenizer(path)) {
    if (tokenizer.given) throw new Error(`--tokenizer cannot be chosen for ${path}: its meta.json names the tokenizer that made its ids`);
    return { source, tokens: openTokenDirectory(path) };
  }
  // nanoGPT's directories do not say what made their ids: a tokenizer read from a file must.
  if (!tokenizer.given || !tokenizer.spec.startsWith('gpt2:')) return { source, tokens: openTokenDirectory(path) };
  return { source, tokens: openTokenDirectory(path, { tokenizer: tokenizer.make() }) };
}

/** The data a checkpoint continues on: `path` (or what the checkpoint recorded), with ids of the checkpoint's tokenizer. */
export function resumeData(path: string | undefined, recorded: DataSource | undefined, tokenizer: Tokenizer): TrainingData {
  if (path === undefined) {
    if (!recorded) throw new Error('the checkpoint does not say what text it was trained on; give --data FILE|DIR');
    if (recorded.kind === 'builtin') {
      if (recorded.name !== 'names')
        throw new Error(`the checkpoint was trained on a built-in corpus ${JSON.stringify(recorded.name)} this version does not have; give --data`);
      return { source: recorded, corpus: namesCorpus() };
    }
    if (!existsSync(recorded.path)) throw new Error(`the checkpoint was trained on ${recorded.path}, which is gone; give --data FILE|DIR`);
    path = recorded.path;
  }
  if (!isTokenDirectory(path)) return { source: { kind: 'file', path: resolve(path) }, corpus: readCorpus(path) };
  const tokens = openTokenDirectory(path, namesItsTokenizer(path) ? {} : { tokenizer });
  if (!sameTokenizer(tokens.tokenizer, tokenizer)) {
    tokens.close();
    throw new Error(`${path} was tokenized by another tokenizer than the checkpoint's; prepare the text with it (minigpt prepare --tokenizer CHECKPOINT_DIR)`);
  }
  return { source: { kind: 'tokens', path: resolve(path) }, tokens };
}

export function describeData(data: DataSource): string {
  return data.kind === 'builtin' ? `the built-in ${data.name} corpus` : data.path;
}
