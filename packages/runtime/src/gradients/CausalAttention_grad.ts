import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { CausalAttention, CausalAttentionGrad } from '../kernel-names.js';

// d(qkv) in one backward kernel from the saved softmax weights (and dropout mask). The weights
// output is internal (the op runs the kernel through runWithHiddenOutputs), so it has no incoming
// gradient. The ALiBi bias and the dropout mask are constants: their gradients are zeros.
export const causalAttentionGradConfig: GradConfig = {
  kernelName: CausalAttention,
  inputsToSave: ['qkv', 'keep', 'bias'],
  outputsToSave: [false, true],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const dOut = (Array.isArray(dy) ? dy[0] : dy) as Tensor;
    const [qkv, keep, bias, weights] = saved as [Tensor, Tensor, Tensor, Tensor];
    return {
      qkv: () => tf.engine().runKernel(CausalAttentionGrad, { dy: dOut, qkv, keep, weights }, attrs) as Tensor,
      bias: () => tf.zerosLike(bias),
      keep: () => tf.zerosLike(keep),
    };
  },
};
