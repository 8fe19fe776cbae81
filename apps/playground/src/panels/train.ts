import { estimateMemory, type GPTConfig, POSITION_KINDS, PRESETS, type PositionKind, trainedSizes } from '@embedlab/mini-gpt';
import { chart } from '../charts.js';
import { median, productSpeed, StepSpeed } from '../speed.js';
import { corpus, corpusName, MIN_CHARACTERS, onCorpusChange, readCorpusFile, setCorpus, visibleCharacters } from '../corpus.js';
import {
  characters,
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

interface Run {
  id: number;
  label: string;
  steps: number;
  workers: number;
  train: [number, number][];
  validation: [number, number][];
  state: 'starting' | 'running' | 'paused' | 'done' | 'stopped' | 'failed';
  startedAt: number;
  stepAt: number;
  announced: number;
  /** Its sizes, for the device speed its steps measure. */
  shape: Shape;
  /** The first guess of its step's time, and its steps' tokens/s: what it tells of this device. */
  guessed: number;
  speeds: number[];
}

/** Sizes of a run, for the estimate before it starts (`workers`: the workers that get micro-batches). */
interface Shape {
  nLayer: number;
  nHead: number;
  nEmbd: number;
  blockSize: number;
  batchSize: number;
  vocabSize: number;
  tied: boolean;
  position: PositionKind;
  workers: number;
  microBatches: number;
}

/** What one wasm instance may hold: a tab's wasm memory is limited to a few GB and shared with the page. */
const MEMORY_LIMIT = 1e9;
/** A step slower than this gets a warning (the run shows little for minutes); it still starts. */
const SLOW_STEP_SECONDS = 20;
const stepSpeed = new StepSpeed();

function parameters(s: Shape): number {
  return 12 * s.nLayer * s.nEmbd * s.nEmbd + s.vocabSize * s.nEmbd * (s.tied ? 1 : 2) + s.blockSize * s.nEmbd;
}

/** Floating-point operations per token for a forward and backward pass (6 per weight, plus attention). */
function flopsPerToken(s: Shape): number {
  return 6 * parameters(s) + 12 * s.nLayer * s.blockSize * s.nEmbd;
}

/**
 * Bytes one worker holds, by @embedlab/mini-gpt's memory estimate (the one `minigpt train
 * --dry-run` prints and the library checks): weights, gradients, AdamW's moments and one
 * micro-batch's activations, for the model the worker builds (the names preset with these sizes).
 */
function memoryEstimate(s: Shape, parts: string, base?: GPTConfig) {
  const config = base ?? {
    ...PRESETS.names.model,
    blockSize: s.blockSize,
    nLayer: s.nLayer,
    nHead: s.nHead,
    nEmbd: s.nEmbd,
    position: s.position,
    tieWeights: s.tied,
    vocabSize: s.vocabSize,
  };
  // Gradients and AdamW's moments only for what trains (an unknown part is an error naming it).
  return estimateMemory(
    config,
    { mode: 'train', batchSize: s.batchSize / s.microBatches, microBatches: s.microBatches, workers: s.workers, ...trainedSizes(config, parts) },
    { limit: MEMORY_LIMIT },
  );
}

/**
 * Why a run gets fewer workers than asked: each worker takes whole micro-batches, and a batch splits
 * into as many as its largest divisor up to the workers (so any count of workers trains the same numbers).
 */
function fewerWorkers(s: Shape, asked: number): string {
  if (s.workers >= asked) return '';
  const even = Math.ceil(s.batchSize / asked) * asked;
  return `; trains on ${plural(s.workers, 'worker')}, not ${asked}: batch ${s.batchSize} splits evenly into ${s.microBatches} micro-batch${s.microBatches === 1 ? '' : 'es'} only (batch ${even} gives each of ${asked} workers a share)`;
}

const megabytes = (bytes: number) => (bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${Math.max(1, Math.round(bytes / 1e6))} MB`);

export function mountTrain(root: HTMLElement): void {
  const cores = Math.max(1, Math.min(16, navigator.hardwareConcurrency || 1));
  const corpusFile = element('input', { type: 'file', accept: '.txt,text/plain', id: 'train-corpus-file' });
  const corpusInfo = element('p', { class: 'note field-note', id: 'train-corpus-info' });
  corpusFile.setAttribute('aria-describedby', corpusInfo.id);
  const tokenizer = select(
    [
      ['char', 'char-level'],
      ['bpe', 'BPE (384, trained on the corpus)'],
    ],
    'char',
  );
  tokenizer.id = 'train-tokenizer';
  const position = select(
    POSITION_KINDS.map((p) => [p, p] as [string, string]),
    'learned',
  );
  position.id = 'train-position';
  const tie = element('input', { type: 'checkbox', checked: '', id: 'train-tie' });
  const layers = Object.assign(numberInput(2, 1, 8), { id: 'train-layers' });
  const heads = Object.assign(numberInput(4, 1, 16), { id: 'train-heads' });
  const dims = Object.assign(numberInput(64, 8, 256, 8), { id: 'train-dims' });
  const block = Object.assign(numberInput(16, 4, 128), { id: 'train-context' });
  const batch = Object.assign(numberInput(32, 1, 64), { id: 'train-batch' });
  const steps = Object.assign(numberInput(300, 10, 100000, 10), { id: 'train-steps' });
  // All cores on a cross-origin-isolated page (gradients through SharedArrayBuffer); one otherwise.
  const workers = Object.assign(numberInput(globalThis.crossOriginIsolated ? cores : 1, 1, cores), { id: 'train-workers' });
  // Start from new random weights, or fine-tune the model in use (a finished run's, or one loaded in Save & load).
  const startFrom = select(
    [
      ['random', 'new random weights'],
      ['current', 'the model in use (fine-tune)'],
    ],
    'random',
  );
  startFrom.id = 'train-start-from';
  const currentOption = startFrom.querySelector<HTMLOptionElement>('option[value="current"]')!;
  currentOption.disabled = true;
  const parts = element('input', { type: 'text', value: 'all', id: 'train-parts', list: 'train-parts-choices', size: '14' });
  const partChoices = element(
    'datalist',
    { id: 'train-parts-choices' },
    ...['all', 'embeddings', 'positions', 'head', 'blocks', 'norms', 'blocks:0', 'embeddings,positions'].map((value) => element('option', { value })),
  );
  let modelInUse: { config: GPTConfig; label: string } | undefined;
  const estimate = element('p', { class: 'note', id: 'train-estimate' });
  const start = element('button', { id: 'train-start' }, 'Train');
  const pause = element('button', { id: 'train-pause', disabled: '' }, 'Pause');
  const stop = element('button', { id: 'train-stop', disabled: '' }, 'Stop');
  const clear = element('button', { id: 'train-clear', disabled: '' }, 'Clear finished runs');
  const error = errorBox('train-error');
  const status = element('p', { id: 'train-status' }, 'ready');
  const progress = element('progress', { id: 'train-progress', max: '1', value: '0', 'aria-label': 'Training progress' });
  // Screen readers hear milestones only (start, half way, pause, the end), not every step.
  const announce = element('p', { id: 'train-announce', class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
  const lossChart = element('div', { class: 'chart', id: 'train-loss' });
  const samples = element('div', { class: 'samples', id: 'train-samples', 'aria-label': 'Samples' });
  const runKey = element('ul', { class: 'note', id: 'train-runs', 'aria-label': 'Runs on the chart' });
  const runs: Run[] = [];
  let current: Run | undefined;
  let stopTimer: ReturnType<typeof setTimeout> | undefined;
  let sampleLog: string[] = [];
  /** Runs are numbered in the order they start, those that left nothing on the chart included. */
  let runsStarted = 0;

  const describeCorpus = () => {
    const text = corpus();
    corpusInfo.textContent =
      corpusName() === 'names'
        ? `shipped corpus: ${plural(text.split('\n').length, 'first name')}`
        : `${corpusName()}: ${plural(characters(text), 'character')}`;
  };
  let vocabulary = new Set(corpus()).size;
  onCorpusChange((text) => {
    vocabulary = new Set(text).size;
    describeCorpus();
    updateEstimate();
  });

  const draw = () => {
    const shown = runs
      .flatMap((r) => [
        // Short names: the legend fits a phone; the list under the chart gives each run's settings.
        { name: `run ${r.id} train`, data: r.train },
        { name: `run ${r.id} validation`, data: r.validation },
      ])
      .filter((s) => s.data.length > 0);
    chart(
      lossChart,
      {
        // Redrawn as steps arrive: no animation (it would lag behind the run, and moves for nothing).
        animation: false,
        title: { text: 'loss (nats per token)' },
        tooltip: { trigger: 'axis' },
        legend: { bottom: 0, type: 'plain' },
        grid: { top: 40, bottom: 60, left: 55, right: 20 },
        xAxis: { type: 'value', name: 'step', nameLocation: 'middle', nameGap: 25 },
        yAxis: { type: 'value', scale: true, name: 'loss', axisLabel: { formatter: short } },
        series: shown.map((s) => ({ name: s.name, type: 'line', showSymbol: false, data: s.data })),
      },
      shown.length === 0
        ? 'loss chart: no runs yet'
        : `loss chart: ${runs.map((r) => `${r.label}: ${r.state}${r.train.length ? `, loss from ${short(r.train[0]![1])} at step ${r.train[0]![0]} to ${short(r.train.at(-1)![1])} at step ${r.train.at(-1)![0]}` : ''}${r.validation.length ? `, validation ${short(r.validation.at(-1)![1])}` : ''}`).join('; ')}`,
    );
    runKey.replaceChildren(...runs.map((r) => element('li', { 'data-run': String(r.id) }, `${r.label}: ${r.state}`)));
  };

  /** Reads and checks every setting; throws an InputError naming the field. */
  const settings = () => {
    const fineTune = startFrom.value === 'current' ? modelInUse : undefined;
    if (startFrom.value === 'current' && !fineTune) throw new InputError(startFrom, 'there is no model in use yet: train one, or open one in Save & load');
    const c = fineTune?.config;
    const values = {
      nLayer: c ? c.nLayer : readInteger(layers, 'Layers'),
      nHead: c ? c.nHead : readInteger(heads, 'Heads'),
      nEmbd: c ? c.nEmbd : readInteger(dims, 'Dimensions'),
      blockSize: c ? c.blockSize : readInteger(block, 'Context'),
      batchSize: readInteger(batch, 'Batch'),
      steps: readInteger(steps, 'Steps'),
      workers: readInteger(workers, 'Workers'),
    };
    if (values.nEmbd % values.nHead !== 0)
      throw new InputError(
        heads,
        `Dimensions (${values.nEmbd}) must be a multiple of Heads (${values.nHead}): try ${values.nHead * Math.max(1, Math.round(values.nEmbd / values.nHead))} dimensions`,
      );
    // Micro-batches per step: the largest divisor of the batch up to the cores (or the workers asked),
    // whatever the number of workers, so 1 worker and all of them train the same numbers.
    let microBatches = Math.min(values.batchSize, Math.max(cores, values.workers));
    while (values.batchSize % microBatches !== 0) microBatches--;
    const shape: Shape = {
      ...values,
      workers: Math.min(values.workers, microBatches),
      microBatches,
      vocabSize: c ? c.vocabSize : tokenizer.value === 'char' ? vocabulary : 384,
      tied: c ? c.tieWeights : tie.checked,
      position: c ? c.position : (position.value as PositionKind),
    };
    const train = parts.value.trim() || 'all';
    return { ...values, microBatches, shape, train, fineTune };
  };

  /** Why the last estimate could not be made (a bad setting): Train refuses with it. */
  let estimateProblem: unknown;
  const updateEstimate = () => {
    try {
      const { shape, steps: total, train, fineTune } = settings();
      let memory: ReturnType<typeof memoryEstimate>;
      try {
        memory = memoryEstimate(shape, train, fineTune?.config);
      } catch (problem) {
        throw new InputError(parts, `Train: ${(problem as Error).message.replace(/^train: train must be /, 'must be ')}`);
      }
      const bytes = memory.perWorker;
      const products = productSpeed((shape.batchSize / shape.microBatches) * shape.blockSize, shape.nEmbd);
      const guessed = stepSpeed.firstGuess(flopsPerToken(shape) * shape.batchSize * shape.blockSize, shape.workers, shape.nLayer, products);
      const seconds = stepSpeed.seconds(guessed);
      const verdict = !memory.fits
        ? ' — too large: it would not fit in the wasm memory of a tab'
        : seconds > SLOW_STEP_SECONDS
          ? ' — slow to watch: it starts if you ask, or make the model, context or batch smaller'
          : '';
      const speedSource = stepSpeed.runs
        ? `the median speed of ${plural(stepSpeed.runs, 'run')} on this device`
        : 'a first guess from a product of this size timed on this device';
      estimate.textContent = `${fineTune ? `fine-tunes ${fineTune.label}; ` : ''}≈ ${memory.parameterCount.toLocaleString('en-US')} parameters, ≈ ${megabytes(bytes)} per worker, ≈ ${duration(seconds)} per step, ≈ ${duration(seconds * total)} for ${plural(total, 'step')} (${speedSource})${verdict}${fewerWorkers(shape, readInteger(workers, 'Workers'))}`;
      estimate.dataset.stepSeconds = String(seconds);
      estimate.classList.toggle('warning', verdict !== '');
      return { bytes, fits: memory.fits, seconds, guessed };
    } catch (problem) {
      estimate.textContent = (problem as Error).message;
      estimate.classList.add('warning');
      estimateProblem = problem;
      return undefined;
    }
  };

  const setRunning = (running: boolean) => {
    training.running = running;
    const hadFocus = document.activeElement;
    start.disabled = running;
    pause.disabled = !running;
    stop.disabled = !running;
    clear.disabled = running ? runs.length <= 1 : runs.length === 0;
    // Focus never drops to the page when the focused button disables itself.
    if (running && hadFocus === start) stop.focus();
    if (!running && (hadFocus === stop || hadFocus === pause)) start.focus();
  };

  const finish = (run: Run, state: 'done' | 'stopped' | 'failed', reason: string) => {
    clearTimeout(stopTimer);
    run.state = state;
    // A run that never took a step leaves nothing on the chart (and nothing to clear).
    if (run.train.length === 0) runs.splice(runs.indexOf(run), 1);
    setRunning(false);
    pause.textContent = 'Pause';
    status.textContent = `run ${run.id}: ${state}, ${reason}`;
    announce.textContent = status.textContent;
    if (state === 'failed') showError(error, new Error(`run ${run.id} failed: ${reason}`));
    // What this run measured of the device makes the next estimates.
    if (run.speeds.length > 0) stepSpeed.record((run.shape.batchSize * run.shape.blockSize) / median(run.speeds), run.guessed);
    if (state === 'done') progress.value = 1;
    current = undefined;
    draw();
  };

  corpusFile.addEventListener('change', async () => {
    const file = corpusFile.files?.[0];
    if (!file) return;
    try {
      setCorpus(await readCorpusFile(file), file.name);
    } catch (problem) {
      showError(error, problem);
    }
  });

  start.addEventListener('click', () => {
    let values: ReturnType<typeof settings>;
    let guess: NonNullable<ReturnType<typeof updateEstimate>>;
    try {
      // One worker trains one thing at a time.
      if (training.comparing) throw new Error('a comparison is running: stop it (Compare, Stop) or let it finish, then train');
      values = settings();
      const need = MIN_CHARACTERS[tokenizer.value as 'char' | 'bpe'];
      const visible = visibleCharacters(corpus());
      if (visible < need)
        throw new InputError(
          tokenizer,
          `${corpusName()} has ${plural(visible, 'character')} that are not whitespace; the ${tokenizer.value === 'bpe' ? 'BPE tokenizer needs at least 2,000 to learn merges from' : 'char tokenizer needs at least 100'}`,
        );
      const estimated = updateEstimate();
      if (!estimated) throw estimateProblem;
      guess = estimated;
      if (!guess.fits)
        throw new InputError(
          layers,
          `this model needs ≈ ${megabytes(guess.bytes)} per worker, more than the ${megabytes(MEMORY_LIMIT)} a browser tab's wasm memory can hold for training: lower the layers, dimensions, context or batch`,
        );
    } catch (problem) {
      showError(error, problem);
      return;
    }
    clearError(error);
    const id = ++runsStarted;
    const { shape } = values;
    const trains = values.train === 'all' ? '' : `, training ${values.train}`;
    const label = values.fineTune
      ? `run ${id}: fine-tune of ${values.fineTune.label}, ${corpusName()}${trains}`
      : `run ${id}: ${tokenizer.value}, ${corpusName()}, ${shape.nLayer}L ${shape.nHead}H ${shape.nEmbd}d ctx ${shape.blockSize}, ${position.value} ${tie.checked ? 'tied' : 'untied'}${trains}`;
    current = {
      id,
      label,
      steps: values.steps,
      workers: values.workers,
      train: [],
      validation: [],
      state: 'starting',
      startedAt: performance.now(),
      stepAt: 0,
      announced: 0,
      shape,
      guessed: guess.guessed,
      speeds: [],
    };
    runs.push(current);
    sampleLog = [];
    samples.textContent = '';
    delete lossChart.dataset.firstLoss;
    lossChart.dataset.losses = '[]';
    progress.value = 0;
    setRunning(true);
    status.textContent = `run ${id}: starting…`;
    announce.textContent = `run ${id} starting`;
    send({
      type: 'train',
      run: id,
      corpus: corpus(),
      tokenizer: tokenizer.value as 'char' | 'bpe',
      model: {
        blockSize: shape.blockSize,
        nLayer: shape.nLayer,
        nHead: shape.nHead,
        nEmbd: shape.nEmbd,
        position: position.value as PositionKind,
        tieWeights: tie.checked,
      },
      steps: values.steps,
      batchSize: shape.batchSize,
      learningRate: 3e-3,
      workers: values.workers,
      microBatches: values.microBatches,
      startFrom: values.fineTune ? 'current' : 'random',
      train: values.train,
    });
  });
  pause.addEventListener('click', () => {
    if (!current) return;
    const pausing = current.state !== 'paused';
    send({ type: pausing ? 'pause' : 'resume' });
    current.state = pausing ? 'paused' : 'running';
    pause.textContent = pausing ? 'Resume' : 'Pause';
    status.textContent = pausing
      ? `run ${current.id}: paused at step ${current.stepAt} of ${current.steps}`
      : `run ${current.id}: resuming at step ${current.stepAt} of ${current.steps}…`;
    announce.textContent = status.textContent;
  });
  stop.addEventListener('click', () => {
    const run = current;
    if (!run) return;
    status.textContent = `run ${run.id}: stopping after the current step…`;
    stopTimer = stopOrRestart(
      () => current === run,
      (grace) =>
        finish(
          run,
          'stopped',
          `at step ${run.stepAt} of ${run.steps}: the worker did not finish its step within ${grace} of Stop, so it was restarted (this run's model is gone)`,
        ),
    );
  });
  clear.addEventListener('click', () => {
    runs.splice(0, runs.length, ...runs.filter((r) => r === current));
    clear.disabled = true;
    draw();
  });
  window.addEventListener('beforeunload', (event) => {
    if (training.running) event.preventDefault();
  });

  listen((message) => {
    if (message.type === 'model') {
      modelInUse = { config: message.config, label: message.label };
      currentOption.disabled = false;
      currentOption.textContent = `the model in use: ${message.label} (fine-tune)`;
      updateEstimate();
      return;
    }
    if (message.type === 'error' && message.source === 'train') {
      if (current && current.state === 'starting') finish(current, 'failed', message.message);
      else showError(error, message.message);
      return;
    }
    if (!('run' in message) || !current || message.run !== current.id) return;
    const run = current;
    if (message.type === 'preparing') {
      status.textContent = `run ${run.id}: ${message.text}…`;
    } else if (message.type === 'started') {
      run.workers = message.workers;
      run.label += `, ${plural(message.workers, 'worker')}`;
      run.state = 'running';
      status.textContent = `run ${run.id}: started on ${plural(message.workers, 'worker')}${message.note ? ` (${message.note})` : ''}`;
      announce.textContent = status.textContent;
    } else if (message.type === 'step') {
      run.train.push([message.step, message.loss]);
      run.stepAt = message.step;
      if (run.state === 'starting') run.state = 'running';
      // For people reading the page source and for the end-to-end test: the run's losses.
      lossChart.dataset.firstLoss ??= String(message.loss);
      lossChart.dataset.lastLoss = String(message.loss);
      lossChart.dataset.losses = JSON.stringify(run.train.map(([, loss]) => loss));
      if (message.step % 5 === 0 || message.step === 1) draw();
      const fraction = message.step / run.steps;
      progress.value = fraction;
      const elapsed = (performance.now() - run.startedAt) / 1000;
      const eta = message.step > 0 ? (elapsed / message.step) * (run.steps - message.step) : 0;
      if (run.state !== 'paused')
        status.textContent = `run ${run.id}: step ${message.step} of ${run.steps} (${Math.floor(fraction * 100)}%), loss ${message.loss.toFixed(3)}, ${Math.round(message.tokensPerSecond).toLocaleString('en-US')} tokens/s on ${plural(run.workers, 'worker')}, about ${duration(eta)} left`;
      else status.textContent = `run ${run.id}: paused at step ${message.step} of ${run.steps}`;
      if (fraction >= 0.5 && run.announced < 0.5) {
        run.announced = 0.5;
        announce.textContent = `run ${run.id}: half way, loss ${message.loss.toFixed(2)}`;
      }
      // The first steps compile and warm up: the device's speed is read from the rest.
      if (message.step > 3) run.speeds.push(message.tokensPerSecond);
    } else if (message.type === 'eval') {
      run.validation.push([message.step, message.validationLoss]);
      draw();
    } else if (message.type === 'sample') {
      // The latest samples first, and only the last few runs of samples (the list stays short).
      sampleLog = [`after ${message.step} steps:\n${message.text}`, ...sampleLog].slice(0, 6);
      samples.textContent = sampleLog.join('\n\n');
    } else if (message.type === 'done') {
      finish(run, message.status, message.reason);
      updateEstimate();
    }
  });

  clearOnChange(root, error);
  root.addEventListener('input', updateEstimate);
  root.addEventListener('change', updateEstimate);
  root.append(
    element(
      'p',
      { class: 'note' },
      'Train a small GPT in Web Workers on the WASM backend (data-parallel: each worker takes its share of every batch); runs stay on the chart so two can be compared (tied vs untied, learned vs RoPE).',
    ),
    element('div', { class: 'row' }, field('Corpus (.txt)', corpusFile)),
    corpusInfo,
    element('div', { class: 'row' }, field('Start from', startFrom), field('Train (the rest frozen)', parts), partChoices),
    element(
      'div',
      { class: 'row' },
      field('Tokenizer', tokenizer),
      field('Positions', position),
      field('Tie weights', tie),
      field('Layers (1-8)', layers),
      field('Heads (1-16)', heads),
      field('Dimensions (8-256)', dims),
      field('Context (4-128)', block),
      field('Batch (1-64)', batch),
      field('Steps', steps),
      field(`Workers (1-${cores})`, workers),
    ),
    estimate,
    element('div', { class: 'row' }, start, pause, stop, clear),
    error,
    status,
    progress,
    announce,
    lossChart,
    runKey,
    element('h3', {}, 'Samples'),
    samples,
  );
  describeCorpus();
  updateEstimate();
  draw();
}
