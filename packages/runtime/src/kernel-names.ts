// The names under which the runtime's kernels and gradients are registered with tfjs-core, as
// tfjs-core's kernel_names.ts does for its own. `tf.profile` and the gradient tape show these.
// Prefixed so they can never collide with a tfjs kernel.
import type { TensorInfo } from '@tensorflow/tfjs-core';

export const BatchedMatMul = 'EmbedlabBatchedMatMul';
export type BatchedMatMulInputs = { a: TensorInfo; b: TensorInfo };
export interface BatchedMatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

export const EmbeddingLookup = 'EmbedlabEmbeddingLookup';
export type EmbeddingLookupInputs = { table: TensorInfo; ids: TensorInfo };

export const StopGradient = 'EmbedlabStopGradient';
export type StopGradientInputs = { x: TensorInfo };
