import {
  type BpeTokenizer,
  CharTokenizer,
  fromHuggingFace,
  fromHuggingFaceCharLevel,
  fromTiktoken,
  GPT2_SPECIAL_TOKENS,
  isHuggingFaceCharLevel,
  type Tokenizer,
  tokenizerFromJSON,
  trainBpe,
} from '@embedlab/tokenizer';
import r50kUrl from 'gpt-tokenizer/data/r50k_base.tiktoken?url';
import { corpus, onCorpusChange } from '../corpus.js';
import { encodeInSlices, SLICE } from '../encode.js';
import { characters, clearError, colourFor, element, errorBox, field, plural, select, showError, visible } from '../ui.js';

let gpt2: BpeTokenizer | undefined;

/** Chips drawn at once; the rest are counted, and drawn a page at a time on request. */
const PAGE = 500;
/** Pause after the last keystroke before encoding again. */
const DEBOUNCE_MS = 200;
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

/**
 * A tokenizer file as the app, the minigpt CLI or Hugging Face write it: a checkpoint's
 * `tokenizer.json` (embedlab's own format), a Hugging Face `tokenizer.json` (byte-level BPE, or
 * the char-level one an export writes), or a `.tiktoken` rank file of GPT-2's vocabulary.
 */
function tokenizerFromFile(name: string, content: string): Tokenizer {
  if (!name.endsWith('.json')) return fromTiktoken(content, { specialTokens: GPT2_SPECIAL_TOKENS });
  if (/^\s*\{\s*"format"\s*:\s*"embedlab-tokenizer"/.test(content)) return tokenizerFromJSON(content);
  return isHuggingFaceCharLevel(content) ? fromHuggingFaceCharLevel(content) : fromHuggingFace(content);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
/** Bytes that start a character of 1 to 4 bytes in UTF-8 (0: a continuation byte or invalid). */
const utf8Length = (byte: number) =>
  byte < 0x80 ? 1 : byte >= 0xc2 && byte < 0xe0 ? 2 : byte >= 0xe0 && byte < 0xf0 ? 3 : byte >= 0xf0 && byte < 0xf5 ? 4 : 0;

/**
 * A token's bytes as text; bytes that are only part of a character (a byte-level token may split
 * an emoji) show as hex, `<F0>`, as tokenizer viewers show them, instead of all becoming "�".
 */
export function tokenPiece(bytes: Uint8Array): string {
  let text = '';
  let at = 0;
  while (at < bytes.length) {
    const length = utf8Length(bytes[at]!);
    if (length > 0 && at + length <= bytes.length) {
      try {
        text += strictUtf8.decode(bytes.subarray(at, at + length));
        at += length;
        continue;
      } catch {
        // Not a whole character: shown as hex below.
      }
    }
    text += `<${bytes[at]!.toString(16).toUpperCase().padStart(2, '0')}>`;
    at++;
  }
  return text;
}

const nextTurn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

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
      ['file', 'from a file'],
    ],
    'gpt2',
  );
  kind.id = 'tokenizer-kind';
  // Chosen once a file is open: a picker opened from a select would open while arrowing through it.
  const fileOption = kind.querySelector<HTMLOptionElement>('option[value="file"]')!;
  fileOption.hidden = true;
  fileOption.disabled = true;
  const file = element('input', { type: 'file', accept: '.tiktoken,.json', hidden: '', id: 'tokenizer-file' });
  const open = element('button', { type: 'button', id: 'tokenizer-open' }, 'Open a tokenizer file…');
  const error = errorBox('tokenize-error');
  const summary = element('p', { id: 'token-count', role: 'status' });
  const chips = element('div', { class: 'chips', id: 'token-chips' });
  const more = element('button', { id: 'token-more', hidden: '' }, 'Show more tokens');
  let tokenizer: Tokenizer | undefined;
  const tokenizers = new Map<string, Tokenizer>();
  let generation = 0;
  let ids: number[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;

  const chip = (id: number) => {
    const piece = tokenizer!.kind === 'char' ? tokenizer!.idToToken(id) : tokenPiece(tokenizer!.tokenBytes(id));
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
      const encoded = await encodeInSlices(tokenizer, value, async () => {
        await nextTurn();
        return mine === generation;
      });
      if (!encoded) return;
      ids = encoded;
      summary.textContent = `${plural(ids.length, 'token')}, ${plural(characters(value), 'character')}, vocabulary ${tokenizer.vocabSize.toLocaleString('en-US')}${ids.length > PAGE ? ` (the first ${PAGE.toLocaleString('en-US')} shown)` : ''}`;
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

  // A failed file leaves the tokenizer in use as it was.
  file.addEventListener('change', async () => {
    const picked = file.files?.[0];
    if (!picked) return;
    try {
      const loaded = tokenizerFromFile(picked.name, await picked.text());
      tokenizers.set('file', loaded);
      tokenizer = loaded;
      Object.assign(fileOption, { hidden: false, disabled: false, textContent: `from a file: ${picked.name}` });
      kind.value = 'file';
      await render();
    } catch (problem) {
      const message = (problem as Error).message;
      // The loaders name the file already when they know it ("tokenizer.json: ...").
      const named = message.startsWith(`${picked.name}:`) ? message : `${picked.name}: ${message}`;
      showError(error, new Error(`${named} (still using ${kind.options[kind.selectedIndex]!.textContent})`));
    } finally {
      file.value = '';
    }
  });
  open.addEventListener('click', () => file.click());
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
    element('div', { class: 'row' }, field('Tokenizer', kind), open, file),
    error,
    text,
    summary,
    chips,
    more,
  );
  void choose();
}
