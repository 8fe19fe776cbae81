// One memory estimate, shared by every front end (the library's createModel, train,
// TrainingSession and evaluate; the CLI's --dry-run; the playground's guard): what a run holds on
// a wasm heap, computed from the config and the run's sizes without allocating anything, and a
// check that refuses what would not fit before any tensor is made.
import { UPDATE_GROUP_FLOATS } from '../training/optimizer.js';
import { largestParameter } from './architecture.js';
import { countParameters, type GPTConfig } from './config.js';

/**
 * The most a wasm backend's heap can hold: tfjs-backend-wasm grows its memory up to 65,535 pages
 * of 64 KiB (wasm32 addresses 4 GiB). Each thread of a data-parallel run has a heap of its own.
 */
export const WASM_HEAP_LIMIT = 65_535 * 65_536;

/**
 * What a run may plan to use of that heap: three quarters. The heap grows in steps of a fifth and
 * fragments, and the estimate is within a few percent on model shapes but ran 20% short on a
 * tiny model with a huge batch (batch 50,000 of 16 tokens, estimated 3.6 GiB, aborted at 4 GiB).
 */
export const WASM_HEAP_BUDGET = 3 * 2 ** 30;

/** The sizes of a run, beside the model's config. */
export interface MemoryRun {
  /** `'train'`: a gradient step with AdamW; `'inference'`: a forward pass (evaluation, a model built to sample). */
  mode: 'train' | 'inference';
  /** Sequences per forward pass: a micro-batch when training. */
  batchSize: number;
  /** Tokens per sequence. Default the config's blockSize. */
  context?: number;
  /** Threads, each with a replica of the model on a heap of its own. Default 1. */
  workers?: number;
  /** Micro-batches whose gradients make one step (gradient accumulation, times the workers' share). Default 1. */
  microBatches?: number;
  /** Parameters that train (the rest frozen: no gradients, no moments). Default all of them. */
  trainedParameters?: number;
  /** Whether the token table is among them (with tied weights its gradient comes in two halves). Default true. */
  tokenTableTrains?: boolean;
}

/** Bytes of each part, on the busiest heap (the main thread's). */
export interface MemoryParts {
  /** The weights. */
  parameters: number;
  /** Parameter gradients, with the copies the tape keeps of the weights, and the micro-batches' gradients held until they are summed. */
  gradients: number;
  /** AdamW's two moments (0 for inference). */
  optimizer: number;
  /** What the gradient tape keeps for one micro-batch (training), or a forward pass's largest live set (inference). */
  activations: number;
  /**
   * AdamW's update, after the activations are freed: weights, gradients, moments and the update's
   * temporaries together (0 for inference). The heap's peak is the larger of this and the sum of the parts above.
   */
  update: number;
}

export interface MemoryEstimate {
  mode: MemoryRun['mode'];
  batchSize: number;
  context: number;
  workers: number;
  microBatches: number;
  /** The model's parameter count. */
  parameterCount: number;
  parts: MemoryParts;
  /**
   * The peak of one heap, in bytes: the main thread's (it also holds the optimizer); each worker
   * holds less (a replica, its gradients and one micro-batch's activations).
   */
  perWorker: number;
  /** The largest single tensor, in bytes, and what it is. */
  largest: { bytes: number; what: string };
  /** The heap limit compared against. */
  limit: number;
  fits: boolean;
}

const FLOAT = 4;

function sizeError(label: string, field: string, value: unknown, rule: string): never {
  throw new RangeError(`${label}: ${field} must be ${rule}, got ${typeof value === 'number' ? String(value) : JSON.stringify(value)}`);
}

/** Checks the run's sizes, naming the field: NaN, Infinity, fractions and zero are refused before any arithmetic. */
function checkRun(run: MemoryRun, config: GPTConfig, label: string): Required<MemoryRun> {
  if (typeof run !== 'object' || run === null) throw new TypeError(`${label}: the run's sizes must be an object`);
  if (run.mode !== 'train' && run.mode !== 'inference') sizeError(label, 'mode', run.mode, "'train' or 'inference'");
  const positive = (field: 'batchSize' | 'context' | 'workers' | 'microBatches', value: unknown) => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) sizeError(label, field, value, 'a positive integer');
    return value;
  };
  const parameters = countParameters(config);
  const trained = run.trainedParameters ?? parameters;
  if (typeof trained !== 'number' || !Number.isSafeInteger(trained) || trained < 1 || trained > parameters)
    sizeError(label, 'trainedParameters', trained, `an integer in [1, ${parameters}] (the model's parameters)`);
  return {
    mode: run.mode,
    batchSize: positive('batchSize', run.batchSize),
    context: positive('context', run.context ?? config.blockSize),
    workers: positive('workers', run.workers ?? 1),
    microBatches: positive('microBatches', run.microBatches ?? 1),
    trainedParameters: trained,
    tokenTableTrains: run.tokenTableTrains ?? true,
  };
}

/**
 * Float32 values per part, counted from what the code keeps (README "Memory"):
 *
 * - Training, per layer of a micro-batch of B sequences of T tokens (C = nEmbd, H = nHead): the
 *   tape keeps the inputs of LayerNorm, of each product and of GELU, q/k/v, the attention
 *   weights [B, H, T, T], and (tfjs frees no gradient before the backward pass ends) the gradient
 *   of each of them: 36·B·T·C + 2·B·H·T² (+ 7·B·T·C + B·H·T² with dropout's masks, + 33·B·T·C for
 *   RoPE's rotated halves, + 2·H·T² for ALiBi's bias), + 30·B·T for LayerNorm's statistics.
 * - The loss (one runtime kernel each way): the logits [B·T, V] and their gradient, 2·B·T·V, and
 *   two floats a row (log Σ e^x and the target). With tied weights, the table's gradient comes
 *   in two halves that live together until tfjs adds them: 2·V·C.
 * - Parameters P: the weights, the gradients and AdamW's two moments of the trained ones (all P
 *   unless some are frozen), and while AdamW updates, the new weights and moments its kernel
 *   writes beside the old (clipping is folded into it), one group of parameters at a time: that
 *   phase peaks at P + 3·trained + 3·(the largest group) (and the gradients held for the pool).
 * - Inference (no tape): the weights, and a forward pass, which frees nothing before it returns:
 *   18·B·T·C per layer (27 with RoPE), with the last layer's attention weights B·H·T² (before
 *   its MLP's 12·B·T·C) or the logits B·T·V and the head's transposed weight V·C at the end; then
 *   the loss reads the logits and writes three floats a row.
 */
function floats(config: GPTConfig, run: Required<MemoryRun>) {
  const P = countParameters(config);
  const { vocabSize: V, nLayer: L, nEmbd: C, nHead: H, dropout, position } = config;
  const { batchSize: B, context: T } = run;
  const btc = B * T * C;
  const scores = B * H * T * T;
  const head = V * C;
  if (run.mode === 'inference') {
    // A forward pass frees nothing until it returns: each layer's intermediates stay in its scope.
    const layers = L * (18 + (position === 'rope' ? 9 : 0)) * btc;
    // The last layer's attention weights come before its MLP's 12·B·T·C; the logits after every layer.
    const forward = Math.max(layers - 12 * btc + scores + (position === 'alibi' ? H * T * T : 0), layers + B * T * V + head) + 2 * btc;
    const loss = B * T * V + 3 * B * T + btc;
    return { P, parameters: P, gradients: 0, optimizer: 0, activations: Math.max(forward, loss), update: 0 };
  }
  const perLayer =
    36 * btc +
    2 * scores +
    30 * B * T +
    (dropout > 0 ? 7 * btc + scores : 0) +
    (position === 'rope' ? 33 * btc : 0) +
    (position === 'alibi' ? 2 * H * T * T : 0);
  // A tied table's gradient arrives in two halves (the lookup's scatter and the head's product),
  // both alive while tfjs adds them: two V·C beyond the gradient itself.
  const tiedHalves = config.tieWeights && run.tokenTableTrains ? 2 * head : 0;
  const activations = L * perLayer + (dropout > 0 ? 10 : 6) * btc + 2 * B * T * V + 2 * B * T + tiedHalves;
  // The main thread holds every micro-batch's gradients until they are summed in order (with a
  // pool), or a running sum beside the current micro-batch's (alone).
  const held = run.workers > 1 ? run.microBatches : run.microBatches > 1 ? 1 : 0;
  // Gradients and moments exist for the trained parameters only.
  const trained = run.trainedParameters;
  // A group holds up to UPDATE_GROUP_FLOATS, or one larger tensor alone.
  const group = Math.min(trained, Math.max(UPDATE_GROUP_FLOATS, largestParameter(config)));
  return { P, parameters: P, gradients: trained + held * trained, optimizer: 2 * trained, activations, update: P + 3 * trained + 3 * group + held * trained };
}

/** The largest single tensor a run makes: a typed array (or wasm allocation) that large fails however much memory there is. */
function largestTensor(config: GPTConfig, run: Required<MemoryRun>): { bytes: number; what: string } {
  const { vocabSize: V, nEmbd: C, nHead: H, blockSize } = config;
  const { batchSize: B, context: T } = run;
  const candidates: [number, string][] = [
    [B * H * T * T, `the attention weights [${B}, ${H}, ${T}, ${T}]`],
    [B * T * V, `the logits [${B * T}, ${V}]`],
    [V * C, `the embedding table [${V}, ${C}]`],
    [4 * B * T * C, `the MLP's activations [${B}, ${T}, ${4 * C}]`],
    [4 * C * C, `an MLP weight [${C}, ${4 * C}]`],
  ];
  if (config.position === 'learned') candidates.push([blockSize * C, `the position table [${blockSize}, ${C}]`]);
  const [count, what] = candidates.reduce((a, b) => (b[0] > a[0] ? b : a));
  return { bytes: count * FLOAT, what };
}

/**
 * What a run of `config` holds on a wasm heap (bytes, per part, on the busiest thread), computed
 * from sizes alone: nothing is allocated, so it answers for sizes that could never be built.
 * Validates the config and the run's sizes first (each error names the field).
 */
export function estimateMemory(config: GPTConfig, run: MemoryRun, { limit = WASM_HEAP_BUDGET, label = 'memory estimate' } = {}): MemoryEstimate {
  const sizes = checkRun(run, config, label);
  const f = floats(config, sizes);
  const parts: MemoryParts = {
    parameters: f.parameters * FLOAT,
    gradients: f.gradients * FLOAT,
    optimizer: f.optimizer * FLOAT,
    activations: f.activations * FLOAT,
    update: f.update * FLOAT,
  };
  const perWorker = Math.max(parts.parameters + parts.gradients + parts.optimizer + parts.activations, parts.update);
  const largest = largestTensor(config, sizes);
  return { ...sizes, parameterCount: f.P, parts, perWorker, largest, limit, fits: perWorker <= limit && largest.bytes <= limit };
}

/** Bytes for people, in binary units to 3 digits: 512 B, 3.1 MiB, 4 GiB, 7.42 GiB, 1.2e+6 TiB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  for (const unit of units) {
    if (value < 1024) return `${unit === 'B' ? value : Number(value.toPrecision(3))} ${unit}`;
    value /= 1024;
  }
  return `${value < 1e4 ? Number(value.toPrecision(3)) : value.toExponential(1)} TiB`;
}

/** The largest value in [1, high] that `fits`, or 0 when 1 does not (fits is monotone: smaller fits if larger does). */
function largestFitting(high: number, fits: (value: number) => boolean): number {
  if (!fits(1)) return 0;
  let [low, top] = [1, high];
  while (low < top) {
    const middle = Math.ceil((low + top) / 2);
    if (fits(middle)) low = middle;
    else top = middle - 1;
  }
  return low;
}

/** The parts of an estimate, for people: `parameters 3.09 MiB, ..., activations 120 MiB; AdamW's update peaks at 55.6 MiB`. */
function partsText({ parts, mode }: MemoryEstimate): string {
  const listed = [
    `parameters ${formatBytes(parts.parameters)}`,
    ...(mode === 'train' ? [`gradients ${formatBytes(parts.gradients)}`, `AdamW moments ${formatBytes(parts.optimizer)}`] : []),
    `activations ${formatBytes(parts.activations)}`,
  ];
  return `${listed.join(', ')}${mode === 'train' ? `; AdamW's update peaks at ${formatBytes(parts.update)}` : ''}`;
}

/** One line for people: `≈ 136 MiB per worker (parameters ..., activations ...) of the 3 GiB a wasm heap can use`. */
export function describeMemory(estimate: MemoryEstimate): string {
  return `≈ ${formatBytes(estimate.perWorker)}${estimate.mode === 'train' ? ' per worker' : ''} (${partsText(estimate)}) of the ${formatBytes(estimate.limit)} a wasm heap can use`;
}

/**
 * The estimate, or a RangeError of one line when the busiest heap would exceed `limit` (default
 * `WASM_HEAP_BUDGET`, 3 of the heap's 4 GiB): the estimate by part, the limit, and what would fit (a smaller batch, a
 * shorter context, or a smaller model). `label` starts the message (`train`, `createModel`, ...).
 */
export function checkMemory(config: GPTConfig, run: MemoryRun, { limit = WASM_HEAP_BUDGET, label = 'memory' } = {}): MemoryEstimate {
  const estimate = estimateMemory(config, run, { limit, label });
  if (estimate.fits) return estimate;
  const { batchSize, context, mode, microBatches } = estimate;
  const what = mode === 'train' ? `a training step of ${batchSize} × ${context} tokens per micro-batch` : `a forward pass of ${batchSize} × ${context} tokens`;
  const heap = `the ${formatBytes(limit)} a wasm heap can use`;
  // Another shape has another parameter count: what trains is capped to it (all of it, when the run trains all).
  const fitsWith = (model: GPTConfig, change: Partial<MemoryRun>) => {
    const trained = run.trainedParameters === undefined ? {} : { trainedParameters: Math.min(run.trainedParameters, countParameters(model)) };
    return estimateMemory(model, { ...run, ...trained, ...change }, { limit, label }).fits;
  };
  const batch = batchSize > 1 ? largestFitting(batchSize - 1, (b) => fitsWith(config, { batchSize: b })) : 0;
  // Without a context of its own, the run reads blockSize tokens: shorter means a smaller blockSize (and position table).
  const ownContext = run.context !== undefined;
  const shorter =
    batch === 0 && context > 1
      ? largestFitting(context - 1, (t) =>
          ownContext ? fitsWith(config, { batchSize: 1, context: t }) : fitsWith({ ...config, blockSize: t }, { batchSize: 1 }),
        )
      : 0;
  const advice =
    batch > 0
      ? `${microBatches > 1 ? 'micro-batches' : 'a batch'} of at most ${batch} sequence${batch === 1 ? '' : 's'} would fit`
      : shorter > 0
        ? `${ownContext ? 'a context' : 'a blockSize'} of at most ${shorter} tokens would fit${batchSize > 1 ? ' (batch 1)' : ''}`
        : 'even one sequence of one token does not fit: use a smaller model (nLayer, nEmbd, vocabSize)';
  // Freezing the tables (training the blocks alone) drops their gradients and moments.
  const tables = config.vocabSize * config.nEmbd * (config.tieWeights ? 1 : 2) + (config.position === 'learned' ? config.blockSize * config.nEmbd : 0);
  const blocksOnly = estimate.parameterCount - tables;
  const freezing =
    mode === 'train' &&
    estimate.largest.bytes <= limit &&
    blocksOnly >= 1 &&
    blocksOnly < (run.trainedParameters ?? estimate.parameterCount) &&
    fitsWith(config, { trainedParameters: blocksOnly, tokenTableTrains: false })
      ? `; or, at this batch, training the blocks alone (train: 'blocks', the tables frozen) would fit`
      : '';
  const single = estimate.largest.bytes > limit ? `${estimate.largest.what} alone would take ${formatBytes(estimate.largest.bytes)}` : partsText(estimate);
  const perWorker = mode === 'train' ? ' per worker' : '';
  throw new RangeError(`${label}: ${what} needs ≈ ${formatBytes(estimate.perWorker)}${perWorker} (${single}), more than ${heap}; ${advice}${freezing}`);
}
