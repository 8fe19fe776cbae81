import * as tf from '@tensorflow/tfjs-core';
import { SoftmaxCrossEntropy, type SoftmaxCrossEntropyAttrs } from '../kernel-names.js';
import { runWithHiddenOutputs } from './hidden-outputs.js';

// Why this op exists: `tf.losses.softmaxCrossEntropy` over one-hot labels is a dozen kernels
// (log-softmax, one-hot, multiply, sums, mean) forward and as many backward, each a pass over
// [rows, vocabulary] floats, with the one-hot matrix, the log-softmax and their gradients all
// held by the tape: 12 floats per logit. Here it is one kernel each way, and the tape keeps the
// logits and one float per row.

/**
 * The next-token loss −log softmax(logits[i])[targets[i]], averaged over the rows (PyTorch's
 * `F.cross_entropy(logits, targets)`), or with `reduction: 'none'` one per row, in the targets'
 * shape. `logits` `[..., n]` float32, `targets` int32 of the leading shape (ids in [0, n); an id
 * outside is a RangeError naming it).
 */
export function softmaxCrossEntropy(logits: tf.Tensor, targets: tf.Tensor): tf.Scalar;
export function softmaxCrossEntropy(logits: tf.Tensor, targets: tf.Tensor, reduction: 'none'): tf.Tensor;
export function softmaxCrossEntropy(logits: tf.Tensor, targets: tf.Tensor, reduction: 'mean' | 'none' = 'mean'): tf.Tensor {
  if (reduction !== 'mean' && reduction !== 'none')
    throw new Error(`softmaxCrossEntropy: reduction must be 'mean' or 'none', got ${JSON.stringify(reduction)}`);
  if (!(logits instanceof tf.Tensor) || logits.rank < 1 || logits.dtype !== 'float32')
    throw new Error(
      `softmaxCrossEntropy: logits must be a float32 tensor [..., n], got ${logits instanceof tf.Tensor ? `${logits.dtype} [${logits.shape}]` : typeof logits}`,
    );
  const n = logits.shape[logits.rank - 1]!;
  const rows = logits.size / n;
  if (!(targets instanceof tf.Tensor) || targets.dtype !== 'int32' || targets.size !== rows)
    throw new Error(
      `softmaxCrossEntropy: targets must be int32 ids, one per row of logits [${logits.shape}] (${rows}), got ${targets instanceof tf.Tensor ? `${targets.dtype} [${targets.shape}]` : typeof targets}`,
    );
  if (rows === 0) throw new Error(`softmaxCrossEntropy: logits [${logits.shape}] have no rows to average`);
  return tf.tidy(() => {
    const attrs: SoftmaxCrossEntropyAttrs = { reduction };
    // The second output, log Σ e^x per row, is kept for the backward kernel only.
    const loss = runWithHiddenOutputs(
      SoftmaxCrossEntropy,
      { logits: tf.reshape(logits, [rows, n]), targets: tf.reshape(targets, [rows]) },
      attrs as unknown as tf.NamedAttrMap,
      ['logits'],
    );
    return reduction === 'none' ? tf.reshape(loss, targets.shape) : loss;
  });
}
