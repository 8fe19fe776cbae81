import { LearnedPositionalEmbedding } from '@embedlab/positional-encodings';
import { tf } from '@embedlab/runtime';
import { TokenEmbedding } from '@embedlab/token-embedding';
import { CharTokenizer } from '@embedlab/tokenizer';
import { chart, heatmap } from '../charts.js';
import { corpus, corpusName, onCorpusChange } from '../corpus.js';
import { positionNote, tiedNote } from '../first-layer.js';
import type { SequenceRows } from '../protocol.js';
import { clearError, clearOnChange, element, errorBox, field, numberInput, readInteger, select, short, showError, visible } from '../ui.js';
import { listen, send } from '../worker-client.js';
import { drawSequence } from './sequence.js';

/** The panel's own position table's rows, and so the longest prompt its picture shows. */
const OWN_CONTEXT = 16;
/** Pause after the last keystroke before the prompt's picture is drawn again. */
const DEBOUNCE_MS = 200;

const SIZES: [string, number, number, number][] = [
  ['GPT-2 small', 50257, 768, 1024],
  ['GPT-2 XL', 50257, 1600, 1024],
  ['GPT-3 175B', 50257, 12288, 2048],
];

export function mountEmbed(root: HTMLElement): void {
  let tokenizer = CharTokenizer.fromCorpus(corpus());
  const dim = select(
    [
      ['8', '8'],
      ['16', '16'],
      ['32', '32'],
    ],
    '16',
  );
  dim.id = 'embed-dim';
  const token = element('select', { id: 'embed-token' });
  const position = Object.assign(numberInput(3, 0, 15), { id: 'embed-position' });
  const error = errorBox('embed-error');
  const source = element('p', { class: 'note', id: 'embed-corpus' });
  const rows = element('div', { class: 'chart', id: 'embed-rows' });
  const table = element('div', { class: 'chart', id: 'embed-table' });
  const counts = element('table', { id: 'embed-counts' });
  const prompt = element('input', { type: 'text', id: 'embed-prompt', value: 'emma', size: '24' });
  const sequence = element('div', { id: 'embed-sequence' });
  const readout = element('p', { class: 'note', id: 'embed-readout', role: 'status' });
  const sequenceError = errorBox('embed-sequence-error');
  // Once a model is trained or loaded, the picture shows its numbers (the worker holds it).
  let modelInUse = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let wte: TokenEmbedding | undefined;
  let wpe: LearnedPositionalEmbedding | undefined;

  const fillTokens = () => {
    const ids = Array.from({ length: tokenizer.vocabSize }, (_, id) => id);
    token.replaceChildren(...ids.map((id) => element('option', { value: String(id) }, `${visible(tokenizer.idToToken(id))} (id ${id})`)));
    token.value = String(Math.min(4, tokenizer.vocabSize - 1));
    source.textContent = `char tokens of the corpus in use (${corpusName()}): ${tokenizer.vocabSize} rows`;
  };

  const rebuild = () => {
    wte?.dispose();
    wpe?.dispose();
    wte = new TokenEmbedding({ vocabSize: tokenizer.vocabSize, dim: Number(dim.value), seed: 1, init: { kind: 'normal', std: 0.5 } });
    wpe = new LearnedPositionalEmbedding({ maxLength: 16, dim: Number(dim.value), seed: 2, init: { kind: 'normal', std: 0.5 } });
    heatmap(table, `token embedding table wte: ${tokenizer.vocabSize} x ${dim.value}`, wte.weight.arraySync() as number[][], { x: 'dimension', y: 'token id' });
    const d = Number(dim.value);
    const line = (name: string, v: number, c: number, t: number) =>
      element('tr', {}, element('td', {}, name), element('td', {}, (v * c).toLocaleString('en-US')), element('td', {}, (t * c).toLocaleString('en-US')));
    counts.replaceChildren(
      element('tr', {}, element('th', {}, 'model'), element('th', {}, 'wte (vocab x dim)'), element('th', {}, 'wpe (context x dim)')),
      line(`this table (${tokenizer.vocabSize} x ${d})`, tokenizer.vocabSize, d, 16),
      ...SIZES.map(([name, v, c, t]) => line(name, v, c, t)),
    );
    update();
    drawPrompt();
  };

  /** The panel's own tables for the prompt, until a model is in use: char tokens of the corpus, learned positions. */
  const ownRows = (text: string): SequenceRows => {
    if (!tokenizer.canEncode(text)) throw new Error(`prompt: ${JSON.stringify(text)} has characters that are not in the corpus (${corpusName()})`);
    const encoded = tokenizer.encode(text);
    const ids = encoded.slice(0, OWN_CONTEXT);
    if (ids.length === 0) throw new Error('prompt: it has no tokens; write at least one character');
    const [tokenRows, positionRows] = tf.tidy(() => [wte!.apply(ids).arraySync() as number[][], wpe!.apply(ids.length).arraySync() as number[][]]);
    return {
      source: 'Random tables of this panel (wte seed 1, wpe seed 2) until a model is trained or loaded',
      tokens: ids.map((id) => tokenizer.idToToken(id)),
      ids,
      wte: tokenRows!,
      wpe: positionRows,
      positionNote: positionNote('learned'),
      tiedNote: tiedNote(true),
      given: encoded.length,
      context: OWN_CONTEXT,
    };
  };

  const drawPrompt = () => {
    clearTimeout(timer);
    if (modelInUse) return send({ type: 'embed-rows', prompt: prompt.value });
    try {
      drawSequence(sequence, readout, ownRows(prompt.value));
      clearError(sequenceError);
    } catch (problem) {
      showError(sequenceError, problem);
    }
  };

  const update = () => {
    try {
      const p = readInteger(position, 'Position');
      const [tokenRow, positionRow, sum] = tf.tidy(() => {
        const t = wte!.apply([Number(token.value)]);
        const q = wpe!.apply(1, { offset: p });
        return [t, q, tf.add(t, q)].map((x) => Array.from(x.dataSync()));
      }) as [number[], number[], number[]];
      const dims = tokenRow.map((_, i) => String(i));
      const name = visible(tokenizer.idToToken(Number(token.value)));
      chart(
        rows,
        {
          title: { text: `x = wte[${token.value}] + wpe[${p}]  (what + where)` },
          tooltip: { trigger: 'axis' },
          legend: { bottom: 0 },
          grid: { top: 40, bottom: 60, left: 45, right: 10 },
          xAxis: { type: 'category', data: dims, name: 'dimension', nameLocation: 'middle', nameGap: 22 },
          yAxis: { type: 'value', name: 'value', axisLabel: { formatter: short } },
          series: [
            { name: `token ${name}`, type: 'bar', data: tokenRow },
            { name: `position ${p}`, type: 'bar', data: positionRow },
            { name: 'sum', type: 'bar', data: sum },
          ],
        },
        `bars per dimension for token ${name} (row ${token.value} of wte), position ${p} (row ${p} of wpe) and their sum; sum: ${sum.map(short).join(', ')}`,
      );
    } catch (problem) {
      showError(error, problem);
    }
  };

  listen((message) => {
    if (message.type === 'model') {
      modelInUse = true;
      drawPrompt();
    } else if (message.type === 'embed-rows') {
      drawSequence(sequence, readout, message.rows);
      clearError(sequenceError);
    } else if (message.type === 'error' && message.source === 'embed') showError(sequenceError, message.message);
  });
  prompt.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(drawPrompt, DEBOUNCE_MS);
  });
  dim.addEventListener('change', rebuild);
  token.addEventListener('change', update);
  position.addEventListener('input', update);
  // A corpus chosen on the Train panel gives this panel its characters too.
  onCorpusChange((text) => {
    tokenizer = CharTokenizer.fromCorpus(text);
    fillTokens();
    rebuild();
  });
  clearOnChange(root, error);
  root.append(
    element('p', { class: 'note' }, 'A token id picks a row of the token table; its position picks a row of the position table; the model adds them.'),
    element('div', { class: 'row' }, field('Token', token), field('Position (0-15)', position), field('Dimensions', dim)),
    error,
    source,
    element('div', { class: 'grid2' }, rows, table),
    element('h3', {}, 'A whole prompt through the first layer'),
    element(
      'p',
      { class: 'note' },
      'Each token of the prompt is a column: its id picks a row of wte, its position a row of wpe, and their sum x is what the first block reads. Each strip is one row, a cell per dimension (blue negative, red positive).',
    ),
    element('div', { class: 'row' }, field('Prompt', prompt)),
    sequenceError,
    sequence,
    readout,
    element('h3', {}, 'Parameters of the two tables'),
    counts,
  );
  fillTokens();
  rebuild();
}
