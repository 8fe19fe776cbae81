import { linear, type Tensor, tf, type Variable } from '@embedlab/runtime';

const LAYER_NORM_EPSILON = 1e-5;

/** LayerNorm over the last axis, with PyTorch's ε = 1e-5 and an optional bias. */
export function layerNorm(x: Tensor, weight: Variable, bias: Variable | undefined): Tensor {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true);
    const normalised = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, LAYER_NORM_EPSILON)));
    const scaled = tf.mul(normalised, weight);
    return bias ? tf.add(scaled, bias) : scaled;
  });
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/**
 * GELU, exact (x·Φ(x) with erf, PyTorch's default) or GPT-2's tanh approximation
 * 0.5·x·(1 + tanh(z)), z = √(2/π)(x + 0.044715x³), computed as the identical x·σ(2z): the wasm
 * backend's sigmoid is vectorised (XNNPACK) where its tanh is not, and x³ is x·x·x because
 * `pow` is slow there.
 */
export function gelu(x: Tensor, kind: 'exact' | 'tanh'): Tensor {
  return tf.tidy(() => {
    if (kind === 'exact') return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
    const z = tf.mul(tf.add(x, tf.mul(tf.mul(tf.mul(x, x), x), 0.044715)), 2 * SQRT_2_OVER_PI);
    return tf.mul(x, tf.sigmoid(z));
  });
}

/** A Linear layer stored as `[in, out]` (the XNNPACK-friendly layout), with an optional bias. */
export function dense(x: Tensor, weight: Variable, bias: Variable | undefined): Tensor {
  return linear(x, weight as tf.Tensor2D, bias as tf.Tensor1D | undefined);
}

/** Dropout with an explicit seed (reproducible), or the identity when the rate is 0 or not training. */
export function dropout(x: Tensor, rate: number, seed: number | undefined): Tensor {
  return rate > 0 && seed !== undefined ? tf.dropout(x, rate, undefined, seed) : x;
}
