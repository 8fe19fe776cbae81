// The training worker: the model, its training and its exploration run here, off the UI thread.
import { checkpointFromFiles, checkpointToFiles, createModel, generateText, type MiniGPT, TokenDataset, train } from '@embedlab/mini-gpt';
import { type RuntimeInfo, tf } from '@embedlab/runtime';
import { CharTokenizer, type Tokenizer, trainBpe } from '@embedlab/tokenizer';
import type { Exploration, FromWorker, ToWorker, TrainRequest } from './protocol.js';
import { describeRuntime, startRuntime } from './wasm.js';

const post = (message: FromWorker) => (self as unknown as Worker).postMessage(message);
let started: Promise<RuntimeInfo> | undefined;

let model: MiniGPT | undefined;
let tokenizer: Tokenizer | undefined;
let step = 0;
let controller: AbortController | undefined;
let paused: { promise: Promise<void>; resume: () => void } | undefined;

async function sample(run: number, at: number): Promise<void> {
  let text = '';
  for await (const piece of generateText(model!, tokenizer!, '\n', { maxNewTokens: 60, temperature: 0.8, seed: at })) text += piece;
  post({ type: 'sample', run, step: at, text: text.trim() });
}

/** Step speeds vary with evaluation and sampling pauses; the median is the typical step. */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : sorted[Math.floor(sorted.length / 2)]!;
}

async function runTraining(request: TrainRequest): Promise<void> {
  model?.dispose();
  tokenizer = request.tokenizer === 'char' ? CharTokenizer.fromCorpus(request.corpus) : trainBpe(request.corpus, { vocabSize: 384 });
  model = createModel({ ...request.model, vocabSize: tokenizer.vocabSize, dropout: 0, bias: true, gelu: 'tanh' }, 1337);
  const dataset = new TokenDataset(tokenizer.encode(request.corpus, { disallowedSpecial: [] }));
  controller = new AbortController();
  await sample(request.run, 0);
  const evalInterval = Math.max(10, Math.floor(request.steps / 10));
  const speeds: number[] = [];
  const result = await train(
    model,
    dataset,
    { steps: request.steps, batchSize: request.batchSize, learningRate: request.learningRate, warmupSteps: Math.min(20, request.steps / 10), evalInterval, evalBatches: 4 },
    {
      signal: controller.signal,
      onStep: async (e) => {
        step = e.step + 1;
        speeds.push(e.tokensPerSecond);
        post({ type: 'step', run: request.run, step: step, loss: e.loss, tokensPerSecond: e.tokensPerSecond });
        if (paused) await paused.promise;
      },
      onEval: async (e) => {
        post({ type: 'eval', run: request.run, step: e.step, trainLoss: e.trainLoss, validationLoss: e.validationLoss });
        await sample(request.run, e.step);
      },
    },
  );
  result.optimizer.dispose();
  const { threads } = await started!;
  const speed = `median ${Math.round(median(speeds)).toLocaleString('en-US')} tokens/s on ${threads} thread${threads === 1 ? '' : 's'}`;
  post({ type: 'done', run: request.run, reason: `${result.message ?? `trained ${result.step} steps`}, ${speed}` });
}

function explore(prompt: string, token: string, analogy: [string, string, string]): Exploration {
  if (!model || !tokenizer) throw new Error('train or load a model first');
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
  const ids = tokenizer.encode(prompt, { disallowedSpecial: [] }).slice(-model.config.blockSize);
  if (ids.length === 0) throw new Error('the prompt has no tokens');
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
    next: Array.from(indices, (i, k) => ({ token: vocab[i]!, probability: values[k]! })),
  };
}

self.onmessage = async (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  try {
    if (message.type === 'start') {
      started = startRuntime(message.threads);
      post({ type: 'runtime', text: describeRuntime(await started, 'worker') });
      return;
    }
    if (!started) throw new Error('the worker got work before its start message');
    await started;
    switch (message.type) {
      case 'train':
        await runTraining(message);
        break;
      case 'pause':
        if (!paused) {
          let resume = () => {};
          const promise = new Promise<void>((resolve) => (resume = resolve));
          paused = { promise, resume };
        }
        break;
      case 'resume':
        paused?.resume();
        paused = undefined;
        break;
      case 'stop':
        controller?.abort();
        paused?.resume();
        paused = undefined;
        break;
      case 'save':
        if (!model || !tokenizer) throw new Error('there is no model to save yet: train or load one');
        post({ type: 'checkpoint', files: checkpointToFiles(model, tokenizer, { step }) });
        break;
      case 'load': {
        const checkpoint = checkpointFromFiles(message.files);
        model?.dispose();
        ({ model, tokenizer, step } = checkpoint);
        const c = model.config;
        post({ type: 'loaded', summary: `loaded a ${c.nLayer}-layer, ${c.nEmbd}-dim model (${model.parameterCount().total.toLocaleString('en-US')} parameters, ${c.position} positions) at step ${step}, ${tokenizer.kind} tokenizer of ${tokenizer.vocabSize} tokens` });
        break;
      }
      case 'explore':
        post({ type: 'exploration', exploration: explore(message.prompt, message.token, message.analogy) });
        break;
    }
  } catch (error) {
    post({ type: 'error', message: (error as Error).message });
  }
};
