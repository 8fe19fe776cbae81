import * as tf from '@tensorflow/tfjs-core';
import { Gelu, type GeluAttrs } from '../kernel-names.js';

// Why this op exists: GELU from tfjs ops is five kernels forward (and erf or sigmoid among them)
// and autodiff doubles that; here it is one elementwise kernel each way.

/** GELU: exact x·Φ(x) (`'none'`, PyTorch's default) or GPT-2's tanh approximation (`'tanh'`). */
export function gelu(x: tf.Tensor, approximate: 'none' | 'tanh' = 'none'): tf.Tensor {
  if (!(x instanceof tf.Tensor) || x.dtype !== 'float32')
    throw new Error(`gelu: x must be a float32 tensor, got ${x instanceof tf.Tensor ? x.dtype : typeof x}`);
  if (approximate !== 'none' && approximate !== 'tanh') throw new Error(`gelu: approximate must be 'none' or 'tanh', got ${JSON.stringify(approximate)}`);
  const attrs: GeluAttrs = { approximate };
  return tf.engine().runKernel(Gelu, { x }, attrs as unknown as tf.NamedAttrMap);
}
