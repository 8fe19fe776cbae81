import { type GradConfig, type Tensor, zerosLike } from '@tensorflow/tfjs-core';
import { StopGradient } from '../kernel-names.js';

/** Nothing flows back through `stopGradient` (PyTorch's `detach`). */
export const stopGradientGradConfig: GradConfig = {
  kernelName: StopGradient,
  gradFunc: (dy: Tensor | Tensor[]) => ({ x: () => zerosLike(dy as Tensor) }),
};
