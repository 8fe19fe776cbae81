import { LearnedPositionalEmbedding } from '@embedlab/positional-encodings';
import { tf } from '@embedlab/runtime';
import { TokenEmbedding } from '@embedlab/token-embedding';
import { CharTokenizer } from '@embedlab/tokenizer';
import { chart, heatmap } from '../charts.js';
import { corpus } from '../corpus.js';
import { element, field, numberInput, select, showError } from '../ui.js';

const SIZES: [string, number, number, number][] = [
  ['GPT-2 small', 50257, 768, 1024],
  ['GPT-2 XL', 50257, 1600, 1024],
  ['GPT-3 175B', 50257, 12288, 2048],
];

export function mountEmbed(root: HTMLElement): void {
  const tokenizer = CharTokenizer.fromCorpus(corpus());
  const dim = select([['8', '8'], ['16', '16'], ['32', '32']], '16');
  dim.id = 'embed-dim';
  const token = select(Array.from({ length: tokenizer.vocabSize }, (_, id) => [String(id), `${JSON.stringify(tokenizer.idToToken(id))} (id ${id})`]), '4');
  token.id = 'embed-token';
  const position = numberInput(3, 0, 15);
  position.id = 'embed-position';
  const rows = element('div', { class: 'chart', id: 'embed-rows' });
  const table = element('div', { class: 'chart', id: 'embed-table' });
  const counts = element('table', { id: 'embed-counts' });
  let wte: TokenEmbedding | undefined;
  let wpe: LearnedPositionalEmbedding | undefined;

  const rebuild = () => {
    wte?.dispose();
    wpe?.dispose();
    wte = new TokenEmbedding({ vocabSize: tokenizer.vocabSize, dim: Number(dim.value), seed: 1, init: { kind: 'normal', std: 0.5 } });
    wpe = new LearnedPositionalEmbedding({ maxLength: 16, dim: Number(dim.value), seed: 2, init: { kind: 'normal', std: 0.5 } });
    heatmap(table, `token embedding table wte: ${tokenizer.vocabSize} x ${dim.value}`, wte.weight.arraySync() as number[][], { x: 'dimension', y: 'token id' });
    const d = Number(dim.value);
    const line = (name: string, v: number, c: number, t: number) => element('tr', {}, element('td', {}, name), element('td', {}, (v * c).toLocaleString('en-US')), element('td', {}, (t * c).toLocaleString('en-US')));
    counts.replaceChildren(
      element('tr', {}, element('th', {}, 'model'), element('th', {}, 'wte (vocab x dim)'), element('th', {}, 'wpe (context x dim)')),
      line(`this table (${tokenizer.vocabSize} x ${d})`, tokenizer.vocabSize, d, 16),
      ...SIZES.map(([name, v, c, t]) => line(name, v, c, t)),
    );
    update();
  };

  const update = () => {
    try {
      const p = Number(position.value);
      const [tokenRow, positionRow, sum] = tf.tidy(() => {
        const t = wte!.apply([Number(token.value)]);
        const q = wpe!.apply(1, { offset: p });
        return [t, q, tf.add(t, q)].map((x) => Array.from(x.dataSync()));
      }) as [number[], number[], number[]];
      const dims = tokenRow.map((_, i) => String(i));
      chart(rows, {
        title: { text: `x = wte[${token.value}] + wpe[${p}]  (what + where)`, textStyle: { fontSize: 13 } },
        tooltip: { trigger: 'axis' },
        legend: { bottom: 0 },
        grid: { top: 30, bottom: 50, left: 40, right: 10 },
        xAxis: { type: 'category', data: dims, name: 'dimension' },
        yAxis: { type: 'value' },
        series: [
          { name: `token ${JSON.stringify(tokenizer.idToToken(Number(token.value)))}`, type: 'bar', data: tokenRow },
          { name: `position ${p}`, type: 'bar', data: positionRow },
          { name: 'sum', type: 'bar', data: sum },
        ],
      });
    } catch (error) {
      showError(error);
    }
  };

  dim.addEventListener('change', rebuild);
  token.addEventListener('change', update);
  position.addEventListener('input', update);
  root.append(
    element('p', { class: 'note' }, 'A token id picks a row of the token table; its position picks a row of the position table; the model adds them.'),
    element('div', { class: 'row' }, field('Token', token), field('Position (0-15)', position), field('Dimensions', dim)),
    element('div', { class: 'grid2' }, rows, table),
    element('h3', {}, 'Parameters of the two tables'),
    counts,
  );
  rebuild();
}
