import type { GradConfig, Tensor } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { LayerNorm, LayerNormGrad } from '../kernel-names.js';

// dx, dweight and dbias come out of one backward kernel; each input's gradient runs it and keeps
// its own output (the pass is one read of dy and x, cheap next to the products around it).
// The saved means and rstds are outputs the op front end disposes: their incoming gradients are ignored.
export const layerNormGradConfig: GradConfig = {
  kernelName: LayerNorm,
  inputsToSave: ['x', 'weight', 'bias'],
  outputsToSave: [false, true, true],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
    const dOut = (Array.isArray(dy) ? dy[0] : dy) as Tensor;
    const [x, weight, bias, means, rstds] = saved as [Tensor, Tensor, Tensor, Tensor, Tensor];
    const gradient = (which: 0 | 1 | 2) => () => {
      const outputs = tf.engine().runKernel(LayerNormGrad, { dy: dOut, x, weight, means, rstds }, {}) as Tensor[];
      for (const [i, t] of outputs.entries()) if (i !== which) t.dispose();
      return outputs[which]!;
    };
    return { x: gradient(0), weight: gradient(1), bias: bias.size === 0 ? () => tf.zerosLike(bias) : gradient(2) };
  },
};
