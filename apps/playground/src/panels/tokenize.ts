import { type BpeTokenizer, CharTokenizer, fromHuggingFace, fromTiktoken, GPT2_SPECIAL_TOKENS, type Tokenizer, trainBpe } from '@embedlab/tokenizer';
import r50kUrl from 'gpt-tokenizer/data/r50k_base.tiktoken?url';
import { corpus, onCorpusChange } from '../corpus.js';
import { clearError, colourFor, element, errorBox, field, plural, select, showError, visible } from '../ui.js';

let gpt2: BpeTokenizer | undefined;

/** Chips drawn at once; the rest are counted, and drawn a page at a time on request. */
const PAGE = 500;
/** Pause after the last keystroke before encoding again. */
const DEBOUNCE_MS = 200;
/** Text encoded per slice before the page gets a turn (the tab stays responsive on a megabyte). */
const SLICE = 20_000;
/** The corpus prefix a BPE is trained on here (training on megabytes would hold the page). */
const BPE_TRAINING_CHARACTERS = 200_000;

/** GPT-2's vocabulary, from the rank file bundled at build time (an asset of this app). */
export async function loadBundledGpt2(): Promise<BpeTokenizer> {
  if (!gpt2) {
    const response = await fetch(r50kUrl);
    if (!response.ok) throw new Error(`could not load the GPT-2 vocabulary (${response.status})`);
    gpt2 = fromTiktoken(await response.text(), { specialTokens: GPT2_SPECIAL_TOKENS });
  }
  return gpt2;
}

const nextTurn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * Encodes long text in slices cut where whitespace follows a non-space character (the
 * pre-tokenizers of these tokenizers always split there, so the ids are those of the whole text),
 * giving the page a turn between slices; `isCurrent` ends an encoding that newer text replaced.
 */
async function encodeInSlices(tokenizer: Tokenizer, text: string, isCurrent: () => boolean): Promise<number[] | undefined> {
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
    await nextTurn();
    if (!isCurrent()) return undefined;
  }
  return ids;
}

export function mountTokenize(root: HTMLElement): void {
  const text = element(
    'textarea',
    { id: 'tokenize-text', 'aria-label': 'Text to tokenize' },
    'Embeddings give every token a vector; positions tell it where it sits. 😀',
  );
  const kind = select(
    [
      ['char', 'char-level (the corpus)'],
      ['bpe', 'BPE trained on the corpus (512)'],
      ['gpt2', 'GPT-2 (bundled r50k_base)'],
      ['file', 'GPT-2 from a file…'],
    ],
    'gpt2',
  );
  kind.id = 'tokenizer-kind';
  const file = element('input', { type: 'file', accept: '.tiktoken,.json', hidden: '', id: 'tokenizer-file' });
  const error = errorBox('tokenize-error');
  const summary = element('p', { id: 'token-count', role: 'status' });
  const chips = element('div', { class: 'chips', id: 'token-chips' });
  const more = element('button', { id: 'token-more', hidden: '' }, 'Show more tokens');
  let tokenizer: Tokenizer | undefined;
  let chosen = kind.value;
  const tokenizers = new Map<string, Tokenizer>();
  let generation = 0;
  let ids: number[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;

  const chip = (id: number) => {
    const piece = tokenizer!.kind === 'char' ? tokenizer!.idToToken(id) : new TextDecoder().decode(tokenizer!.tokenBytes(id));
    return element(
      'span',
      { class: 'chip', style: `background:${colourFor(id)}`, title: `id ${id}: ${JSON.stringify(tokenizer!.idToToken(id))}` },
      visible(piece),
      element('small', {}, String(id)),
    );
  };

  const drawMore = () => {
    const shown = chips.childElementCount;
    const next = ids.slice(shown, shown + PAGE);
    chips.append(...next.map(chip));
    more.hidden = chips.childElementCount >= ids.length;
    more.textContent = `Show ${Math.min(PAGE, ids.length - chips.childElementCount).toLocaleString('en-US')} more (${(ids.length - chips.childElementCount).toLocaleString('en-US')} not shown)`;
  };

  const render = async () => {
    clearTimeout(timer);
    if (!tokenizer) return;
    const mine = ++generation;
    const value = text.value;
    try {
      if (value.length > SLICE) summary.textContent = `encoding ${plural(value.length, 'character')}…`;
      const encoded = await encodeInSlices(tokenizer, value, () => mine === generation);
      if (!encoded) return;
      ids = encoded;
      let characters = 0;
      for (const _ of value) characters++;
      summary.textContent = `${plural(ids.length, 'token')}, ${plural(characters, 'character')}, vocabulary ${tokenizer.vocabSize.toLocaleString('en-US')}${ids.length > PAGE ? ` (the first ${PAGE.toLocaleString('en-US')} shown)` : ''}`;
      chips.replaceChildren();
      drawMore();
      clearError(error);
    } catch (problem) {
      chips.replaceChildren();
      more.hidden = true;
      summary.textContent = '';
      showError(error, problem);
    }
  };
  const renderSoon = () => {
    clearTimeout(timer);
    timer = setTimeout(render, DEBOUNCE_MS);
  };

  const choose = async () => {
    try {
      if (kind.value === 'file') {
        file.click();
        return;
      }
      chosen = kind.value;
      const cached = tokenizers.get(kind.value);
      if (cached) tokenizer = cached;
      else {
        summary.textContent = 'loading…';
        const text = corpus();
        tokenizer =
          kind.value === 'char'
            ? CharTokenizer.fromCorpus(text, { unknown: 'unk' })
            : kind.value === 'bpe'
              ? trainBpe(text.slice(0, BPE_TRAINING_CHARACTERS), { vocabSize: 512 })
              : await loadBundledGpt2();
        tokenizers.set(kind.value, tokenizer);
      }
      await render();
    } catch (problem) {
      showError(error, problem);
    }
  };

  // A cancelled or failed file choice goes back to the tokenizer in use.
  const back = () => {
    kind.value = chosen;
  };
  file.addEventListener('cancel', back);
  file.addEventListener('change', async () => {
    const picked = file.files?.[0];
    if (!picked) return back();
    try {
      const content = await picked.text();
      tokenizer = picked.name.endsWith('.json') ? fromHuggingFace(content) : fromTiktoken(content, { specialTokens: GPT2_SPECIAL_TOKENS });
      chosen = 'file';
      kind.options[3]!.textContent = `GPT-2 from a file: ${picked.name}`;
      await render();
    } catch (problem) {
      back();
      showError(error, new Error(`${picked.name}: ${(problem as Error).message} (still using ${kind.options[kind.selectedIndex]!.textContent})`));
    } finally {
      file.value = '';
    }
  });
  kind.addEventListener('change', choose);
  text.addEventListener('input', renderSoon);
  more.addEventListener('click', drawMore);
  onCorpusChange(() => {
    tokenizers.delete('char');
    tokenizers.delete('bpe');
    if (kind.value === 'char' || kind.value === 'bpe') void choose();
  });
  root.append(
    element('p', { class: 'note' }, 'Text in, integer ids out: each chip is one token, coloured by its id (␣ is a space, ⏎ a newline).'),
    element('div', { class: 'row' }, field('Tokenizer', kind), file),
    error,
    text,
    summary,
    chips,
    more,
  );
  void choose();
}
