// Messages between the page and the training worker.
import type { CheckpointFiles, GPTConfig, PositionKind, VariantResult } from '@embedlab/mini-gpt';
import type { SerializedBpeTokenizer } from '@embedlab/tokenizer';

export interface TrainRequest {
  type: 'train';
  run: number;
  corpus: string;
  tokenizer: 'char' | 'bpe';
  model: { blockSize: number; nLayer: number; nHead: number; nEmbd: number; position: PositionKind; tieWeights: boolean };
  steps: number;
  batchSize: number;
  learningRate: number;
  /** Threads sharing each batch (data-parallel Web Workers, the training worker counted). */
  workers: number;
  /**
   * Micro-batches each batch is split into (their gradients summed in order): fixed by the batch
   * and the device, not by `workers`, so a run gives the same losses on any number of workers.
   */
  microBatches: number;
  /**
   * `'random'`: a new model of `model`'s shape; `'current'`: fine-tune the model in use (trained
   * or loaded here), its shape and tokenizer kept (`model` and `tokenizer` do not apply).
   */
  startFrom: 'random' | 'current';
  /** What trains, the rest frozen: the library's `train` option (`all`, `embeddings`, `blocks:1`, ...). */
  train: string;
}

/** `minigpt compare` in the worker: every variant trained on the same text, seed and budget. */
export interface CompareRequest {
  type: 'compare';
  run: number;
  corpus: string;
  positions: PositionKind[];
  tie: 'tied' | 'untied' | 'both';
  /** `linear:4`, `yarn:4`, ...: extra evaluation rows of every rope model. */
  ropeScalings: string[];
  model: { blockSize: number; nLayer: number; nHead: number; nEmbd: number };
  steps: number;
  batchSize: number;
  learningRate: number;
  /** Evaluation contexts as multiples of the training length. */
  multiples: number[];
}

export type ToWorker =
  | { type: 'start'; threads?: number }
  | TrainRequest
  | CompareRequest
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  | { type: 'save' }
  /** A checkpoint, or a Hugging Face GPT-2 directory (with its `config.json`). */
  | { type: 'load'; files: CheckpointFiles; config?: string; names: { model: string; tokenizer: string } }
  | { type: 'explore'; prompt: string; token: string; analogy: [string, string, string] }
  /** The model in use's rows for a prompt (the Embed panel's whole-prompt picture). */
  | { type: 'embed-rows'; prompt: string };

/** A prompt's tokens through the first layer: their rows of wte, of wpe (when added) and the sums. */
export interface SequenceRows {
  /** Whose numbers: the model in use, or the Embed panel's own random tables. */
  source: string;
  tokens: string[];
  ids: number[];
  wte: number[][];
  /** The additive position table's rows; undefined when positions are not added to the input. */
  wpe: number[][] | undefined;
  /** What the positions do (added, or applied inside attention, or none). */
  positionNote: string;
  /** Whether the token table is also the output head. */
  tiedNote: string;
  /** Tokens in the whole prompt (more than `ids` when it was cut to the context). */
  given: number;
  context: number;
}

export interface Exploration {
  labels: string[];
  points: [number, number][];
  neighbours: { token: string; score: number }[];
  /** Tokens nearest to b - a + c for the asked analogy "a is to b as c is to ?". */
  analogy: { token: string; score: number }[];
  attention: number[][][][];
  /** The last tokens of the prompt, as many as the model's context holds. */
  promptTokens: string[];
  /** Tokens in the whole prompt (more than `promptTokens` when it was cut to the context). */
  promptLength: number;
  next: { token: string; probability: number }[];
}

/** Which panel an error belongs to (it is shown there, next to the control that asked). */
export type ErrorSource = 'runtime' | 'train' | 'compare' | 'files' | 'explore' | 'embed';

export type FromWorker =
  | { type: 'runtime'; text: string }
  /** What the run does before its first step (a BPE tokenizer learning its merges, the corpus encoded). */
  | { type: 'preparing'; run: number; text: string }
  | { type: 'started'; run: number; workers: number; note?: string }
  | { type: 'step'; run: number; step: number; loss: number; tokensPerSecond: number }
  | { type: 'eval'; run: number; step: number; trainLoss: number; validationLoss: number }
  | { type: 'sample'; run: number; step: number; text: string }
  | { type: 'done'; run: number; status: 'done' | 'stopped' | 'failed'; reason: string }
  | { type: 'checkpoint'; files: CheckpointFiles }
  | { type: 'loaded'; summary: string }
  /** The model in use changed (a run finished, or a model was loaded): what a fine-tune would start from. */
  | { type: 'model'; config: GPTConfig; label: string }
  | { type: 'exploration'; exploration: Exploration }
  | { type: 'embed-rows'; rows: SequenceRows }
  | { type: 'error'; source: ErrorSource; message: string }
  /** The rows of a comparison, in order, and the models it trains (each `steps` steps). */
  | { type: 'compare-started'; run: number; rows: string[]; trained: string[]; steps: number }
  | { type: 'compare-step'; run: number; variant: string; step: number; loss: number; tokensPerSecond: number }
  | { type: 'compare-variant'; run: number; result: VariantResult }
  | { type: 'compare-done'; run: number; status: 'done' | 'stopped' | 'failed'; reason: string };

/** The training worker asks the tokenizer worker for a run's BPE tokenizer and the corpus's tokens. */
export interface BpeRequest {
  corpus: string;
  vocabSize: number;
}

export type FromBpeWorker =
  | { type: 'progress'; text: string }
  | { type: 'done'; tokenizer: SerializedBpeTokenizer; tokens: Int32Array }
  | { type: 'error'; message: string };
