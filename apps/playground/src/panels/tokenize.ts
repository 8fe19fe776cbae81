import { type BpeTokenizer, CharTokenizer, fromHuggingFace, fromTiktoken, GPT2_SPECIAL_TOKENS, type Tokenizer, trainBpe } from '@embedlab/tokenizer';
import r50kUrl from 'gpt-tokenizer/data/r50k_base.tiktoken?url';
import { corpus, onCorpusChange } from '../corpus.js';
import { clearError, colourFor, element, field, select, showError } from '../ui.js';

let gpt2: BpeTokenizer | undefined;

/** GPT-2's vocabulary, from the rank file bundled at build time (an asset of this app). */
export async function loadBundledGpt2(): Promise<BpeTokenizer> {
  if (!gpt2) {
    const response = await fetch(r50kUrl);
    if (!response.ok) throw new Error(`could not load the GPT-2 vocabulary (${response.status})`);
    gpt2 = fromTiktoken(await response.text(), { specialTokens: GPT2_SPECIAL_TOKENS });
  }
  return gpt2;
}

export function mountTokenize(root: HTMLElement): void {
  const text = element('textarea', { id: 'tokenize-text', 'aria-label': 'Text to tokenize' }, 'Embeddings give every token a vector; positions tell it where it sits. 😀');
  const kind = select([['char', 'char-level (the corpus)'], ['bpe', 'BPE trained on the corpus (512)'], ['gpt2', 'GPT-2 (bundled r50k_base)'], ['file', 'GPT-2 from a file…']], 'gpt2');
  kind.id = 'tokenizer-kind';
  const file = element('input', { type: 'file', accept: '.tiktoken,.json', hidden: '' });
  const summary = element('p', { id: 'token-count', role: 'status' });
  const chips = element('div', { class: 'chips', id: 'token-chips' });
  let tokenizer: Tokenizer | undefined;
  const tokenizers = new Map<string, Tokenizer>();

  const render = () => {
    if (!tokenizer) return;
    try {
      const ids = tokenizer.encode(text.value, { disallowedSpecial: [] });
      summary.textContent = `${ids.length} tokens, ${[...text.value].length} characters, vocabulary ${tokenizer.vocabSize.toLocaleString('en-US')}`;
      chips.replaceChildren(
        ...ids.map((id) => {
          const piece = tokenizer!.kind === 'char' ? tokenizer!.idToToken(id) : new TextDecoder().decode(tokenizer!.tokenBytes(id));
          return element('span', { class: 'chip', style: `background:${colourFor(id)}`, title: `id ${id}: ${tokenizer!.idToToken(id)}` }, piece.replace(/\n/g, '⏎'), element('small', {}, String(id)));
        }),
      );
      clearError();
    } catch (error) {
      chips.replaceChildren();
      summary.textContent = '';
      showError(error);
    }
  };

  const choose = async () => {
    try {
      if (kind.value === 'file') {
        file.click();
        return;
      }
      const cached = tokenizers.get(kind.value);
      if (cached) tokenizer = cached;
      else {
        summary.textContent = 'loading…';
        tokenizer = kind.value === 'char' ? CharTokenizer.fromCorpus(corpus(), { unknown: 'unk' }) : kind.value === 'bpe' ? trainBpe(corpus(), { vocabSize: 512 }) : await loadBundledGpt2();
        tokenizers.set(kind.value, tokenizer);
      }
      render();
    } catch (error) {
      showError(error);
    }
  };

  file.addEventListener('change', async () => {
    const picked = file.files?.[0];
    if (!picked) return;
    try {
      const content = await picked.text();
      tokenizer = picked.name.endsWith('.json') ? fromHuggingFace(content) : fromTiktoken(content, { specialTokens: GPT2_SPECIAL_TOKENS });
      render();
    } catch (error) {
      showError(new Error(`${picked.name}: ${(error as Error).message}`));
    }
  });
  kind.addEventListener('change', choose);
  text.addEventListener('input', render);
  onCorpusChange(() => {
    tokenizers.delete('char');
    tokenizers.delete('bpe');
    void choose();
  });
  root.append(
    element('p', { class: 'note' }, 'Text in, integer ids out: each chip is one token, coloured by its id.'),
    element('div', { class: 'row' }, field('Tokenizer', kind), file),
    text,
    summary,
    chips,
  );
  void choose();
}
