import * as tf from '@tensorflow/tfjs-core';
import { customGradient } from './custom-gradient.js';

/**
 * Looks up rows of `table` ([vocab, dim]) for integer `ids` of any shape; returns
 * `[...ids.shape, dim]`.
 *
 * Unlike `tf.gather`, whose gradient needs `UnsortedSegmentSum` (missing on the wasm backend),
 * the gradient here is a scatter-add (`scatterND` sums duplicate ids) into a zero table: only
 * the rows that were looked up receive gradient. Ids are not range-checked here (a hot path);
 * callers that take user input validate them first.
 */
export function embeddingLookup(table: tf.Tensor2D, ids: tf.Tensor): tf.Tensor {
  if (table.rank !== 2) throw new Error(`embeddingLookup: table must be 2-D [vocab, dim], got shape [${table.shape}]`);
  if (ids.dtype !== 'int32') throw new Error(`embeddingLookup: ids must be an int32 tensor, got ${ids.dtype}`);
  const [vocabSize, dim] = table.shape;
  const flatIds = tf.reshape(ids, [-1]);
  const lookup = customGradient(([weights]: [tf.Tensor2D], save) => {
    // Saved, so the backward pass still has the ids after the caller disposes them.
    save([flatIds]);
    return {
      value: tf.reshape(tf.gather(weights, flatIds), [...ids.shape, dim]),
      gradFunc: (dy, [savedIds]) => tf.scatterND(tf.reshape(savedIds!, [-1, 1]), tf.reshape(dy, [-1, dim]), [vocabSize, dim]),
    };
  });
  const out = lookup(table);
  flatIds.dispose();
  return out;
}
