// The training worker: the model, its training and its exploration run here, off the UI thread.
// Training is the library's TrainingSession, the same one the minigpt CLI runs; with more than one
// worker asked, it starts data-parallel replicas (replica.ts) as Web Workers of its own.
import {
  checkpointFromFiles,
  checkpointToFiles,
  comparisonVariants,
  connectReplicas,
  loadHuggingFaceGPT2,
  type MiniGPT,
  type ReplicaEndpoint,
  type ReplicaPool,
  runComparison,
  TokenDataset,
  TrainingSession,
} from '@embedlab/mini-gpt';
import { type RuntimeInfo, tf } from '@embedlab/runtime';
import { fromHuggingFace, fromHuggingFaceCharLevel, isHuggingFaceCharLevel, type Tokenizer, tokenizerFromJSON } from '@embedlab/tokenizer';
import { positionNote, tiedNote } from './first-layer.js';
import type { BpeRequest, CompareRequest, ErrorSource, Exploration, FromBpeWorker, FromWorker, SequenceRows, ToWorker, TrainRequest } from './protocol.js';
import { describeRuntime, startRuntime } from './wasm.js';

const post = (message: FromWorker) => (self as unknown as Worker).postMessage(message);
let started: Promise<RuntimeInfo> | undefined;

let model: MiniGPT | undefined;
let tokenizer: Tokenizer | undefined;
let step = 0;
let session: TrainingSession | undefined;
let training = false;
/** The running comparison's Stop (it trains sessions of its own, not `session`). */
let comparison: AbortController | undefined;
/** The Stop of a run's tokenizer worker, while it learns the BPE and encodes the corpus. */
let stopTokenizer: (() => void) | undefined;

/** The vocabulary of a run's BPE tokenizer (the library's `bpe:384`). */
const BPE_VOCABULARY = 384;

/**
 * A BPE tokenizer learned on `corpus` and the corpus's tokens, made by a worker of its own that
 * reports its progress; or, if the run was stopped first, where the tokenizer was.
 */
function bpeTokens(corpus: string, run: number): Promise<{ tokenizer: Tokenizer; dataset: TokenDataset } | { stoppedAt: string }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./bpe-worker.ts', import.meta.url), { type: 'module' });
    let progress = 'before it started';
    const end = () => {
      worker.terminate();
      stopTokenizer = undefined;
    };
    stopTokenizer = () => {
      end();
      resolve({ stoppedAt: progress });
    };
    worker.onmessage = ({ data }: MessageEvent<FromBpeWorker>) => {
      if (data.type === 'progress') {
        progress = data.text;
        post({ type: 'preparing', run, text: data.text });
        return;
      }
      end();
      if (data.type === 'done') resolve({ tokenizer: tokenizerFromJSON(data.tokenizer), dataset: new TokenDataset(data.tokens) });
      else reject(new Error(data.message));
    };
    worker.onerror = (event) => {
      end();
      reject(new Error(`the tokenizer worker failed: ${event.message || 'it could not start'}`));
    };
    worker.postMessage({ corpus, vocabSize: BPE_VOCABULARY } satisfies BpeRequest);
  });
}

/** A Hugging Face GPT-2 directory's model and tokenizer, from its files (as `minigpt ... --hf DIR` reads them). */
function huggingFaceFromFiles(
  files: { 'model.safetensors': Uint8Array; 'tokenizer.json': string },
  config: string,
): { model: MiniGPT; tokenizer: Tokenizer; step: number } {
  const json = files['tokenizer.json'];
  const tokenizer = isHuggingFaceCharLevel(json) ? fromHuggingFaceCharLevel(json) : fromHuggingFace(json);
  return { model: loadHuggingFaceGPT2(files['model.safetensors'], config), tokenizer, step: 0 };
}

/** What the model in use is called on the page: "the model of run 2", or a loaded file's name. */
let modelLabel = '';

/** Tells the page which model is in use now (what a fine-tune starts from). */
function announceModel(label: string): void {
  modelLabel = label;
  if (model) post({ type: 'model', config: model.config, label });
}

/** The model in use's first layer for a prompt: its first tokens (as many as the context holds), their wte rows and the wpe rows added to them. */
function embedRows(prompt: string): SequenceRows {
  if (!model || !tokenizer) throw new Error('there is no model in use: train one (Train) or load one (Save & load)');
  if (tokenizer.canEncode && !tokenizer.canEncode(prompt, { disallowedSpecial: [] }))
    throw new Error(`prompt: ${JSON.stringify(prompt)} has characters that are not in this model's vocabulary`);
  const { blockSize, position, tieWeights } = model.config;
  const encoded = tokenizer.encode(prompt, { disallowedSpecial: [] });
  const ids = encoded.slice(0, blockSize);
  if (ids.length === 0) throw new Error('prompt: it has no tokens; write at least one character');
  const positional = model.positional?.kind === 'additive' ? model.positional : undefined;
  const [wte, wpe] = tf.tidy(() => [
    model!.embedding.apply(ids).arraySync() as number[][],
    ids.length > 0 && positional ? (positional.apply(ids.length).arraySync() as number[][]) : undefined,
  ]);
  return {
    source: `The numbers of ${modelLabel}`,
    tokens: ids.map((id) => tokenizer!.idToToken(id)),
    ids,
    wte: wte!,
    wpe,
    positionNote: positionNote(position),
    tiedNote: tiedNote(tieWeights),
    given: encoded.length,
    context: blockSize,
  };
}

async function sample(run: number, at: number): Promise<void> {
  const lines = await session!.samples({ count: 3, tokens: 60, seed: at });
  post({ type: 'sample', run, step: at, text: lines.join('\n') });
}

/** A replica Web Worker as the library's endpoint; a worker that fails to load reports it as an error message. */
function replicaEndpoint(): ReplicaEndpoint {
  const worker = new Worker(new URL('./replica.ts', import.meta.url), { type: 'module' });
  return {
    postMessage: (message, transfer) => worker.postMessage(message, transfer ?? []),
    onMessage: (listener) => {
      worker.addEventListener('message', (event) => listener(event.data));
      worker.addEventListener('error', (event) => listener({ type: 'error', message: event.message || 'the replica worker could not start' }));
    },
    terminate: () => worker.terminate(),
  };
}

/** Replica workers for a run on `workers` threads (this worker is the first), or why there are none. */
function startReplicas(workers: number): { pool?: ReplicaPool; note?: string } {
  if (workers <= 1) return {};
  if (typeof Worker === 'undefined') return { note: 'this browser cannot start workers from a worker, so it trains on 1 worker' };
  try {
    return { pool: connectReplicas(Array.from({ length: workers - 1 }, replicaEndpoint)) };
  } catch (error) {
    return { note: `the replica workers did not start (${(error as Error).message}), so it trains on 1 worker` };
  }
}

async function runTraining(request: TrainRequest): Promise<void> {
  const { run } = request;
  let pool: ReplicaPool | undefined;
  training = true;
  try {
    const settings = {
      steps: request.steps,
      batchSize: request.batchSize,
      learningRate: request.learningRate,
      warmupSteps: Math.min(20, Math.floor(request.steps / 10)),
      evalInterval: Math.max(10, Math.floor(request.steps / 10)),
      evalBatches: 4,
      train: request.train,
    };
    const from = request.startFrom === 'current' ? model : undefined;
    if (request.startFrom === 'current' && (!model || !tokenizer))
      throw new Error('there is no model in use to start from: train one, or open one (Save & load)');
    session = undefined;
    // A BPE learned on megabytes takes seconds: in its own worker, reporting, and stopped at once.
    let text: { corpus: string } | { dataset: TokenDataset; tokenizer: Tokenizer } = { corpus: request.corpus };
    if (!from && request.tokenizer === 'bpe' && typeof Worker !== 'undefined') {
      const made = await bpeTokens(request.corpus, run);
      if ('stoppedAt' in made) {
        post({ type: 'done', run, status: 'stopped', reason: `before step 1, while ${made.stoppedAt}` });
        return;
      }
      text = made;
    }
    // A fine-tune copies the model in use (nanoGPT's init_from), which is freed once the copy exists.
    const created = TrainingSession.create({
      ...text,
      workers: request.microBatches,
      training: settings,
      ...(from
        ? { initFrom: { model: from, tokenizer: tokenizer! } }
        : {
            preset: 'names',
            model: request.model,
            ...('corpus' in text ? { tokenizer: request.tokenizer === 'char' ? 'char' : `bpe:${BPE_VOCABULARY}` } : {}),
          }),
    });
    model?.dispose();
    session = created;
    ({ model, tokenizer } = session);
    const replicas = startReplicas(Math.min(request.workers, request.microBatches));
    pool = replicas.pool;
    let workers = pool ? pool.size : 1;
    post({ type: 'started', run, workers, ...(replicas.note ? { note: replicas.note } : {}) });
    await sample(run, 0);
    const result = await session.run(
      {
        onStep: (e) => {
          step = e.step + 1;
          post({ type: 'step', run, step, loss: e.loss, tokensPerSecond: e.tokensPerSecond });
        },
        onEval: async (e) => {
          post({ type: 'eval', run, step: e.step, trainLoss: e.trainLoss, validationLoss: e.validationLoss });
          await sample(run, e.step);
        },
        // The same losses on this thread alone, more slowly.
        onWorkersUnavailable: (reason) => {
          workers = 1;
          post({ type: 'started', run, workers, note: `the replica workers failed (${reason}), so it trains on 1 worker` });
        },
      },
      pool ? { workers: pool } : {},
    );
    session.optimizer.dispose();
    announceModel(`the model of run ${run}`);
    const { threads } = await started!;
    const speed = `median ${Math.round(result.medianTokensPerSecond).toLocaleString('en-US')} tokens/s on ${workers} worker${workers === 1 ? '' : 's'}${workers === 1 ? ` (${threads} thread${threads === 1 ? '' : 's'})` : ''}, ${request.microBatches} micro-batch${request.microBatches === 1 ? '' : 'es'} a step`;
    if (result.stoppedBy === 'done') post({ type: 'done', run, status: 'done', reason: `trained ${result.step} steps, ${speed}` });
    else if (result.stoppedBy === 'aborted')
      post({ type: 'done', run, status: 'stopped', reason: `stopped at step ${result.step} of ${request.steps}, ${speed}` });
    else
      post({
        type: 'done',
        run,
        status: 'failed',
        reason: `${result.message ?? 'the loss stopped being a finite number'}; try a smaller learning rate or model`,
      });
  } catch (error) {
    session?.optimizer.dispose();
    post({ type: 'done', run, status: 'failed', reason: (error as Error).message });
  } finally {
    pool?.close();
    training = false;
  }
}

/**
 * The library's runComparison, as `minigpt compare` runs it: each variant's steps and each
 * finished row are posted as they come, so the page draws them live.
 */
async function runCompare(request: CompareRequest): Promise<void> {
  const { run } = request;
  const controller = new AbortController();
  comparison = controller;
  const variants = comparisonVariants(request.positions, request.tie, request.ropeScalings);
  const trained = [...new Set(variants.map((v) => v.trained.name))];
  const finished: string[] = [];
  let last: { variant: string; step: number; loss: number } | undefined;
  post({ type: 'compare-started', run, rows: variants.map((v) => v.name), trained, steps: request.steps });
  try {
    await runComparison(
      {
        corpus: request.corpus,
        tokenizer: 'char',
        preset: 'names',
        model: request.model,
        training: {
          steps: request.steps,
          batchSize: request.batchSize,
          learningRate: request.learningRate,
          // The rest of the recipe is the names preset's, as in `minigpt compare`. The comparison's
          // numbers come from its own evaluation: one small estimate at the end is enough.
          evalInterval: request.steps,
          evalBatches: 1,
        },
        multiples: request.multiples,
      },
      variants,
      {
        signal: controller.signal,
        onStep: (variant, event) => {
          last = { variant: variant.name, step: event.step + 1, loss: event.loss };
          post({ type: 'compare-step', run, variant: variant.name, step: event.step + 1, loss: event.loss, tokensPerSecond: event.tokensPerSecond });
        },
        onVariant: (result) => {
          finished.push(result.name);
          post({ type: 'compare-variant', run, result });
        },
      },
    );
    const done = `${finished.length} of ${variants.length} rows`;
    if (finished.length === variants.length)
      post({ type: 'compare-done', run, status: 'done', reason: `trained ${trained.length} models of ${request.steps} steps; ${done}` });
    else
      post({
        type: 'compare-done',
        run,
        status: 'stopped',
        reason: `stopped${last ? ` during ${last.variant} at step ${last.step} of ${request.steps}` : ''}; ${done} finished`,
      });
  } catch (error) {
    post({ type: 'compare-done', run, status: 'failed', reason: (error as Error).message });
  } finally {
    comparison = undefined;
  }
}

function explore(prompt: string, token: string, analogy: [string, string, string]): Exploration {
  if (!model || !tokenizer) throw new Error('there is no model to explore yet: train one (Train) or load one (Save & load)');
  const vocab = Array.from({ length: tokenizer.vocabSize }, (_, id) => tokenizer!.idToToken(id));
  const idOf = (text: string, field: string) => {
    const id = tokenizer!.tokenToId(text);
    if (id === undefined) throw new Error(`${field}: ${JSON.stringify(text)} is not a token of this model's vocabulary`);
    return id;
  };
  const named = (n: { id: number; score: number }) => ({ token: vocab[n.id]!, score: n.score });
  const projection = model.embedding.project2d();
  const neighbours = model.embedding.nearest(idOf(token, 'token'), 5).map(named);
  const [a, b, c] = analogy.map((text, i) => idOf(text, `analogy ${'abc'[i]}`)) as [number, number, number];
  const analogous = model.embedding.analogy(a, b, c, 5).map(named);
  if (tokenizer.canEncode && !tokenizer.canEncode(prompt, { disallowedSpecial: [] }))
    throw new Error(`prompt: ${JSON.stringify(prompt)} has characters that are not in this model's vocabulary`);
  const encoded = tokenizer.encode(prompt, { disallowedSpecial: [] });
  const ids = encoded.slice(-model.config.blockSize);
  if (ids.length === 0) throw new Error('prompt: it has no tokens; write at least one character');
  const maps: tf.Tensor[] = [];
  const logits = model.forward([ids], { attention: maps, logits: 'last' });
  const probabilities = tf.tidy(() => tf.softmax(tf.reshape(logits, [-1])));
  const top = tf.topk(probabilities, Math.min(10, tokenizer.vocabSize));
  const values = top.values.dataSync();
  const indices = top.indices.dataSync();
  const attention = maps.map((m) => (m.arraySync() as number[][][][])[0]!);
  tf.dispose([logits, probabilities, top.values, top.indices, ...maps]);
  return {
    labels: projection.ids.map((i) => vocab[i]!),
    points: projection.points,
    neighbours,
    analogy: analogous,
    attention,
    promptTokens: ids.map((i) => vocab[i]!),
    promptLength: encoded.length,
    next: Array.from(indices, (i, k) => ({ token: vocab[i]!, probability: values[k]! })),
  };
}

const sources: Record<ToWorker['type'], ErrorSource> = {
  start: 'runtime',
  train: 'train',
  compare: 'compare',
  pause: 'train',
  resume: 'train',
  stop: 'train',
  save: 'files',
  load: 'files',
  explore: 'explore',
  'embed-rows': 'embed',
};

self.onmessage = async (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  try {
    if (message.type === 'start') {
      started = startRuntime(message.threads);
      post({ type: 'runtime', text: describeRuntime(await started, 'worker', message.threads) });
      return;
    }
    if (!started) throw new Error('the worker got work before its start message');
    await started;
    switch (message.type) {
      case 'train':
        if (training) throw new Error('a run is already training');
        if (comparison) throw new Error('a comparison is running: stop it (Compare, Stop) or let it finish, then train');
        await runTraining(message);
        break;
      case 'compare':
        if (comparison) throw new Error('a comparison is already running');
        if (training) throw new Error('a run is training: stop it (Train, Stop) or let it finish, then compare');
        await runCompare(message);
        break;
      case 'pause':
        session?.pause();
        break;
      case 'resume':
        session?.resume();
        break;
      case 'stop':
        stopTokenizer?.();
        session?.stop();
        comparison?.abort();
        break;
      case 'save':
        if (!model || !tokenizer) throw new Error('there is no model to save yet: train or load one');
        post({ type: 'checkpoint', files: checkpointToFiles(model, tokenizer, { step }) });
        break;
      case 'load': {
        if (training) throw new Error('a run is training: stop it (Train, Stop) before loading a checkpoint');
        const { names } = message;
        let checkpoint: { model: MiniGPT; tokenizer: Tokenizer; step: number };
        try {
          checkpoint = message.config === undefined ? checkpointFromFiles(message.files) : huggingFaceFromFiles(message.files, message.config);
        } catch (error) {
          // Name the files the person chose, not the names inside a checkpoint directory.
          throw new Error(
            `${names.model} + ${names.tokenizer}: ${(error as Error).message.replaceAll('model.safetensors', names.model).replaceAll('tokenizer.json', names.tokenizer)}`,
          );
        }
        const c = checkpoint.model.config;
        if (checkpoint.tokenizer.vocabSize > c.vocabSize) {
          checkpoint.model.dispose();
          throw new Error(
            `${names.tokenizer} has ${checkpoint.tokenizer.vocabSize.toLocaleString('en-US')} tokens but ${names.model} has rows for ${c.vocabSize.toLocaleString('en-US')}: they are not from the same checkpoint`,
          );
        }
        model?.dispose();
        session = undefined;
        ({ model, tokenizer, step } = checkpoint);
        const padded =
          tokenizer.vocabSize < c.vocabSize
            ? ` (the model has ${c.vocabSize.toLocaleString('en-US')} rows, ${(c.vocabSize - tokenizer.vocabSize).toLocaleString('en-US')} of them padding)`
            : '';
        announceModel(names.model);
        post({
          type: 'loaded',
          summary: `loaded ${names.model} + ${names.tokenizer}${message.config === undefined ? '' : ' + config.json (a Hugging Face GPT-2 directory)'}: a ${c.nLayer}-layer, ${c.nEmbd}-dim model (${model.parameterCount().total.toLocaleString('en-US')} parameters, ${c.position} positions) at step ${step}, ${tokenizer.kind} tokenizer of ${tokenizer.vocabSize} tokens${padded}`,
        });
        break;
      }
      case 'explore':
        post({ type: 'exploration', exploration: explore(message.prompt, message.token, message.analogy) });
        break;
      case 'embed-rows':
        post({ type: 'embed-rows', rows: embedRows(message.prompt) });
        break;
    }
  } catch (error) {
    post({ type: 'error', source: sources[message.type], message: (error as Error).message });
  }
};
