import type { GradConfig, Tensor } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { SumRows } from '../kernel-names.js';

// Every row of x receives dy: dx = dy broadcast to x's [rows, n].
export const sumRowsGradConfig: GradConfig = {
  kernelName: SumRows,
  inputsToSave: ['x'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
    const [x] = saved as [Tensor];
    return { x: () => tf.broadcastTo(tf.reshape(dy as Tensor, [1, x.shape[1]!]), x.shape) };
  },
};
