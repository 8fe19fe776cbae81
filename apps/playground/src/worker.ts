// The training worker: the model, its training and its exploration run here, off the UI thread.
// Training is the library's TrainingSession, the same one the minigpt CLI runs.
import { checkpointFromFiles, checkpointToFiles, type MiniGPT, TrainingSession } from '@embedlab/mini-gpt';
import { type RuntimeInfo, tf } from '@embedlab/runtime';
import type { Tokenizer } from '@embedlab/tokenizer';
import type { Exploration, FromWorker, ToWorker, TrainRequest } from './protocol.js';
import { describeRuntime, startRuntime } from './wasm.js';

const post = (message: FromWorker) => (self as unknown as Worker).postMessage(message);
let started: Promise<RuntimeInfo> | undefined;

let model: MiniGPT | undefined;
let tokenizer: Tokenizer | undefined;
let step = 0;
let session: TrainingSession | undefined;

async function sample(run: number, at: number): Promise<void> {
  const lines = await session!.samples({ count: 3, tokens: 60, seed: at });
  post({ type: 'sample', run, step: at, text: lines.join('\n') });
}

async function runTraining(request: TrainRequest): Promise<void> {
  model?.dispose();
  session = TrainingSession.create({
    corpus: request.corpus,
    tokenizer: request.tokenizer === 'char' ? 'char' : 'bpe:384',
    preset: 'names',
    model: request.model,
    training: { steps: request.steps, batchSize: request.batchSize, learningRate: request.learningRate, warmupSteps: Math.min(20, Math.floor(request.steps / 10)), evalInterval: Math.max(10, Math.floor(request.steps / 10)), evalBatches: 4 },
  });
  ({ model, tokenizer } = session);
  await sample(request.run, 0);
  const result = await session.run({
    onStep: (e) => {
      step = e.step + 1;
      post({ type: 'step', run: request.run, step, loss: e.loss, tokensPerSecond: e.tokensPerSecond });
    },
    onEval: async (e) => {
      post({ type: 'eval', run: request.run, step: e.step, trainLoss: e.trainLoss, validationLoss: e.validationLoss });
      await sample(request.run, e.step);
    },
  });
  session.optimizer.dispose();
  const { threads } = await started!;
  const speed = `median ${Math.round(result.medianTokensPerSecond).toLocaleString('en-US')} tokens/s on ${threads} thread${threads === 1 ? '' : 's'}`;
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
        session?.pause();
        break;
      case 'resume':
        session?.resume();
        break;
      case 'stop':
        session?.stop();
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
