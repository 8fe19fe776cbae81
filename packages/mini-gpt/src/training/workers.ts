// Data-parallel replicas on worker threads, each with the model on its own wasm instance. Node only.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type BackendName, tf } from '@embedlab/runtime';
import { connectReplicas, type ReplicaEndpoint, type ReplicaPool } from './data-parallel.js';

/** Threads `--workers auto` uses: the cores this process may run on. */
export function availableWorkers(): number {
  return availableParallelism();
}

/**
 * `count` threads for data-parallel training (`train({ workers })`): this one and `count - 1`
 * worker threads, each with the model on its own wasm instance. Close the pool when done.
 */
export async function startWorkers(count: number): Promise<ReplicaPool> {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`startWorkers: count must be a positive integer, got ${count}`);
  const backend = tf.getBackend() as BackendName;
  const endpoints = Array.from({ length: count - 1 }, (): ReplicaEndpoint => {
    const worker = new Worker(new URL('./replica-thread.js', import.meta.url), { workerData: { backend } });
    const listeners: ((message: unknown) => void)[] = [];
    worker.on('message', (message) => {
      for (const listener of listeners) listener(message);
    });
    // A worker that dies answers its pending step with an error instead of leaving it hanging.
    worker.on('error', (error) => {
      for (const listener of listeners) listener({ type: 'error', message: error.message });
    });
    return {
      postMessage: (message, transfer) => worker.postMessage(message, transfer as never),
      onMessage: (listener) => void listeners.push(listener),
      terminate: () => void worker.terminate(),
    };
  });
  return connectReplicas(endpoints);
}
