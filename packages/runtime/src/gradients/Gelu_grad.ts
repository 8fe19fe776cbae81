import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { Gelu, GeluGrad } from '../kernel-names.js';

// dx = dy·GELU'(x), one elementwise kernel.
export const geluGradConfig: GradConfig = {
  kernelName: Gelu,
  inputsToSave: ['x'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => ({
    x: () => tf.engine().runKernel(GeluGrad, { dy: dy as Tensor, x: saved[0]! }, attrs) as Tensor,
  }),
};
