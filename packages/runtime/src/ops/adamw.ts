import * as tf from '@tensorflow/tfjs-core';
import { AdamW, type AdamWAttrs, GlobalNorm } from '../kernel-names.js';

// Why these ops exist: global-norm clipping and AdamW written with tfjs ops are about a dozen
// kernels per parameter each step (square, sum, add; then mul, add, square, div, sqrt, sub for
// the moments and the update), each with the engine's bookkeeping. Here they are two kernels for
// all parameters together: `globalNorm`, and `adamwUpdate` with the clipping factor folded in.

/** The global L2 norm √(Σ x²) of all of `tensors` together (PyTorch's `clip_grad_norm_` norm): one kernel. */
export function globalNorm(tensors: tf.Tensor[]): tf.Scalar {
  for (const [i, t] of tensors.entries()) {
    if (!(t instanceof tf.Tensor) || t.dtype !== 'float32') throw new Error(`globalNorm: tensors[${i}] must be a float32 tensor`);
  }
  if (tensors.length === 0) return tf.scalar(0);
  return tf.engine().runKernel(GlobalNorm, { ...tensors } as unknown as tf.NamedTensorMap, {}) as tf.Scalar;
}

/** AdamW's hyperparameters and step (documented on `AdamWAttrs`); `gradScale` defaults to 1, `decay` to parameters of rank ≥ 2. */
export interface AdamWUpdateOptions extends Omit<AdamWAttrs, 'count' | 'gradScale' | 'decay'> {
  gradScale?: number;
  decay?: boolean[];
}

/**
 * One AdamW step (torch.optim.AdamW's arithmetic, in float32) of every parameter in one kernel:
 * p ← p·(1 − lr·wd) − lr·(m/(1 − β1ᵗ)) / (√(v/(1 − β2ᵗ)) + ε), after m ← β1·m + (1 − β1)·g and
 * v ← β2·v + (1 − β2)·g², with g the gradient times `gradScale`. The parameters and moments are
 * variables, assigned their new values.
 */
export function adamwUpdate(params: tf.Variable[], grads: tf.Tensor[], moments: { m: tf.Variable[]; v: tf.Variable[] }, options: AdamWUpdateOptions): void {
  const { learningRate, beta1, beta2, epsilon, weightDecay, step, gradScale = 1 } = options;
  const decay = options.decay ?? params.map((p) => p.rank >= 2);
  const count = params.length;
  for (const [name, list] of [
    ['grads', grads],
    ['moments.m', moments.m],
    ['moments.v', moments.v],
    ['decay', decay],
  ] as const) {
    if (list.length !== count) throw new Error(`adamwUpdate: ${name} has ${list.length} entries for ${count} parameters`);
  }
  for (let i = 0; i < count; i++) {
    for (const [name, t] of [
      ['params', params[i]!],
      ['grads', grads[i]!],
      ['moments.m', moments.m[i]!],
      ['moments.v', moments.v[i]!],
    ] as const) {
      if (t.dtype !== 'float32' || t.shape.join() !== params[i]!.shape.join())
        throw new Error(`adamwUpdate: ${name}[${i}] must be float32 [${params[i]!.shape}], got ${t.dtype} [${t.shape}]`);
    }
  }
  for (const [name, value, ok] of [
    ['learningRate', learningRate, learningRate >= 0],
    ['beta1', beta1, beta1 >= 0 && beta1 < 1],
    ['beta2', beta2, beta2 >= 0 && beta2 < 1],
    ['epsilon', epsilon, epsilon > 0],
    ['weightDecay', weightDecay, weightDecay >= 0],
    ['step', step, Number.isInteger(step) && step >= 1],
    ['gradScale', gradScale, gradScale >= 0],
  ] as const) {
    if (!ok || !Number.isFinite(value)) throw new RangeError(`adamwUpdate: ${name} is out of range, got ${value}`);
  }
  if (count === 0) return;
  const inputs: Record<string, tf.Tensor> = {};
  for (let i = 0; i < count; i++) Object.assign(inputs, { [`p${i}`]: params[i], [`g${i}`]: grads[i], [`m${i}`]: moments.m[i], [`v${i}`]: moments.v[i] });
  const attrs: AdamWAttrs = { count, learningRate, beta1, beta2, epsilon, weightDecay, step, gradScale, decay };
  tf.tidy(() => {
    const outputs = tf.engine().runKernel(AdamW, inputs as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
    for (let i = 0; i < count; i++) {
      params[i]!.assign(outputs[3 * i]!);
      moments.m[i]!.assign(outputs[3 * i + 1]!);
      moments.v[i]!.assign(outputs[3 * i + 2]!);
    }
  });
}
