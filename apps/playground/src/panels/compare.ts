// `minigpt compare` in the browser: each position encoding (tied, untied or both) trained on the
// same text, seed and budget in the worker, then evaluated on the held-out text at 1x-8x the
// training length. Curves and rows appear as the worker posts them.
import { POSITION_KINDS, type PositionKind, type VariantResult } from '@embedlab/mini-gpt';
import type { LineSeriesOption } from 'echarts';
import { chart } from '../charts.js';
import { corpus, corpusName, onCorpusChange } from '../corpus.js';
import type { FromWorker } from '../protocol.js';
import {
  clearError,
  clearOnChange,
  duration,
  element,
  errorBox,
  field,
  InputError,
  numberInput,
  plural,
  readInteger,
  select,
  showError,
  short,
} from '../ui.js';
import { listen, send, stopOrRestart, training } from '../worker-client.js';

const POSITIONS: PositionKind[] = [...POSITION_KINDS];
const SCALINGS: [string, string][] = [
  ['linear', 'linear'],
  ['dynamic', 'dynamic NTK'],
  ['yarn', 'YaRN'],
  ['llama3', 'Llama 3'],
];
const MULTIPLES = [1, 2, 4, 8];
/** A longer corpus is cut here: the evaluation reads all of its held-out tenth at four lengths, one window at a time. */
const MAX_CHARACTERS = 100_000;
/** The share of the text the library holds out for validation (TokenDataset's default). */
const HELD_OUT = 0.1;
/** One colour per encoding (tied solid, untied dashed); RoPE scalings get colours of their own. */
const COLOURS: Record<string, string> = {
  learned: '#1f77b4',
  sinusoidal: '#2ca02c',
  rope: '#d62728',
  alibi: '#9467bd',
  none: '#7f7f7f',
  linear: '#ff7f0e',
  dynamic: '#8c564b',
  yarn: '#e377c2',
  llama3: '#17becf',
};

interface Comparison {
  id: number;
  rows: string[];
  trained: string[];
  steps: number;
  blockSize: number;
  nEmbd: number;
  /** Training loss by step, per trained model. */
  losses: Map<string, [number, number][]>;
  results: Map<string, VariantResult>;
  variant?: string;
  stepsDone: number;
  startedAt: number;
  state: 'starting' | 'running' | 'done' | 'stopped' | 'failed';
}

/** The text a comparison trains and evaluates on: the corpus, cut at MAX_CHARACTERS (never inside a surrogate pair). */
function comparisonText(): string {
  const text = corpus();
  if (text.length <= MAX_CHARACTERS) return text;
  const cut = /[\uD800-\uDBFF]/.test(text[MAX_CHARACTERS - 1]!) ? MAX_CHARACTERS - 1 : MAX_CHARACTERS;
  return text.slice(0, cut);
}

/**
 * Each value averaged with its neighbours within `radius`: the loss at one position of a few
 * dozen windows is noisy (a name ends here, another starts there), its trend is not.
 */
function movingMean(values: number[], radius: number): number[] {
  const sums = [0];
  for (const value of values) sums.push(sums.at(-1)! + value);
  return values.map((_, i) => {
    const from = Math.max(0, i - radius);
    const to = Math.min(values.length, i + radius + 1);
    return (sums[to]! - sums[from]!) / (to - from);
  });
}

/** A line chart of loss against `xAxis`, one line per series, the legend wrapped below (every name in view). */
function lossChart(
  container: HTMLElement,
  title: string,
  xAxis: { name: string; min: number; max?: number },
  series: LineSeriesOption[],
  description: string,
): void {
  chart(
    container,
    {
      // Redrawn as results arrive: no animation.
      animation: false,
      title: { text: title },
      tooltip: { trigger: 'axis' },
      legend: { bottom: 0, type: 'plain' },
      grid: { top: 55, bottom: 60, left: 60, right: 30 },
      xAxis: { type: 'value', nameLocation: 'middle', nameGap: 25, ...xAxis },
      yAxis: { type: 'value', scale: true, name: 'loss (nats per token)', axisLabel: { formatter: short } },
      series,
    },
    description,
  );
}

const loss = (value: number | null) => (value === null ? '' : value.toFixed(3));
const perplexity = (value: number | null) => (value === null ? '' : value.toFixed(2));

export function mountCompare(root: HTMLElement): void {
  const positions = new Map(POSITIONS.map((p) => [p, element('input', { type: 'checkbox', checked: '', id: `compare-position-${p}`, value: p })]));
  const tie = select(
    [
      ['tied', 'tied'],
      ['untied', 'untied'],
      ['both', 'both (side by side)'],
    ],
    'both',
  );
  tie.id = 'compare-tie';
  const scalings = new Map(SCALINGS.map(([type]) => [type, element('input', { type: 'checkbox', id: `compare-scaling-${type}`, value: type })]));
  const factor = Object.assign(numberInput(4, 2, 64), { id: 'compare-factor' });
  const steps = Object.assign(numberInput(60, 10, 5000, 10), { id: 'compare-steps' });
  const batch = Object.assign(numberInput(16, 1, 64), { id: 'compare-batch' });
  const context = Object.assign(numberInput(16, 4, 64), { id: 'compare-context' });
  const layers = Object.assign(numberInput(1, 1, 4), { id: 'compare-layers' });
  const heads = Object.assign(numberInput(2, 1, 8), { id: 'compare-heads' });
  const dims = Object.assign(numberInput(32, 8, 128, 8), { id: 'compare-dims' });
  const corpusInfo = element('p', { class: 'note', id: 'compare-corpus' });
  const plan = element('p', { class: 'note', id: 'compare-plan' });
  const start = element('button', { id: 'compare-start' }, 'Compare');
  const stop = element('button', { id: 'compare-stop', disabled: '' }, 'Stop');
  const error = errorBox('compare-error');
  const status = element('p', { id: 'compare-status' }, 'ready');
  const progress = element('progress', { id: 'compare-progress', max: '1', value: '0', 'aria-label': 'Comparison progress' });
  const announce = element('p', { id: 'compare-announce', class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
  const trainChart = element('div', { class: 'chart tall', id: 'compare-train-loss' });
  const positionChart = element('div', { class: 'chart tall', id: 'compare-position-loss' });
  const positionNote = element('p', { class: 'note' });
  // Tables scroll sideways on a phone; their captions stay outside, in view and wrapped.
  const results = element('table', { id: 'compare-results', 'aria-labelledby': 'compare-results-caption' });
  const refusals = element('p', { class: 'note', id: 'compare-refusals' });
  const tying = element('table', { id: 'compare-tying', 'aria-labelledby': 'compare-tying-caption' });
  const tyingNote = element('p', { class: 'note', id: 'compare-tying-note' });
  let current: Comparison | undefined;
  let stopTimer: ReturnType<typeof setTimeout> | undefined;

  /** Reads and checks every setting; throws an InputError naming the field. */
  const settings = () => {
    const chosen = POSITIONS.filter((p) => positions.get(p)!.checked);
    if (chosen.length === 0) throw new InputError(positions.get('learned')!, 'Encodings: choose at least one');
    const values = {
      steps: readInteger(steps, 'Steps'),
      batchSize: readInteger(batch, 'Batch'),
      blockSize: readInteger(context, 'Context'),
      nLayer: readInteger(layers, 'Layers'),
      nHead: readInteger(heads, 'Heads'),
      nEmbd: readInteger(dims, 'Dimensions'),
    };
    if (values.nEmbd % values.nHead !== 0) throw new InputError(heads, `Dimensions (${values.nEmbd}) must be a multiple of Heads (${values.nHead})`);
    if (chosen.includes('rope') && (values.nEmbd / values.nHead) % 2 !== 0)
      throw new InputError(
        heads,
        `RoPE turns dimensions in pairs: Dimensions / Heads must be even, got ${values.nEmbd} / ${values.nHead} = ${values.nEmbd / values.nHead}`,
      );
    const types = SCALINGS.map(([type]) => type).filter((type) => scalings.get(type)!.checked);
    const ropeScalings = types.length > 0 ? types.map((type) => `${type}:${readInteger(factor, 'Factor')}`) : [];
    if (ropeScalings.length > 0 && !chosen.includes('rope'))
      throw new InputError(scalings.get(types[0]!)!, 'RoPE scalings change rope models only: tick rope under Encodings, or untick the scalings');
    const text = comparisonText();
    const characters = [...text].length;
    const heldOut = characters - Math.floor(characters * (1 - HELD_OUT));
    const longest = Math.max(...MULTIPLES) * values.blockSize;
    if (heldOut < longest + 1)
      throw new InputError(
        context,
        `the held-out tenth of ${corpusName()} has ${plural(heldOut, 'character')}; evaluating at ${Math.max(...MULTIPLES)}× the context needs ${longest + 1}: lower the Context or choose a longer corpus on Train`,
      );
    return { ...values, positions: chosen, tie: tie.value as 'tied' | 'untied' | 'both', ropeScalings, text, heldOut };
  };

  const describe = () => {
    const text = comparisonText();
    const whole = corpus().length;
    corpusInfo.textContent = `Text: ${corpusName() === 'names' ? 'the shipped names corpus' : corpusName()}, ${
      text.length < whole ? `the first ${plural(text.length, 'character')} of ${whole.toLocaleString('en-US')}` : plural(text.length, 'character')
    } (choose another corpus on Train); char tokens; the last 10% is held out for the evaluation.`;
    try {
      const s = settings();
      const models = s.positions.length * (s.tie === 'both' ? 2 : 1);
      plan.textContent = `${plural(models, 'model')} of ${plural(s.steps, 'step')} each (${s.nLayer} layer${s.nLayer === 1 ? '' : 's'}, ${s.nHead} heads, ${s.nEmbd} dimensions, batch ${s.batchSize}), evaluated on ${plural(s.heldOut, 'held-out character')} at ${MULTIPLES.map((m) => m * s.blockSize).join(', ')} positions (${MULTIPLES.map((m) => `${m}×`).join(', ')} the context of ${s.blockSize}).`;
      plan.classList.remove('warning');
    } catch (problem) {
      plan.textContent = (problem as Error).message;
      plan.classList.add('warning');
    }
  };

  const style = (name: string) => {
    const [model, scaling] = name.split('+');
    const [position, tying] = model!.split('-');
    const color = COLOURS[scaling ? scaling.split(':')[0]! : position!] ?? '#333';
    // The legend's swatch takes itemStyle's colour, the line lineStyle's.
    return { itemStyle: { color }, lineStyle: { color, type: tying === 'untied' ? ('dashed' as const) : ('solid' as const), width: 2 } };
  };

  const drawTraining = () => {
    const series = current ? [...current.losses].filter(([, data]) => data.length > 0) : [];
    lossChart(
      trainChart,
      'Training loss of each model (same text, seed and budget); solid: tied head, dashed: untied',
      { name: 'step', min: 0, ...(current ? { max: current.steps } : {}) },
      series.map(([name, data]) => ({ name, type: 'line', showSymbol: false, data, ...style(name) })),
      series.length === 0
        ? 'training loss chart: no comparison yet'
        : `training loss chart: ${series.map(([name, data]) => `${name} from ${short(data[0]![1])} at step ${data[0]![0]} to ${short(data.at(-1)![1])} at step ${data.at(-1)![0]}`).join('; ')}`,
    );
  };

  /** Loss at each position of the longest window each row could read; a dashed line at the training length. */
  const drawPositions = () => {
    const rows = current ? current.rows.flatMap((name) => current!.results.get(name) ?? []) : [];
    const blockSize = current?.blockSize ?? Number(context.value);
    const radius = Math.max(1, Math.round(blockSize / 8));
    const series = rows.map((row, i) => {
      const longest = [...row.contexts].reverse().find((c) => c.byPosition.length > 0);
      return {
        name: row.name,
        type: 'line' as const,
        showSymbol: false,
        data: movingMean(longest?.byPosition ?? [], radius).map((value, position) => [position, value]),
        ...style(row.name),
        ...(i === 0
          ? {
              markLine: {
                symbol: 'none',
                silent: true,
                lineStyle: { type: 'dashed' as const, color: '#555' },
                label: { formatter: `trained length ${blockSize}`, position: 'insideEndTop' as const },
                data: [{ xAxis: blockSize }],
              },
            }
          : {}),
      };
    });
    positionChart.dataset.series = JSON.stringify(series.map((s) => s.name));
    positionNote.textContent = `The loss at each position of the longest window each model can read, on the held-out text, each point the mean of ${2 * radius + 1} neighbouring positions (the loss at one position is noisy: a name ends here, another starts there). Solid lines: tied head; dashed: untied. Right of the dashed line the models read positions they were never trained on.`;
    lossChart(
      positionChart,
      'Loss by position in the window: how far each encoding reads past the length it was trained on',
      { name: 'position in the window', min: 0, max: Math.max(...MULTIPLES) * blockSize },
      series,
      rows.length === 0
        ? 'loss by position chart: no finished models yet'
        : `loss by position chart, trained length ${blockSize}: ${rows
            .map((row) => `${row.name}: ${row.contexts.map((c) => `${c.multiple}× ${c.loss === null ? 'refused' : short(c.loss)}`).join(', ')}`)
            .join('; ')}`,
    );
  };

  const drawResults = () => {
    const header = element(
      'tr',
      {},
      element('th', { rowspan: '2', scope: 'col' }, 'variant'),
      element('th', { rowspan: '2', scope: 'col' }, 'parameters'),
      ...MULTIPLES.map((m) => element('th', { colspan: '2', scope: 'colgroup' }, `${m}× (${m * (current?.blockSize ?? Number(context.value))} positions)`)),
    );
    const units = element('tr', {}, ...MULTIPLES.flatMap(() => [element('th', { scope: 'col' }, 'loss'), element('th', { scope: 'col' }, 'perplexity')]));
    const body = (current?.rows ?? []).map((name) => {
      const result = current!.results.get(name);
      const cells: HTMLElement[] = [element('th', { scope: 'row' }, name)];
      if (!result) {
        const model = name.split('+')[0]!;
        const { state, variant } = current!;
        const running = state === 'running' || state === 'starting';
        const waiting = variant === model ? (running ? 'training…' : `${state} before its evaluation`) : running ? 'waiting' : 'not run';
        cells.push(element('td', { colspan: String(1 + 2 * MULTIPLES.length), class: 'pending' }, waiting));
        return element('tr', { 'data-variant': name }, ...cells);
      }
      cells.push(element('td', {}, result.parameters.toLocaleString('en-US')));
      // Contexts a model cannot read share one cell that says why (learned: no row past its length).
      for (let i = 0; i < result.contexts.length; i++) {
        const c = result.contexts[i]!;
        if (c.loss !== null) {
          cells.push(element('td', { 'data-multiple': String(c.multiple) }, loss(c.loss)), element('td', {}, perplexity(c.perplexity)));
          continue;
        }
        let last = i;
        while (last + 1 < result.contexts.length && result.contexts[last + 1]!.loss === null) last++;
        const span = result.contexts.slice(i, last + 1);
        cells.push(
          element(
            'td',
            { colspan: String(2 * span.length), class: 'refused', 'data-multiple': String(c.multiple) },
            `refused at ${span.length === 1 ? `${c.multiple}×` : `${c.multiple}×–${span.at(-1)!.multiple}×`}: ${c.refused ?? 'no number'}`,
          ),
        );
        i = last;
      }
      return element('tr', { 'data-variant': name }, ...cells);
    });
    results.replaceChildren(element('thead', {}, header, units), element('tbody', {}, ...body));
    const learned = [...(current?.results.values() ?? [])].filter((r) => r.position === 'learned' && r.contexts.some((c) => c.loss === null));
    refusals.textContent = learned.length
      ? `${learned.map((r) => r.name).join(', ')}: a learned table has one row per trained position, so a longer window has no embedding to look up; the other encodings compute theirs.`
      : '';
    drawTying();
  };

  /** Each encoding trained tied and untied: parameters and loss side by side. */
  const drawTying = () => {
    const done = current ? [...current.results.values()].filter((r) => r.ropeScaling === null) : [];
    const pairs = POSITIONS.flatMap((p) => {
      const tied = done.find((r) => r.position === p && r.tieWeights);
      const untied = done.find((r) => r.position === p && !r.tieWeights);
      return tied && untied ? [{ position: p, tied, untied }] : [];
    });
    const head = element(
      'tr',
      {},
      ...['encoding', 'parameters, tied', 'parameters, untied', 'untying adds', `loss @1×, tied`, 'loss @1×, untied', 'untied − tied'].map((text) =>
        element('th', { scope: 'col' }, text),
      ),
    );
    const rows = pairs.map(({ position, tied, untied }) => {
      const [a, b] = [tied.contexts[0]!.loss!, untied.contexts[0]!.loss!];
      return element(
        'tr',
        { 'data-position': position },
        element('th', { scope: 'row' }, position),
        element('td', {}, tied.parameters.toLocaleString('en-US')),
        element('td', {}, untied.parameters.toLocaleString('en-US')),
        element('td', {}, (untied.parameters - tied.parameters).toLocaleString('en-US')),
        element('td', {}, loss(a)),
        element('td', {}, loss(b)),
        element('td', {}, `${b - a >= 0 ? '+' : '−'}${Math.abs(b - a).toFixed(3)}`),
      );
    });
    tying.replaceChildren(element('thead', {}, head), element('tbody', {}, ...rows));
    tying.hidden = rows.length === 0;
    if (pairs.length > 0) {
      const extra = pairs[0]!.untied.parameters - pairs[0]!.tied.parameters;
      const { nEmbd } = current!;
      tyingNote.textContent = `Untying gives the output head a matrix of its own: ${extra.toLocaleString('en-US')} more parameters (${extra / nEmbd} tokens × ${nEmbd} dimensions) for the loss difference in the last column.`;
    } else {
      // While a comparison runs, its rows say whether it will fill this in; otherwise the Head setting does.
      const bothHeads =
        training.comparing && current ? current.rows.some((r) => r.endsWith('-untied')) && current.rows.some((r) => r.endsWith('-tied')) : tie.value === 'both';
      tyingNote.textContent = bothHeads
        ? 'The side by side fills in when an encoding has finished both tied and untied.'
        : 'Choose Head: both (side by side) to train each encoding tied and untied and compare them here.';
    }
  };

  const setRunning = (running: boolean) => {
    training.comparing = running;
    const hadFocus = document.activeElement;
    start.disabled = running;
    stop.disabled = !running;
    if (running && hadFocus === start) stop.focus();
    if (!running && hadFocus === stop) start.focus();
  };

  const finish = (run: Comparison, state: 'done' | 'stopped' | 'failed', reason: string) => {
    clearTimeout(stopTimer);
    run.state = state;
    setRunning(false);
    const seconds = (performance.now() - run.startedAt) / 1000;
    status.textContent = `comparison ${run.id}: ${state}, ${reason}, in ${duration(seconds)}`;
    status.dataset.seconds = seconds.toFixed(1);
    announce.textContent = status.textContent;
    if (state === 'failed') showError(error, new Error(`comparison ${run.id} failed: ${reason}`));
    if (state === 'done') progress.value = 1;
    drawTraining();
    drawResults();
  };

  start.addEventListener('click', () => {
    let s: ReturnType<typeof settings>;
    try {
      if (training.running) throw new Error('a run is training: stop it (Train, Stop) or let it finish, then compare');
      s = settings();
    } catch (problem) {
      showError(error, problem);
      return;
    }
    clearError(error);
    current = {
      id: (current?.id ?? 0) + 1,
      rows: [],
      trained: [],
      steps: s.steps,
      blockSize: s.blockSize,
      nEmbd: s.nEmbd,
      losses: new Map(),
      results: new Map(),
      stepsDone: 0,
      startedAt: performance.now(),
      state: 'starting',
    };
    progress.value = 0;
    delete status.dataset.seconds;
    setRunning(true);
    status.textContent = `comparison ${current.id}: starting…`;
    announce.textContent = status.textContent;
    send({
      type: 'compare',
      run: current.id,
      corpus: s.text,
      positions: s.positions,
      tie: s.tie,
      ropeScalings: s.ropeScalings,
      model: { blockSize: s.blockSize, nLayer: s.nLayer, nHead: s.nHead, nEmbd: s.nEmbd },
      steps: s.steps,
      batchSize: s.batchSize,
      learningRate: 3e-3,
      multiples: MULTIPLES,
    });
    drawTraining();
    drawPositions();
    drawResults();
  });

  stop.addEventListener('click', () => {
    const run = current;
    if (!run || !training.comparing) return;
    status.textContent = `comparison ${run.id}: stopping after the current step…`;
    stopTimer = stopOrRestart(
      () => current === run && training.comparing,
      (grace) => finish(run, 'stopped', `the worker did not finish its step within ${grace} of Stop, so it was restarted`),
    );
  });

  window.addEventListener('beforeunload', (event) => {
    if (training.comparing) event.preventDefault();
  });

  const onMessage = (message: FromWorker) => {
    if (message.type === 'error' && message.source === 'compare') {
      if (current?.state === 'starting') finish(current, 'failed', message.message);
      else showError(error, message.message);
      return;
    }
    if (!('run' in message) || !current || message.run !== current.id || current.state === 'stopped') return;
    const run = current;
    if (message.type === 'compare-started') {
      Object.assign(run, { rows: message.rows, trained: message.trained, steps: message.steps, state: 'running' });
      for (const name of message.trained) run.losses.set(name, []);
      status.textContent = `comparison ${run.id}: training ${plural(message.trained.length, 'model')} of ${plural(message.steps, 'step')}…`;
      drawResults();
    } else if (message.type === 'compare-step') {
      const changed = run.variant !== message.variant;
      run.variant = message.variant;
      run.losses.get(message.variant)?.push([message.step, message.loss]);
      run.stepsDone++;
      const total = run.trained.length * run.steps;
      progress.value = run.stepsDone / total;
      const elapsed = (performance.now() - run.startedAt) / 1000;
      const left = (elapsed / run.stepsDone) * (total - run.stepsDone);
      const index = run.trained.indexOf(message.variant) + 1;
      status.textContent = `comparison ${run.id}: model ${index} of ${run.trained.length} (${message.variant}), step ${message.step} of ${run.steps}, loss ${message.loss.toFixed(3)}, ${Math.round(message.tokensPerSecond).toLocaleString('en-US')} tokens/s, about ${duration(left)} left`;
      if (changed) drawResults();
      if (changed || message.step % 5 === 0 || message.step === run.steps) drawTraining();
    } else if (message.type === 'compare-variant') {
      run.results.set(message.result.name, message.result);
      announce.textContent = `comparison ${run.id}: ${message.result.name} evaluated, ${run.results.size} of ${run.rows.length} rows`;
      drawPositions();
      drawResults();
    } else if (message.type === 'compare-done') finish(run, message.status, message.reason);
  };
  listen(onMessage);

  clearOnChange(root, error);
  onCorpusChange(describe);
  root.addEventListener('input', describe);
  root.addEventListener('change', describe);
  tie.addEventListener('change', () => {
    if (!training.comparing) drawTying();
  });
  const encodings = element('fieldset', {}, element('legend', {}, 'Encodings'), ...POSITIONS.map((p) => field(p, positions.get(p)!)));
  const scaled = element(
    'fieldset',
    {},
    element('legend', {}, 'RoPE scalings (rope rows evaluated again, not retrained)'),
    ...SCALINGS.map(([type, label]) => field(label, scalings.get(type)!)),
    field('Factor (2-64)', factor),
  );
  // The charts go into the page first, so ECharts can measure them.
  root.append(
    element(
      'p',
      { class: 'note' },
      'The experiment of `minigpt compare`, in the training worker: every encoding is trained on the same text with the same seed and budget, then its loss is measured on held-out text in windows of 1×, 2×, 4× and 8× the length it was trained on. The default budget is small, to finish in well under a minute; the CLI runs longer ones. Tiny budgets show the mechanics, not research conclusions.',
    ),
    corpusInfo,
    element('div', { class: 'row' }, encodings, field('Head', tie), scaled),
    element(
      'div',
      { class: 'row' },
      field('Steps (10-5000)', steps),
      field('Batch (1-64)', batch),
      field('Context (4-64)', context),
      field('Layers (1-4)', layers),
      field('Heads (1-8)', heads),
      field('Dimensions (8-128)', dims),
    ),
    plan,
    element('div', { class: 'row' }, start, stop),
    error,
    status,
    progress,
    announce,
    positionChart,
    positionNote,
    trainChart,
    element('h3', {}, 'Results'),
    element('p', { class: 'caption', id: 'compare-results-caption' }, 'Held-out loss (nats per token) and perplexity at each multiple of the training length'),
    element('div', { class: 'scroll' }, results),
    refusals,
    element('h3', {}, 'Tied vs untied'),
    element('p', { class: 'caption', id: 'compare-tying-caption' }, 'Tied vs untied output head, per encoding'),
    element('div', { class: 'scroll' }, tying),
    tyingNote,
  );
  describe();
  drawTraining();
  drawPositions();
  drawResults();
}
