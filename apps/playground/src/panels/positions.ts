import { LearnedPositionalEmbedding, RotaryEmbedding, type RopeScaling, SinusoidalPositionalEncoding } from '@embedlab/positional-encodings';
import { tf } from '@embedlab/runtime';
import { chart, heatmap } from '../charts.js';
import { clearOnChange, element, errorBox, field, numberInput, readInteger, showError } from '../ui.js';

const DIM = 32;
const TRAINED_LENGTH = 32;

export function mountPositions(root: HTMLElement): void {
  const sinusoidal = new SinusoidalPositionalEncoding({ dim: DIM });
  const learned = new LearnedPositionalEmbedding({ maxLength: TRAINED_LENGTH, dim: DIM, seed: 3 });
  const length = numberInput(48, 1, 512);
  length.id = 'positions-length';
  const error = errorBox('positions-error');
  const sinChart = element('div', { class: 'chart', id: 'positions-sinusoidal' });
  const learnedChart = element('div', { class: 'chart', id: 'positions-learned' });
  const learnedMessage = element('p', { class: 'note', id: 'positions-learned-message', role: 'status' });
  const ropeChart = element('div', { class: 'chart', id: 'positions-rope' });
  const relativeChart = element('div', { class: 'chart', id: 'positions-relative' });
  const scalingChart = element('div', { class: 'chart', id: 'positions-scaling' });

  /** A table's rows as numbers; the tensor is disposed (a new one is made per call). */
  const rowsOf = (make: () => tf.Tensor2D) => {
    const tensor = make();
    try {
      return tensor.arraySync() as number[][];
    } finally {
      tensor.dispose();
    }
  };

  const drawTables = () => {
    let n: number;
    try {
      n = readInteger(length, 'Positions to show');
    } catch (problem) {
      // The learned table's note was about the last valid length.
      learnedMessage.textContent = '';
      showError(error, problem);
      return;
    }
    heatmap(
      sinChart,
      `sinusoidal, ${n} positions (trained on ${TRAINED_LENGTH}: it extrapolates)`,
      rowsOf(() => sinusoidal.table(n)),
      { x: 'dimension', y: 'position' },
    );
    try {
      heatmap(
        learnedChart,
        `learned (before training), ${n} positions`,
        rowsOf(() => learned.table(n)),
        { x: 'dimension', y: 'position' },
      );
      learnedMessage.textContent = '';
    } catch (problem) {
      heatmap(
        learnedChart,
        `learned: only ${TRAINED_LENGTH} rows exist`,
        rowsOf(() => learned.table(TRAINED_LENGTH)),
        { x: 'dimension', y: 'position' },
      );
      learnedMessage.textContent = (problem as Error).message;
    }
  };

  // The charts go into the page first, so ECharts can measure them.
  root.append(
    element(
      'p',
      { class: 'note' },
      `Attention alone cannot tell order. Additive encodings are added to the embeddings; RoPE rotates queries and keys. Ask for more than the ${TRAINED_LENGTH} trained positions to see which can go further.`,
    ),
    element('div', { class: 'row' }, field('Positions to show (1-512)', length)),
    error,
    element('div', { class: 'grid2' }, sinChart, element('div', {}, learnedChart, learnedMessage)),
    element('div', { class: 'grid2' }, ropeChart, relativeChart),
    scalingChart,
  );

  // RoPE: each pair of dimensions turns by p·θ_i; fast pairs spin, slow ones barely move.
  const rope = new RotaryEmbedding({ headDim: 16, layout: 'interleaved' });
  const angles = rowsOf(() => rope.table(64));
  chart(
    ropeChart,
    {
      title: { text: 'RoPE: cos(p·θᵢ) of dimension pairs i as the position p grows' },
      tooltip: { trigger: 'axis' },
      legend: { bottom: 0, type: 'plain' },
      grid: { top: 55, bottom: 55, left: 45, right: 15 },
      xAxis: { type: 'category', name: 'position p', nameLocation: 'middle', nameGap: 25, axisLine: { onZero: false }, data: angles.map((_, p) => p) },
      yAxis: { type: 'value', min: -1, max: 1, name: 'cos(p·θᵢ)' },
      series: [0, 1, 3, 7].map((i) => ({ name: `pair ${i}`, type: 'line', showSymbol: false, data: angles.map((row) => Math.cos(row[i]!)) })),
    },
    'line chart: cos(p·θᵢ) for dimension pairs 0, 1, 3 and 7 over positions 0-63; pair 0 turns fastest, pair 7 barely moves',
  );
  // q·k after rotation depends on m - n only: every (m, n) with the same distance gives one value.
  const points = tf.tidy(() => {
    const q = tf.randomNormal([1, 1, 1, 16], 0, 1, 'float32', 5);
    const k = tf.randomNormal([1, 1, 1, 16], 0, 1, 'float32', 6);
    const out: [number, number][] = [];
    for (let m = 0; m < 24; m += 3) {
      for (let n = 0; n < 24; n++) out.push([m - n, tf.sum(tf.mul(rope.apply(q, { offset: m }), rope.apply(k, { offset: n }))).dataSync()[0]!]);
    }
    return out;
  });
  chart(
    relativeChart,
    {
      title: { text: 'RoPE: q_m · k_n against m − n (one curve: only the distance matters)' },
      grid: { top: 55, bottom: 40, left: 45, right: 15 },
      xAxis: { type: 'value', name: 'm − n', nameLocation: 'middle', nameGap: 25, axisLine: { onZero: false } },
      yAxis: { type: 'value', name: 'q·k', axisLine: { onZero: false } },
      series: [{ type: 'scatter', symbolSize: 5, data: points }],
    },
    'scatter plot of q_m · k_n against m − n for m, n under 24: points with the same distance share one value',
  );
  // Long-context scaling: the slowest pair's angle at each position, per scaling.
  const scalings: [string, RopeScaling | undefined][] = [
    ['none', undefined],
    ['linear x4', { type: 'linear', factor: 4 }],
    ['dynamic NTK x4', { type: 'dynamic', factor: 4, originalMaxPositions: TRAINED_LENGTH }],
    ['YaRN x4', { type: 'yarn', factor: 4, originalMaxPositions: TRAINED_LENGTH }],
    ['Llama 3 x4', { type: 'llama3', factor: 4, originalMaxPositions: TRAINED_LENGTH }],
  ];
  chart(
    scalingChart,
    {
      title: { text: `RoPE scaling: frequencies θᵢ per pair (base 10000, head 16, trained on ${TRAINED_LENGTH})` },
      tooltip: { trigger: 'axis' },
      legend: { bottom: 0, type: 'plain' },
      grid: { top: 55, bottom: 55, left: 60, right: 15 },
      xAxis: { type: 'category', name: 'pair i', nameLocation: 'middle', nameGap: 25, data: Array.from({ length: 8 }, (_, i) => i) },
      yAxis: { type: 'log', name: 'θᵢ' },
      series: scalings.map(([name, scaling]) => ({
        name,
        type: 'line',
        data: Array.from(new RotaryEmbedding({ headDim: 16, ...(scaling ? { scaling } : {}) }).frequencies(4 * TRAINED_LENGTH).inverseFrequencies),
      })),
    },
    `log-scale line chart of the rotation frequency of each of 8 pairs under no scaling, linear, dynamic NTK, YaRN and Llama 3 scaling by 4 (trained on ${TRAINED_LENGTH})`,
  );

  length.addEventListener('input', drawTables);
  clearOnChange(root, error);
  drawTables();
}
