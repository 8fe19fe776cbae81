// The page's side of the training worker: one worker at a time, restarted when a run will not stop.
import type { FromWorker, ToWorker } from './protocol.js';

const listeners = new Set<(message: FromWorker) => void>();
let startMessage: ToWorker | undefined;
let worker = spawn();

function spawn(): Worker {
  const created = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  created.onmessage = (event: MessageEvent<FromWorker>) => {
    for (const listener of listeners) listener(event.data);
  };
  created.onerror = (event) => {
    event.preventDefault();
    for (const listener of listeners) listener({ type: 'error', source: 'runtime', message: `the training worker failed: ${event.message}` });
  };
  return created;
}

/** Whether a run is training (the Save & load panel refuses to load over it). */
export const training = { running: false };

export function send(message: ToWorker, transfer: Transferable[] = []): void {
  if (message.type === 'start') startMessage = message;
  worker.postMessage(message, transfer);
}

export function listen(listener: (message: FromWorker) => void): void {
  listeners.add(listener);
}

/** Ends the worker (and the replicas it started) and starts a fresh one: its model is gone. */
export function restartWorker(): void {
  worker.terminate();
  worker = spawn();
  if (startMessage) worker.postMessage(startMessage);
}
