import { chart, heatmap } from '../charts.js';
import type { Exploration } from '../protocol.js';
import { clearError, element, field, numberInput } from '../ui.js';
import { listen, send } from '../worker-client.js';

/** The fields take \\n for a newline, the names corpus's separator. */
const withNewlines = (text: string) => text.replace(/\\n/g, '\n');
const listed = (tokens: { token: string; score: number }[]) => tokens.map((n) => `${JSON.stringify(n.token)} (${n.score.toFixed(2)})`).join(', ');

export function mountExplore(root: HTMLElement): void {
  const prompt = element('input', { type: 'text', value: '\\nmar', id: 'explore-prompt' });
  const token = element('input', { type: 'text', value: 'a', id: 'explore-token', size: '4' });
  const analogy = ['a', 'e', 'o'].map((value, i) => element('input', { type: 'text', value, id: `explore-analogy-${'abc'[i]}`, size: '4' })) as [HTMLInputElement, HTMLInputElement, HTMLInputElement];
  const layer = numberInput(0, 0, 7);
  const head = numberInput(0, 0, 15);
  const go = element('button', { id: 'explore-go' }, 'Explore the trained model');
  const scatter = element('div', { class: 'chart', id: 'explore-pca' });
  const attention = element('div', { class: 'chart', id: 'explore-attention' });
  const next = element('div', { class: 'chart small', id: 'explore-next' });
  const neighbours = element('p', { id: 'explore-neighbours', role: 'status' });
  const analogies = element('p', { id: 'explore-analogy', role: 'status' });
  let last: Exploration | undefined;

  const drawAttention = () => {
    if (!last) return;
    const l = Math.min(Number(layer.value), last.attention.length - 1);
    const h = Math.min(Number(head.value), last.attention[l]!.length - 1);
    heatmap(attention, `attention, layer ${l} head ${h}: rows are queries, columns keys (${last.promptTokens.map((t) => JSON.stringify(t)).join(' ')})`, last.attention[l]![h]!, { x: 'key', y: 'query' });
  };

  go.addEventListener('click', () => send({ type: 'explore', prompt: withNewlines(prompt.value), token: withNewlines(token.value), analogy: analogy.map((input) => withNewlines(input.value)) as [string, string, string] }));
  layer.addEventListener('input', drawAttention);
  head.addEventListener('input', drawAttention);
  listen((message) => {
    if (message.type !== 'exploration') return;
    clearError();
    last = message.exploration;
    chart(scatter, {
      title: { text: 'token embeddings on their first two principal components', textStyle: { fontSize: 13 } },
      grid: { top: 30, bottom: 30, left: 40, right: 20 },
      xAxis: { type: 'value', scale: true },
      yAxis: { type: 'value', scale: true },
      series: [{ type: 'scatter', symbolSize: 6, data: last.points.map((p, i) => [...p, last!.labels[i]]), label: { show: true, formatter: (p: { value: unknown }) => JSON.stringify((p.value as unknown[])[2]).slice(1, -1), position: 'right', fontSize: 11 } }],
    });
    neighbours.textContent = `nearest to ${JSON.stringify(withNewlines(token.value))}: ${listed(last.neighbours)}`;
    const [a, b, c] = analogy.map((input) => JSON.stringify(withNewlines(input.value)));
    analogies.textContent = `${a} is to ${b} as ${c} is to: ${listed(last.analogy)}`;
    chart(next, {
      title: { text: 'next-token probabilities', textStyle: { fontSize: 13 } },
      grid: { top: 30, bottom: 30, left: 40, right: 10 },
      xAxis: { type: 'category', data: last.next.map((n) => JSON.stringify(n.token).slice(1, -1)) },
      yAxis: { type: 'value', max: 1 },
      series: [{ type: 'bar', data: last.next.map((n) => n.probability) }],
    });
    drawAttention();
  });
  root.append(
    element('p', { class: 'note' }, 'After training (or loading) a model: its embedding table in 2-D, nearest neighbours, attention per layer and head, and what it would say next. Analogies rank tokens by cosine similarity to b − a + c. Write \\n for a newline.'),
    element('div', { class: 'row' }, field('Prompt', prompt), field('Token', token), field('a', analogy[0]), field('is to b', analogy[1]), field('as c is to ?', analogy[2]), field('Layer', layer), field('Head', head), go),
    neighbours,
    analogies,
    element('div', { class: 'grid2' }, scatter, attention),
    next,
  );
}
