// Data-parallel training: replicas of the model on their own wasm instances (worker threads in
// Node, Web Workers in a browser) each compute the gradients of some of a step's micro-batches;
// the main thread sums them in micro-batch order and applies the one AdamW update, then hands the
// new weights to every replica. Browser-safe: the environment supplies the endpoints.
import { type Tensor, tf, type Variable } from '@embedlab/runtime';
import type { GPTConfig } from '../model/config.js';
import { type TokenDataset, type Windows, windowTensors } from '../data/data.js';
import { createModel, type MiniGPT } from '../model/model.js';
import { createRng } from './rng.js';

/** One side of a message channel: a Web Worker, a worker_threads Worker wrapped, or `self` inside one. */
export interface ReplicaEndpoint {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  onMessage(listener: (message: unknown) => void): void;
  terminate?(): void;
}

export type ToReplica =
  | { type: 'init'; config: GPTConfig; trained: string[]; weights: Float32Array; grads: Float32Array | undefined }
  | { type: 'step'; step: number; micro: number; windows: Windows; batchSize: number; seed: number; divisor: number; weights?: Float32Array };

export type FromReplica = { type: 'ready' } | { type: 'grads'; micro: number; loss: number; grads?: Float32Array } | { type: 'error'; message: string };

/**
 * The training windows of a micro-batch, drawn from (seed, step, micro): the main thread draws
 * them for every micro-batch, so workers need no copy of the data (which may be a file).
 */
export function microBatchWindows(
  dataset: Pick<TokenDataset, 'windows'>,
  step: number,
  micro: number,
  batchSize: number,
  blockSize: number,
  seed: number,
): Windows {
  return dataset.windows('train', batchSize, blockSize, createRng(seed, 1, step, micro));
}

/**
 * The gradients of one micro-batch's loss divided by `divisor` (the micro-batches per step),
 * with dropout masks drawn from (seed, step, micro), whichever thread runs it.
 */
export function microBatchGradients(
  model: MiniGPT,
  windows: Windows,
  step: number,
  micro: number,
  batchSize: number,
  seed: number,
  divisor: number,
  variables: Variable[] = model.trainableVariables,
): { loss: number; grads: Tensor[] } {
  const { x, y } = windowTensors(windows, batchSize, model.config.blockSize);
  const dropoutRng = createRng(seed, 3, step, micro);
  const { value, grads } = tf.variableGrads(() => tf.div(model.loss(x, y, { dropoutSeed: dropoutRng.seed }), divisor) as tf.Scalar, variables);
  const loss = value.dataSync()[0]!;
  tf.dispose([value, x, y]);
  return { loss, grads: variables.map((variable) => grads[variable.name]!) };
}

/** Adds micro-batch results in the order given (float addition is not associative: one order, one result). */
function sumInOrder(results: Iterable<{ loss: number; grads: Tensor[] }>): { loss: number; grads: Tensor[] } {
  let loss = 0;
  let sums: Tensor[] | undefined;
  for (const result of results) {
    loss += result.loss;
    if (!sums) sums = result.grads;
    else {
      const next = sums.map((sum, i) => tf.add(sum, result.grads[i]!));
      tf.dispose([...sums, ...result.grads]);
      sums = next;
    }
  }
  return { loss, grads: sums! };
}

/** The summed gradients of a step's micro-batches, one after another on this thread. */
export function localGradients(
  model: MiniGPT,
  dataset: Pick<TokenDataset, 'windows'>,
  step: number,
  micros: number,
  batchSize: number,
  seed: number,
  variables: Variable[] = model.trainableVariables,
): { loss: number; grads: Tensor[] } {
  // A generator: each micro-batch's gradients are added before the next is computed.
  function* each() {
    for (let micro = 0; micro < micros; micro++) {
      const windows = microBatchWindows(dataset, step, micro, batchSize, model.config.blockSize, seed);
      yield microBatchGradients(model, windows, step, micro, batchSize, seed, micros, variables);
    }
  }
  return sumInOrder(each());
}

/** Writes every variable (or gradient) into one flat array, in the model's order. */
function flatten(tensors: Tensor[], into: Float32Array): void {
  let at = 0;
  for (const tensor of tensors) {
    into.set(tensor.dataSync() as Float32Array, at);
    at += tensor.size;
  }
}

/** The state_dict names of `variables`, in the model's order. */
function namesOf(model: MiniGPT, variables: Variable[]): string[] {
  const chosen = new Set(variables);
  return [...model.stateDict()].filter(([, variable]) => chosen.has(variable)).map(([name]) => name);
}

/**
 * Tensors of `variables`' shapes from one flat array, each with a copy of its part: the cpu
 * backend keeps the array a tensor is made from, and the flat buffers are written again.
 */
function unflatten(flat: Float32Array, variables: Variable[]): Tensor[] {
  let at = 0;
  return variables.map((variable) => {
    const tensor = tf.tensor(flat.slice(at, at + variable.size), variable.shape);
    at += variable.size;
    return tensor;
  });
}

const sharedMemory = typeof SharedArrayBuffer !== 'undefined' && (typeof crossOriginIsolated === 'undefined' || crossOriginIsolated);

function floats(count: number): Float32Array {
  return new Float32Array(sharedMemory ? new SharedArrayBuffer(count * 4) : new ArrayBuffer(count * 4));
}

interface Pending {
  resolve: (result: { loss: number; grads: Float32Array }) => void;
  reject: (error: Error) => void;
}

/** One worker as the pool sees it while connected to one model; the pool hands it the worker's messages. */
class Replica {
  private pending: Pending | undefined;
  readyPromise: Promise<void>;
  readonly grads: Float32Array | undefined;
  private ready: () => void = () => {};
  private failed: (error: Error) => void = () => {};

  constructor(
    readonly endpoint: ReplicaEndpoint,
    size: number,
  ) {
    this.grads = sharedMemory ? floats(size) : undefined;
    this.readyPromise = new Promise<void>((resolve, reject) => {
      this.ready = resolve;
      this.failed = reject;
    });
  }

  receive(message: FromReplica): void {
    if (message.type === 'ready') this.ready();
    else if (message.type === 'error') {
      const error = new Error(`a training worker failed: ${message.message}`);
      this.failed(error);
      this.pending?.reject(error);
      this.pending = undefined;
    } else {
      const pending = this.pending;
      this.pending = undefined;
      pending?.resolve({ loss: message.loss, grads: message.grads ?? this.grads! });
    }
  }

  compute(message: Extract<ToReplica, { type: 'step' }>): Promise<{ loss: number; grads: Float32Array }> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.endpoint.postMessage(message, [message.windows.x.buffer, message.windows.y.buffer]);
    });
  }
}

/**
 * Replicas of a model, the main thread counted as the first: `size` is the number of threads
 * that compute gradients. Made by `startWorkers` (`@embedlab/mini-gpt/node`) in Node, or from
 * Web Workers running `serveReplica` with `connectReplicas` in a browser.
 */
export class ReplicaPool {
  private weights: Float32Array | undefined;
  private replicas: Replica[] = [];
  private connectedTo: { model: MiniGPT; trained: string } | undefined;

  constructor(private readonly endpoints: ReplicaEndpoint[]) {
    // One listener per worker for the pool's life (an endpoint has no way to remove one): it
    // hands each message to the replica of the model connected now.
    for (const [index, endpoint] of endpoints.entries()) endpoint.onMessage((message) => this.replicas[index]?.receive(message as FromReplica));
  }

  /** Threads computing gradients: the workers and the main thread. */
  get size(): number {
    return this.endpoints.length + 1;
  }

  /**
   * Sends each worker the model's config and the names of the parameters that train (once per
   * model and set): the workers compute gradients of those alone.
   */
  async connect(model: MiniGPT, trained: Variable[] = model.trainableVariables): Promise<void> {
    const names = namesOf(model, trained);
    if (this.connectedTo?.model === model && this.connectedTo.trained === names.join()) return;
    const parameters = model.trainableVariables.reduce((sum, v) => sum + v.size, 0);
    this.weights = floats(parameters);
    const gradients = trained.reduce((sum, v) => sum + v.size, 0);
    this.replicas = this.endpoints.map((endpoint) => new Replica(endpoint, gradients));
    for (const replica of this.replicas) {
      replica.endpoint.postMessage({
        type: 'init',
        config: model.config,
        trained: names,
        weights: this.weights,
        grads: replica.grads,
      } satisfies ToReplica);
    }
    await Promise.all(this.replicas.map((replica) => replica.readyPromise));
    this.connectedTo = { model, trained: names.join() };
  }

  /**
   * The summed gradients of `micros` micro-batches (each loss divided by `micros`), micro-batch m
   * on thread m mod size, added in micro-batch order so the result is that of one thread.
   */
  async gradients(
    model: MiniGPT,
    dataset: TokenDataset,
    step: number,
    micros: number,
    batchSize: number,
    seed: number,
    trained: Variable[] = model.trainableVariables,
  ): Promise<{ loss: number; grads: Tensor[] }> {
    flatten(model.trainableVariables, this.weights!);
    const results = new Map<number, { loss: number; grads: Tensor[] }>();
    // Each worker takes its micro-batches one after another (it has one gradient buffer). The
    // first is posted now, before this thread starts on its own share: an async function runs
    // synchronously up to its first await.
    const serve = async (replica: Replica, index: number) => {
      for (let micro = index + 1; micro < micros; micro += this.size) {
        const result = await replica.compute({
          type: 'step',
          step,
          micro,
          windows: microBatchWindows(dataset, step, micro, batchSize, model.config.blockSize, seed),
          batchSize,
          seed,
          divisor: micros,
          ...(sharedMemory ? {} : { weights: this.weights!.slice() }),
        });
        // Copied out before the buffer is reused for this worker's next micro-batch.
        results.set(micro, { loss: result.loss, grads: unflatten(result.grads, trained) });
      }
    };
    const remote = Promise.all(this.replicas.map(serve));
    // Should this thread's share throw first, the workers' failure is not left unhandled (it would
    // print a second error, a stack trace, after the first).
    remote.catch(() => {});
    for (let micro = 0; micro < micros; micro += this.size) {
      const windows = microBatchWindows(dataset, step, micro, batchSize, model.config.blockSize, seed);
      results.set(micro, microBatchGradients(model, windows, step, micro, batchSize, seed, micros, trained));
    }
    await remote;
    return sumInOrder(Array.from({ length: micros }, (_, micro) => results.get(micro)!));
  }

  /** Ends the workers. */
  close(): void {
    for (const endpoint of this.endpoints) endpoint.terminate?.();
    this.replicas = [];
    this.connectedTo = undefined;
  }
}

/** A pool over endpoints already running `serveReplica` (Web Workers, or worker threads). */
export function connectReplicas(endpoints: ReplicaEndpoint[]): ReplicaPool {
  return new ReplicaPool(endpoints);
}

/**
 * Runs a replica inside a worker: answers `init` with a model of the config, then each `step`
 * with the gradients of one micro-batch at the weights the main thread sent. Start the runtime
 * (`ready()`) first.
 */
export function serveReplica(endpoint: ReplicaEndpoint): void {
  let model: MiniGPT | undefined;
  let trained: Variable[] = [];
  let shared: { weights: Float32Array; grads: Float32Array | undefined } | undefined;
  endpoint.onMessage((data) => {
    const message = data as ToReplica;
    try {
      if (message.type === 'init') {
        model?.dispose();
        model = createModel(message.config);
        const state = model.stateDict();
        trained = message.trained.map((name) => state.get(name)!);
        shared = { weights: message.weights, grads: message.grads };
        endpoint.postMessage({ type: 'ready' } satisfies FromReplica);
        return;
      }
      if (!model || !shared) throw new Error('a step came before init');
      const variables = model.trainableVariables;
      // Each variable's part is copied straight from the shared buffer: a whole-model copy first
      // (3 MB for baby) cost ~20 ms of page faults and garbage collection on the critical path.
      const current = unflatten(message.weights ?? shared.weights, variables);
      for (const [i, variable] of variables.entries()) variable.assign(current[i]!);
      tf.dispose(current);
      const { loss, grads } = microBatchGradients(
        model,
        message.windows,
        message.step,
        message.micro,
        message.batchSize,
        message.seed,
        message.divisor,
        trained,
      );
      if (shared.grads) {
        flatten(grads, shared.grads);
        endpoint.postMessage({ type: 'grads', micro: message.micro, loss } satisfies FromReplica);
      } else {
        const out = new Float32Array(trained.reduce((sum, v) => sum + v.size, 0));
        flatten(grads, out);
        endpoint.postMessage({ type: 'grads', micro: message.micro, loss, grads: out } satisfies FromReplica, [out.buffer]);
      }
      tf.dispose(grads);
    } catch (error) {
      endpoint.postMessage({ type: 'error', message: (error as Error).message } satisfies FromReplica);
    }
  });
}
