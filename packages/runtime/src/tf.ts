// The one import of TensorFlow.js in the whole project. Other packages take `tf` from here,
// so they share this engine, its registered kernels and gradients, and the chosen backend.
import './generated/register-gradients.js';
import './register-kernels.js';

export * as tf from '@tensorflow/tfjs-core';
export type { Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D, Rank, Variable, DataType, NamedTensorMap } from '@tensorflow/tfjs-core';
