import type { GradConfig, Tensor } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { SoftmaxCrossEntropy, SoftmaxCrossEntropyGrad } from '../kernel-names.js';

// d(logits) = s·(softmax(logits) - onehot(targets)), s = dy/rows for the mean or each row's dy, one kernel reading the saved log Σ e^x;
// the targets are ids and get no gradient. The second output (log Σ e^x) is not differentiated.
export const softmaxCrossEntropyGradConfig: GradConfig = {
  kernelName: SoftmaxCrossEntropy,
  inputsToSave: ['logits', 'targets'],
  outputsToSave: [false, true],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
    const [logits, targets, logSumExp] = saved as [Tensor, Tensor, Tensor];
    return {
      logits: () => tf.engine().runKernel(SoftmaxCrossEntropyGrad, { dy: (dy as Tensor[])[0]!, logits, targets, logSumExp }) as Tensor,
    };
  },
};
