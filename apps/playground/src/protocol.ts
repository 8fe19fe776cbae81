// Messages between the page and the training worker.
import type { CheckpointFiles, PositionKind } from '@embedlab/mini-gpt';

export interface TrainRequest {
  type: 'train';
  run: number;
  corpus: string;
  tokenizer: 'char' | 'bpe';
  model: { blockSize: number; nLayer: number; nHead: number; nEmbd: number; position: PositionKind; tieWeights: boolean };
  steps: number;
  batchSize: number;
  learningRate: number;
}

export type ToWorker =
  | { type: 'start'; threads?: number }
  | TrainRequest
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  | { type: 'save' }
  | { type: 'load'; files: CheckpointFiles }
  | { type: 'explore'; prompt: string; token: string; analogy: [string, string, string] };

export interface Exploration {
  labels: string[];
  points: [number, number][];
  neighbours: { token: string; score: number }[];
  /** Tokens nearest to b - a + c for the asked analogy "a is to b as c is to ?". */
  analogy: { token: string; score: number }[];
  attention: number[][][][];
  promptTokens: string[];
  next: { token: string; probability: number }[];
}

export type FromWorker =
  | { type: 'runtime'; text: string }
  | { type: 'step'; run: number; step: number; loss: number; tokensPerSecond: number }
  | { type: 'eval'; run: number; step: number; trainLoss: number; validationLoss: number }
  | { type: 'sample'; run: number; step: number; text: string }
  | { type: 'done'; run: number; reason: string }
  | { type: 'checkpoint'; files: CheckpointFiles }
  | { type: 'loaded'; summary: string }
  | { type: 'exploration'; exploration: Exploration }
  | { type: 'error'; message: string };
