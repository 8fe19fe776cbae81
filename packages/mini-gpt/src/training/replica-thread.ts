// The entry of a Node training worker thread (`startWorkers`): starts the runtime and serves a replica.
import { parentPort, workerData } from 'node:worker_threads';
import { type BackendName, ready } from '@embedlab/runtime';
import { serveReplica } from './data-parallel.js';

const port = parentPort!;
await ready({ backend: (workerData as { backend: BackendName }).backend });
serveReplica({ postMessage: (message, transfer) => port.postMessage(message, transfer as never), onMessage: (listener) => port.on('message', listener) });
