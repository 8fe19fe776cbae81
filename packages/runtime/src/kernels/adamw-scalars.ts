import type { AdamWAttrs } from '../kernel-names.js';

/**
 * The float32 constants of one AdamW step, each rounded once as tfjs rounds a JavaScript number
 * it multiplies a tensor by: 1 − β1 and 1 − β2, the bias corrections 1 − βᵗ, and per parameter
 * the decay factor 1 − lr·wd (or 1). Shared by the wasm and cpu kernels so both compute the same.
 */
export function adamwScalars(attrs: AdamWAttrs) {
  const { learningRate, beta1, beta2, epsilon, weightDecay, step, gradScale } = attrs;
  const f = Math.fround;
  return {
    scale: f(gradScale),
    beta1: f(beta1),
    oneMinusBeta1: f(1 - beta1),
    beta2: f(beta2),
    oneMinusBeta2: f(1 - beta2),
    correction1: f(1 - beta1 ** step),
    correction2: f(1 - beta2 ** step),
    epsilon: f(epsilon),
    decayFactor: (decays: boolean) => (decays && weightDecay > 0 ? f(1 - learningRate * weightDecay) : 1),
    learningRate: f(learningRate),
  };
}
