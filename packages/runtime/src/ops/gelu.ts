import * as tf from '@tensorflow/tfjs-core';
import { Gelu, type GeluAttrs } from '../kernel-names.js';

// Why this op exists: GELU from tfjs ops is five kernels forward (and erf or sigmoid among them)
// and autodiff doubles that; here it is one elementwise kernel each way.

/**
 * GELU: exact x·Φ(x) (`'exact'`, PyTorch's default) or GPT-2's tanh approximation (`'tanh'`).
 * `'none'` (PyTorch's name for the exact form) is still accepted and means `'exact'`.
 */
export function gelu(x: tf.Tensor, approximate: 'exact' | 'tanh' | 'none' = 'exact'): tf.Tensor {
  if (!(x instanceof tf.Tensor) || x.dtype !== 'float32')
    throw new Error(`gelu: x must be a float32 tensor, got ${x instanceof tf.Tensor ? x.dtype : typeof x}`);
  if (approximate !== 'exact' && approximate !== 'tanh' && approximate !== 'none')
    throw new Error(`gelu: approximate must be 'exact' or 'tanh', got ${JSON.stringify(approximate)}`);
  const attrs: GeluAttrs = { approximate: approximate === 'tanh' ? 'tanh' : 'exact' };
  return tf.engine().runKernel(Gelu, { x }, attrs as unknown as tf.NamedAttrMap);
}
