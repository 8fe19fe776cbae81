import type { PositionKind } from '@embedlab/mini-gpt';
import { chart } from '../charts.js';
import { corpus, setCorpus } from '../corpus.js';
import { listen, send } from '../worker-client.js';
import { clearError, element, field, numberInput, select, showError } from '../ui.js';

interface Series {
  name: string;
  data: [number, number][];
}

export function mountTrain(root: HTMLElement): void {
  const corpusFile = element('input', { type: 'file', accept: '.txt,text/plain', id: 'train-corpus-file' });
  const corpusInfo = element('span', { class: 'note', id: 'train-corpus-info' }, `shipped corpus: ${corpus().split('\n').length} first names`);
  const tokenizer = select([['char', 'char-level'], ['bpe', 'BPE (384, trained on the corpus)']], 'char');
  const position = select(['learned', 'sinusoidal', 'rope', 'alibi', 'none'].map((p) => [p, p] as [string, string]), 'learned');
  position.id = 'train-position';
  const tie = element('input', { type: 'checkbox', checked: '', id: 'train-tie' });
  const layers = numberInput(2, 1, 8);
  const heads = numberInput(4, 1, 16);
  const dims = numberInput(64, 8, 256, 8);
  const block = numberInput(16, 4, 128);
  const steps = numberInput(300, 10, 100000, 10);
  steps.id = 'train-steps';
  const start = element('button', { id: 'train-start' }, 'Train');
  const pause = element('button', { id: 'train-pause', disabled: '' }, 'Pause');
  const stop = element('button', { id: 'train-stop', disabled: '' }, 'Stop');
  const status = element('p', { id: 'train-status', role: 'status', 'aria-live': 'polite' }, 'ready');
  const lossChart = element('div', { class: 'chart', id: 'train-loss' });
  const samples = element('div', { class: 'samples', id: 'train-samples', 'aria-label': 'Samples' });
  const series: Series[] = [];
  let run = 0;
  let running = false;
  let isPaused = false;

  const draw = () =>
    chart(lossChart, {
      title: { text: 'loss (nats per token)', textStyle: { fontSize: 13 } },
      tooltip: { trigger: 'axis' },
      legend: { bottom: 0, type: 'scroll' },
      grid: { top: 30, bottom: 60, left: 50, right: 20 },
      xAxis: { type: 'value', name: 'step' },
      yAxis: { type: 'value', scale: true },
      series: series.map((s) => ({ name: s.name, type: 'line', showSymbol: false, data: s.data })),
    });

  corpusFile.addEventListener('change', async () => {
    const file = corpusFile.files?.[0];
    if (!file) return;
    try {
      setCorpus(await file.text());
      corpusInfo.textContent = `${file.name}: ${corpus().length.toLocaleString('en-US')} characters`;
      clearError();
    } catch (error) {
      showError(new Error(`${file.name}: ${(error as Error).message}`));
    }
  });

  start.addEventListener('click', () => {
    const nEmbd = Number(dims.value);
    const nHead = Number(heads.value);
    if (nEmbd % nHead !== 0) {
      showError(new Error(`dimensions (${nEmbd}) must be a multiple of heads (${nHead})`));
      return;
    }
    clearError();
    run++;
    const label = `run ${run} (${position.value}, ${tie.checked ? 'tied' : 'untied'})`;
    series.push({ name: `${label} train`, data: [] }, { name: `${label} validation`, data: [] });
    samples.textContent = '';
    delete lossChart.dataset.firstLoss;
    running = true;
    start.disabled = true;
    pause.disabled = false;
    stop.disabled = false;
    status.textContent = `run ${run}: starting…`;
    send({
      type: 'train',
      run,
      corpus: corpus(),
      tokenizer: tokenizer.value as 'char' | 'bpe',
      model: { blockSize: Number(block.value), nLayer: Number(layers.value), nHead, nEmbd, position: position.value as PositionKind, tieWeights: tie.checked },
      steps: Number(steps.value),
      batchSize: 32,
      learningRate: 3e-3,
    });
  });
  pause.addEventListener('click', () => {
    isPaused = !isPaused;
    send({ type: isPaused ? 'pause' : 'resume' });
    pause.textContent = isPaused ? 'Resume' : 'Pause';
    status.textContent = isPaused ? `run ${run}: paused` : status.textContent;
  });
  stop.addEventListener('click', () => send({ type: 'stop' }));

  listen((message) => {
    if (!('run' in message) || message.run !== run) return;
    const [trainSeries, validationSeries] = series.slice(-2) as [Series, Series];
    if (message.type === 'step') {
      trainSeries.data.push([message.step, message.loss]);
      // For people reading the page source and for the end-to-end test: the run's first and last loss.
      lossChart.dataset.firstLoss ??= String(message.loss);
      lossChart.dataset.lastLoss = String(message.loss);
      if (message.step % 5 === 0) draw();
      status.textContent = `run ${run}: step ${message.step}, loss ${message.loss.toFixed(3)}, ${message.tokensPerSecond.toFixed(0)} tokens/s`;
    } else if (message.type === 'eval') {
      validationSeries.data.push([message.step, message.validationLoss]);
      draw();
    } else if (message.type === 'sample') {
      samples.textContent = `after ${message.step} steps:\n${message.text}\n\n${samples.textContent}`;
    } else if (message.type === 'done') {
      running = false;
      isPaused = false;
      start.disabled = false;
      pause.disabled = true;
      pause.textContent = 'Pause';
      stop.disabled = true;
      status.textContent = `run ${run}: done, ${message.reason}`;
      draw();
    }
  });
  listen((message) => {
    if (message.type === 'error' && running) {
      running = false;
      start.disabled = false;
      pause.disabled = true;
      stop.disabled = true;
    }
  });

  root.append(
    element('p', { class: 'note' }, 'Train a small GPT in a Web Worker on the WASM backend; runs stay on the chart so two can be compared (tied vs untied, learned vs RoPE).'),
    element('div', { class: 'row' }, field('Corpus (.txt)', corpusFile), corpusInfo),
    element('div', { class: 'row' }, field('Tokenizer', tokenizer), field('Positions', position), field('Tie weights', tie), field('Layers', layers), field('Heads', heads), field('Dimensions', dims), field('Context', block), field('Steps', steps)),
    element('div', { class: 'row' }, start, pause, stop),
    status,
    lossChart,
    element('h3', {}, 'Samples'),
    samples,
  );
  draw();
}
