import * as tf from '@tensorflow/tfjs-core';
import { EmbeddingLookup } from '../kernel-names.js';

/**
 * Looks up rows of `table` ([vocab, dim]) for integer `ids` of any shape; returns
 * `[...ids.shape, dim]`. Runs `EmbedlabEmbeddingLookup`.
 *
 * Unlike `tf.gather`, whose gradient needs `UnsortedSegmentSum` (missing on the wasm backend),
 * the gradient here is a scatter-add (`scatterND` sums duplicate ids) into a zero table: only
 * the rows that were looked up receive gradient. Ids are not range-checked here (a hot path);
 * callers that take user input validate them first.
 */
export function embeddingLookup(table: tf.Tensor2D, ids: tf.Tensor): tf.Tensor {
  if (table.rank !== 2) throw new Error(`embeddingLookup: table must be 2-D [vocab, dim], got shape [${table.shape}]`);
  if (ids.dtype !== 'int32') throw new Error(`embeddingLookup: ids must be an int32 tensor, got ${ids.dtype}`);
  return tf.engine().runKernel(EmbeddingLookup, { table, ids });
}
