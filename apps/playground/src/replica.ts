// A data-parallel replica: a Web Worker the training worker starts, with its own wasm instance on
// one thread, computing the gradients of its share of each batch (the library's serveReplica).
import { serveReplica } from '@embedlab/mini-gpt';
import { startRuntime } from './wasm.js';

const scope = self as unknown as Worker;
// Messages that arrive while the runtime starts wait here for serveReplica's listener.
const early: unknown[] = [];
let listener: ((message: unknown) => void) | undefined;
scope.onmessage = (event: MessageEvent) => (listener ? listener(event.data) : early.push(event.data));

startRuntime(1)
  .then(() =>
    serveReplica({
      postMessage: (message, transfer) => scope.postMessage(message, transfer ?? []),
      onMessage: (receive) => {
        listener = receive;
        for (const message of early.splice(0)) receive(message);
      },
    }),
  )
  .catch((error: Error) => scope.postMessage({ type: 'error', message: `the replica's runtime did not start: ${error.message}` }));
