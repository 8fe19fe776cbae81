// The page's side of the training worker: one worker at a time, restarted when a run will not stop.
import type { FromWorker, ToWorker } from './protocol.js';
import { duration } from './ui.js';

const listeners = new Set<(message: FromWorker) => void>();
/** The last "model in use" message: a panel mounted after it hears it too. */
let modelInUse: FromWorker | undefined;
let startMessage: ToWorker | undefined;
let worker = spawn();

function spawn(): Worker {
  const created = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  created.onmessage = (event: MessageEvent<FromWorker>) => {
    if (event.data.type === 'model') modelInUse = event.data;
    for (const listener of listeners) listener(event.data);
  };
  created.onerror = (event) => {
    event.preventDefault();
    for (const listener of listeners) listener({ type: 'error', source: 'runtime', message: `the training worker failed: ${event.message}` });
  };
  return created;
}

/**
 * What the worker is busy with: a Train run (the Save & load panel refuses to load over it) or a
 * comparison (Compare). Each refuses to start while the other runs.
 */
export const training = { running: false, comparing: false };

/** Grace after Stop before the worker is ended and restarted (`?stopAfter=ms` shortens it, for tests). */
const stopGraceMs = (() => {
  const query = new URLSearchParams(location.search);
  const asked = Number(query.get('stopAfter'));
  return query.has('stopAfter') && Number.isFinite(asked) && asked >= 0 ? asked : 10_000;
})();

export function send(message: ToWorker, transfer: Transferable[] = []): void {
  if (message.type === 'start') startMessage = message;
  worker.postMessage(message, transfer);
}

/** Hears every message from the worker from now on, and the model in use if there is one already. */
export function listen(listener: (message: FromWorker) => void): void {
  listeners.add(listener);
  const known = modelInUse;
  // After the panel that listens has finished mounting.
  if (known) queueMicrotask(() => listener(known));
}

/** Ends the worker (and the replicas it started) and starts a fresh one: its model is gone. */
function restartWorker(): void {
  worker.terminate();
  modelInUse = undefined;
  worker = spawn();
  if (startMessage) worker.postMessage(startMessage);
}

/**
 * Asks the worker to stop after its current step. A step that does not come back (a model too
 * big for the device) cannot be stopped from the inside: if `stillRunning()` after the grace
 * period, the worker is ended, a fresh one started, and `restarted` told how long it waited.
 * Returns the timer, to clear when the run ends.
 */
export function stopOrRestart(stillRunning: () => boolean, restarted: (grace: string) => void): ReturnType<typeof setTimeout> {
  send({ type: 'stop' });
  return setTimeout(() => {
    if (!stillRunning()) return;
    restartWorker();
    restarted(duration(stopGraceMs / 1000));
  }, stopGraceMs);
}
