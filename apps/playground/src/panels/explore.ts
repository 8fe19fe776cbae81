import { chart, heatmap } from '../charts.js';
import type { Exploration } from '../protocol.js';
import { clearError, clearOnChange, element, errorBox, field, numberInput, readInteger, short, showError, tokenText, visible } from '../ui.js';
import { listen, send } from '../worker-client.js';

/** The fields take \\n for a newline, the names corpus's separator. */
const withNewlines = (text: string) => text.replace(/\\n/g, '\n');

/** Tokens with scores as list items; <bdi> keeps right-to-left tokens from reordering the list. */
function listed(tokens: { token: string; score: number }[]): (Node | string)[] {
  return tokens.flatMap((n, i) => [...(i > 0 ? [', '] : []), tokenText(n.token), ` (${n.score.toFixed(2)})`]);
}

export function mountExplore(root: HTMLElement): void {
  const prompt = element('input', { type: 'text', value: '\\nmar', id: 'explore-prompt' });
  const token = element('input', { type: 'text', value: 'a', id: 'explore-token', size: '4' });
  const analogy = ['a', 'e', 'o'].map((value, i) => element('input', { type: 'text', value, id: `explore-analogy-${'abc'[i]}`, size: '4' })) as [
    HTMLInputElement,
    HTMLInputElement,
    HTMLInputElement,
  ];
  const layer = Object.assign(numberInput(0, 0, 0), { id: 'explore-layer' });
  const head = Object.assign(numberInput(0, 0, 0), { id: 'explore-head' });
  const go = element('button', { id: 'explore-go' }, 'Explore the trained model');
  const error = errorBox('explore-error');
  const scatter = element('div', { class: 'chart', id: 'explore-pca' });
  const attention = element('div', { class: 'chart', id: 'explore-attention' });
  const next = element('div', { class: 'chart small', id: 'explore-next' });
  const neighbours = element('p', { id: 'explore-neighbours', role: 'status' });
  const analogies = element('p', { id: 'explore-analogy', role: 'status' });
  const promptNote = element('p', { class: 'note', id: 'explore-prompt-note', role: 'status' });
  let last: Exploration | undefined;

  const drawAttention = () => {
    if (!last) return;
    try {
      const l = readInteger(layer, 'Layer');
      const h = readInteger(head, 'Head');
      const labels = last.promptTokens.map((t, i) => `${visible(t)}·${i}`);
      heatmap(attention, `attention, layer ${l} head ${h} (rows: queries, columns: keys)`, last.attention[l]![h]!, {
        x: 'key token',
        y: 'query token',
        xLabels: labels,
        yLabels: labels,
      });
    } catch (problem) {
      showError(error, problem);
    }
  };

  go.addEventListener('click', () => {
    clearError(error);
    send({
      type: 'explore',
      prompt: withNewlines(prompt.value),
      token: withNewlines(token.value),
      analogy: analogy.map((input) => withNewlines(input.value)) as [string, string, string],
    });
  });
  layer.addEventListener('input', drawAttention);
  head.addEventListener('input', drawAttention);
  listen((message) => {
    if (message.type === 'error' && message.source === 'explore') {
      showError(error, message.message);
      return;
    }
    if (message.type !== 'exploration') return;
    clearError(error);
    last = message.exploration;
    // The inputs allow exactly the model's layers and heads.
    layer.max = String(last.attention.length - 1);
    head.max = String((last.attention[0]?.length ?? 1) - 1);
    if (Number(layer.value) > Number(layer.max)) layer.value = layer.max;
    if (Number(head.value) > Number(head.max)) head.value = head.max;
    const kept = last.promptTokens.length;
    promptNote.textContent =
      last.promptLength > kept
        ? `The prompt has ${last.promptLength} tokens; the model reads at most ${kept} (its context), so it sees the last ${kept}: the attention and the next token are about those.`
        : '';
    chart(
      scatter,
      {
        title: { text: 'token embeddings, first two principal components' },
        tooltip: {},
        grid: { top: 45, bottom: 45, left: 60, right: 20 },
        xAxis: { type: 'value', scale: true, name: 'PC 1', nameLocation: 'middle', nameGap: 25, axisLine: { onZero: false }, axisLabel: { formatter: short } },
        yAxis: { type: 'value', scale: true, name: 'PC 2', nameLocation: 'middle', nameGap: 45, axisLine: { onZero: false }, axisLabel: { formatter: short } },
        series: [
          {
            type: 'scatter',
            symbolSize: 6,
            data: last.points.map((p, i) => [...p, visible(last!.labels[i]!)]),
            label: { show: true, formatter: (p: { value: unknown }) => String((p.value as unknown[])[2]), position: 'right', fontSize: 11 },
          },
        ],
      },
      `scatter plot of ${last.points.length} token embeddings on their first two principal components; nearest to the chosen token: ${last.neighbours.map((n) => visible(n.token)).join(', ')}`,
    );
    neighbours.replaceChildren(`nearest to "${withNewlines(token.value)}": `.replace(/\n/g, '\\n'), ...listed(last.neighbours));
    const [a, b, c] = analogy.map((input) => JSON.stringify(withNewlines(input.value)));
    analogies.replaceChildren(`${a} is to ${b} as ${c} is to: `, ...listed(last.analogy));
    chart(
      next,
      {
        title: { text: 'next-token probabilities' },
        tooltip: {},
        grid: { top: 40, bottom: 30, left: 50, right: 10 },
        xAxis: { type: 'category', data: last.next.map((n) => visible(n.token)) },
        yAxis: { type: 'value', max: 1, name: 'probability' },
        series: [{ type: 'bar', data: last.next.map((n) => n.probability) }],
      },
      `next-token probabilities after the prompt: ${last.next.map((n) => `${visible(n.token)} ${(n.probability * 100).toFixed(1)}%`).join(', ')}`,
    );
    drawAttention();
  });
  clearOnChange(root, error);
  root.append(
    element(
      'p',
      { class: 'note' },
      'After training (or loading) a model: its embedding table in 2-D, nearest neighbours, attention per layer and head, and what it would say next. Analogies rank tokens by cosine similarity to b − a + c. Write \\n for a newline; ␣ shows a space.',
    ),
    element(
      'div',
      { class: 'row' },
      field('Prompt', prompt),
      field('Token', token),
      field('a', analogy[0]),
      field('is to b', analogy[1]),
      field('as c is to ?', analogy[2]),
      field('Layer', layer),
      field('Head', head),
      go,
    ),
    error,
    promptNote,
    neighbours,
    analogies,
    element('div', { class: 'grid2' }, scatter, attention),
    next,
  );
}
