import type { FromWorker, ToWorker } from './protocol.js';
import { showError } from './ui.js';

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
const listeners = new Set<(message: FromWorker) => void>();

worker.onmessage = (event: MessageEvent<FromWorker>) => {
  if (event.data.type === 'error') showError(event.data.message);
  for (const listener of listeners) listener(event.data);
};
worker.onerror = (event) => showError(`the training worker failed: ${event.message}`);

export function send(message: ToWorker, transfer: Transferable[] = []): void {
  worker.postMessage(message, transfer);
}

export function listen(listener: (message: FromWorker) => void): void {
  listeners.add(listener);
}
