import type { GradConfig, Tensor } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { SumRows } from '../kernel-names.js';

// Every row of x receives dy: dx = dy broadcast to x's [..., n].
export const sumRowsGradConfig: GradConfig = {
  kernelName: SumRows,
  inputsToSave: ['x'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
    const [x] = saved as [Tensor];
    return { x: () => tf.broadcastTo(dy as Tensor, x.shape) };
  },
};
