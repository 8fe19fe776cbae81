import './style.css';
import { mountCompare } from './panels/compare.js';
import { mountEmbed } from './panels/embed.js';
import { mountExplore } from './panels/explore.js';
import { mountFiles } from './panels/files.js';
import { mountPositions } from './panels/positions.js';
import { mountTokenize } from './panels/tokenize.js';
import { mountTrain } from './panels/train.js';
import { showError } from './ui.js';
import { describeRuntime, requestedThreads, startRuntime } from './wasm.js';
import { listen, send } from './worker-client.js';

const panels: Record<string, (root: HTMLElement) => void> = {
  tokenize: mountTokenize,
  embed: mountEmbed,
  positions: mountPositions,
  train: mountTrain,
  compare: mountCompare,
  explore: mountExplore,
  files: mountFiles,
};
const mounted = new Set<string>();
const status = document.getElementById('runtime')!;
const errorBox = document.getElementById('error')!;
// One line per part (page, worker, notes), replaced when the worker restarts.
const parts = new Map<string, string>();
const report = (key: string, line: string) => {
  parts.set(key, line);
  // Without isolation each worker has one thread, and workers exchange gradients by copies.
  status.textContent = `${[...parts.values()].join(' · ')}${globalThis.crossOriginIsolated ? ' · cross-origin isolated' : ' · not cross-origin isolated (1 thread per worker)'}`;
};

function show(id: string): void {
  for (const tab of document.querySelectorAll<HTMLButtonElement>('[role=tab]')) {
    const selected = tab.getAttribute('aria-controls') === id;
    tab.setAttribute('aria-selected', String(selected));
    tab.tabIndex = selected ? 0 : -1;
    document.getElementById(tab.getAttribute('aria-controls')!)!.hidden = !selected;
  }
  if (!mounted.has(id)) {
    mounted.add(id);
    try {
      panels[id]!(document.getElementById(id)!);
    } catch (error) {
      showError(errorBox, error);
    }
  }
}

const tabs = [...document.querySelectorAll<HTMLButtonElement>('[role=tab]')];
tabs.forEach((tab, index) => {
  tab.addEventListener('click', () => show(tab.getAttribute('aria-controls')!));
  tab.addEventListener('keydown', (event) => {
    // The ARIA tabs pattern: arrows move to the neighbour (wrapping), Home and End to the first and last tab.
    const target = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 }[event.key];
    if (target === undefined) return;
    event.preventDefault();
    const next = tabs[(target + tabs.length) % tabs.length]!;
    next.focus();
    show(next.getAttribute('aria-controls')!);
  });
});
window.addEventListener('unhandledrejection', (event) => showError(errorBox, event.reason));
listen((message) => {
  if (message.type === 'runtime') report('worker', message.text);
  else if (message.type === 'error' && message.source === 'runtime') showError(errorBox, message.message);
});

const { threads, problem } = requestedThreads();
if (problem) report('threads', problem);
send({ type: 'start', ...(threads === undefined ? {} : { threads }) });
// The page's tensors are small (one table, one plot): it keeps to the single-thread build and
// leaves the cores to the worker's training.
startRuntime(1)
  .then((info) => {
    report('page', describeRuntime(info, 'page'));
    show('tokenize');
  })
  .catch((error) => showError(errorBox, error));
