// The seeds' whole picture for a prompt: text → tokens → ids → rows of wte, plus rows of wpe (or
// nothing added, for RoPE, ALiBi and no positions) → the input of the first block, one column a
// token, each row a strip of one cell per dimension.
import type { SequenceRows } from '../protocol.js';
import { colourFor, element, short, visible } from '../ui.js';

/** Pixels a strip is tall (its dimensions share them), at most and at least. */
const STRIP_HEIGHT = { max: 192, min: 48 };
/** The row that says nothing is added (RoPE, ALiBi, no positions) stays short. */
const NONE_HEIGHT = 24;
const HINT = 'Hover over a strip, or focus it and use the arrows, to read a cell.';

/** Blue for negative, white for zero, red for positive: the heatmaps' scale. */
function diverging(value: number, scale: number): string {
  const t = Math.max(-1, Math.min(1, value / scale));
  const [r, g, b] = t < 0 ? [49, 54, 149] : [165, 0, 38];
  const mix = (c: number) => Math.round(247 + (c - 247) * Math.abs(t));
  return `rgb(${mix(r)} ${mix(g)} ${mix(b)})`;
}

interface Strip {
  name: string;
  values: number[];
  describe: (dimension: number) => string;
}

/**
 * Draws `rows` into `root`: the note on where the numbers come from, then a sideways-scrolling
 * grid of one column per token. Hovering or focusing a strip (arrows move through its
 * dimensions) shows the cell's value in `readout`.
 */
export function drawSequence(root: HTMLElement, readout: HTMLElement, rows: SequenceRows): void {
  const dims = rows.wte[0]?.length ?? 0;
  const sums = rows.wte.map((row, p) => row.map((v, d) => v + (rows.wpe?.[p]?.[d] ?? 0)));
  let scale = 1e-6;
  for (const table of [rows.wte, rows.wpe ?? [], sums]) for (const row of table) for (const v of row) scale = Math.max(scale, Math.abs(v));
  const height = Math.max(STRIP_HEIGHT.min, Math.min(STRIP_HEIGHT.max, dims * 3));

  const strip = ({ name, values, describe }: Strip) => {
    const canvas = element('canvas', {
      class: 'strip',
      width: '1',
      height: String(dims),
      tabindex: '0',
      'data-row': name,
      'data-values': JSON.stringify(values),
      'aria-label': `${describe(-1)}: ${values.length} dimensions from ${short(Math.min(...values))} to ${short(Math.max(...values))}; arrows read each dimension`,
    });
    canvas.style.height = `${height}px`;
    const context = canvas.getContext('2d');
    for (const [d, v] of values.entries()) {
      if (!context) break;
      context.fillStyle = diverging(v, scale);
      context.fillRect(0, d, 1, 1);
    }
    let focused = 0;
    const show = (d: number) => {
      focused = Math.max(0, Math.min(dims - 1, d));
      readout.textContent = describe(focused);
      canvas.title = readout.textContent;
    };
    canvas.addEventListener('mousemove', (event) => show(Math.floor((event.offsetY / canvas.clientHeight) * dims)));
    canvas.addEventListener('focus', () => show(focused));
    canvas.addEventListener('keydown', (event) => {
      const step = { ArrowDown: 1, ArrowUp: -1 }[event.key];
      if (step === undefined) return;
      event.preventDefault();
      show(focused + step);
    });
    return canvas;
  };

  const columns = rows.ids.map((id, p) => {
    const token = visible(rows.tokens[p]!);
    const at = `token ${JSON.stringify(token)} (id ${id}) at position ${p}`;
    const cell = (name: string, values: number[], what: (d: number) => string) =>
      strip({ name, values, describe: (d) => (d < 0 ? `${at}, ${name}` : `${at}, dimension ${d}: ${what(d)}`) });
    const wpe = rows.wpe?.[p];
    const sum = sums[p]!;
    const tokenRow = rows.wte[p]!;
    const explain = (d: number) => `wte[${id}][${d}] = ${short(tokenRow[d])}${wpe ? ` + wpe[${p}][${d}] = ${short(wpe[d])}` : ''} → x = ${short(sum[d])}`;
    return element(
      'div',
      { class: 'sequence-column', 'data-position': String(p) },
      element('span', { class: 'chip', style: `background:${colourFor(id)}` }, token, element('small', {}, String(id))),
      cell('wte', tokenRow, explain),
      wpe ? cell('wpe', wpe, explain) : element('span', { class: 'strip-none', 'aria-hidden': 'true', style: `height:${NONE_HEIGHT}px` }, '·'),
      cell('x', sum, explain),
    );
  });
  const labels = element(
    'div',
    { class: 'sequence-column sequence-labels', 'aria-hidden': 'true' },
    element('span', { class: 'chip' }, 'token', element('small', {}, 'id')),
    element('span', { style: `height:${height}px` }, 'wte[id]'),
    element('span', { style: `height:${rows.wpe ? height : NONE_HEIGHT}px` }, rows.wpe ? '+ wpe[p]' : '+ nothing'),
    element('span', { style: `height:${height}px` }, '= x'),
  );
  const cut = rows.given > rows.ids.length ? ` Cut to the model's context of ${rows.context} tokens: ${rows.given} given.` : '';
  readout.textContent = HINT;
  root.replaceChildren(
    element('p', { class: 'note', id: 'embed-sequence-source' }, `${rows.source}. ${rows.positionNote} ${rows.tiedNote}${cut}`),
    element('div', { class: 'sequence', id: 'embed-sequence-grid', role: 'group', 'aria-label': 'The prompt through the first layer' }, labels, ...columns),
  );
}
