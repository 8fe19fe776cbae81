// The one place other packages take TensorFlow.js from: they import `tf` from here (only this
// package imports @tensorflow/tfjs-core itself), so they share this engine, its registered
// kernels and gradients, and the chosen backend.
import './generated/register-gradients.js';
import './register-kernels.js';

export * as tf from '@tensorflow/tfjs-core';
export type { Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D, Rank, Variable, DataType, NamedTensorMap } from '@tensorflow/tfjs-core';
