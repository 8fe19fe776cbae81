import type { GradConfig, Tensor } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { LayerNorm, LayerNormGrad } from '../kernel-names.js';

// dx, dweight and dbias come out of one backward kernel, run once, here in the gradient function
// rather than in each input's thunk (which ran it three times). The engine calls this function
// inside its backward scope: an output no input claims (an input off the gradient's path) is
// disposed with that scope, as any intermediate gradient is.
// The saved means and rstds are internal outputs (the op runs the kernel through runWithHiddenOutputs): they have no incoming gradient.
export const layerNormGradConfig: GradConfig = {
  kernelName: LayerNorm,
  inputsToSave: ['x', 'weight', 'bias'],
  outputsToSave: [false, true, true],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
    const dOut = (Array.isArray(dy) ? dy[0] : dy) as Tensor;
    const [x, weight, bias, means, rstds] = saved as [Tensor, Tensor, Tensor, Tensor, Tensor];
    const [dx, dWeight, dBias] = tf.engine().runKernel(LayerNormGrad, { dy: dOut, x, weight, means, rstds }, {}) as [Tensor, Tensor, Tensor];
    return { x: () => dx, weight: () => dWeight, bias: bias.size === 0 ? () => tf.zerosLike(bias) : () => dBias };
  },
};
