import { customGradient, linear, sumRows, type Tensor, tf, type Variable } from '@embedlab/runtime';

const LAYER_NORM_EPSILON = 1e-5;

interface Normalised {
  value: Tensor;
  /** x̂ = (x − mean)·rstd and rstd = 1/√(var + ε), both per row: what the backward pass needs. */
  normalised: Tensor;
  rstd: Tensor;
}

function normalise(x: Tensor, weight: Tensor, bias: Tensor | undefined): Normalised {
  const { mean, variance } = tf.moments(x, -1, true);
  const rstd = tf.rsqrt(tf.add(variance, LAYER_NORM_EPSILON));
  const normalised = tf.mul(tf.sub(x, mean), rstd);
  const scaled = tf.mul(normalised, weight);
  return { value: bias ? tf.add(scaled, bias) : scaled, normalised, rstd };
}

/**
 * LayerNorm's gradients in closed form. tfjs's autodiff of the forward pass takes a dozen
 * kernels, and its scale and bias gradients reduce over the leading axes, which the wasm backend
 * does by transposing first; here those are `sumRows`, a product on XNNPACK.
 * dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·weight; dweight = Σ dy·x̂; dbias = Σ dy.
 */
function layerNormGradients(dy: Tensor, normalised: Tensor, rstd: Tensor, weight: Tensor): [Tensor, Tensor, Tensor] {
  const g = tf.mul(dy, weight);
  const centred = tf.sub(g, tf.mean(g, -1, true));
  const dx = tf.mul(tf.sub(centred, tf.mul(normalised, tf.mean(tf.mul(g, normalised), -1, true))), rstd);
  return [dx, sumRows(tf.mul(dy, normalised)), sumRows(dy)];
}

const layerNormWithBias = customGradient<[Tensor, Tensor, Tensor], Tensor>(([x, weight, bias], save) => {
  const { value, normalised, rstd } = normalise(x, weight, bias);
  save([normalised, rstd, weight]);
  return { value, gradFunc: (dy, [normalised, rstd, weight]) => layerNormGradients(dy, normalised!, rstd!, weight!) };
});

const layerNormWithoutBias = customGradient<[Tensor, Tensor], Tensor>(([x, weight], save) => {
  const { value, normalised, rstd } = normalise(x, weight, undefined);
  save([normalised, rstd, weight]);
  return { value, gradFunc: (dy, [normalised, rstd, weight]) => layerNormGradients(dy, normalised!, rstd!, weight!).slice(0, 2) };
});

/** LayerNorm over the last axis, with PyTorch's ε = 1e-5 and an optional bias. */
export function layerNorm(x: Tensor, weight: Variable, bias: Variable | undefined): Tensor {
  return bias ? layerNormWithBias(x, weight, bias) : layerNormWithoutBias(x, weight);
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

/** Named parameters of a module, in nanoGPT's state_dict names under `prefix`. */
export type StateDict = Map<string, Variable>;

function variableOf(initial: Tensor): Variable {
  const variable = tf.variable(initial);
  initial.dispose();
  return variable;
}

/** LayerNorm over the last axis (weight 1, bias 0 at init), as `nn.LayerNorm`. */
export class LayerNorm {
  readonly weight: Variable;
  readonly bias: Variable | undefined;

  constructor(dim: number, bias: boolean) {
    this.weight = variableOf(tf.ones([dim]));
    this.bias = bias ? variableOf(tf.zeros([dim])) : undefined;
  }

  apply(x: Tensor): Tensor {
    return layerNorm(x, this.weight, this.bias);
  }

  addTo(state: StateDict, prefix: string): void {
    state.set(`${prefix}.weight`, this.weight);
    if (this.bias) state.set(`${prefix}.bias`, this.bias);
  }
}

/**
 * A Linear layer stored as `[in, out]` (the XNNPACK-friendly layout; PyTorch's is `[out, in]`),
 * weight N(0, std²) from `seed`, bias 0.
 */
export class Linear {
  readonly weight: Variable;
  readonly bias: Variable | undefined;

  constructor(inFeatures: number, outFeatures: number, options: { bias: boolean; std: number; seed: number }) {
    this.weight = variableOf(tf.randomNormal([inFeatures, outFeatures], 0, options.std, 'float32', options.seed));
    this.bias = options.bias ? variableOf(tf.zeros([outFeatures])) : undefined;
  }

  apply(x: Tensor): Tensor {
    return linear(x, this.weight as tf.Tensor2D, this.bias as tf.Tensor1D | undefined);
  }

  addTo(state: StateDict, prefix: string): void {
    state.set(`${prefix}.weight`, this.weight);
    if (this.bias) state.set(`${prefix}.bias`, this.bias);
  }
}

/** Dropout with an explicit seed (reproducible), or the identity when the rate is 0 or not training. */
export function dropout(x: Tensor, rate: number, seed: number | undefined): Tensor {
  return rate > 0 && seed !== undefined ? tf.dropout(x, rate, undefined, seed) : x;
}
