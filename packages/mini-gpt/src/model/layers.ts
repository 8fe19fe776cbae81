import { gelu as runtimeGelu, layerNorm as runtimeLayerNorm, linear, type Tensor, tf, type Variable } from '@embedlab/runtime';
import { LAYER_NORM_EPSILON } from './architecture.js';

/** LayerNorm over the last axis, with the architecture's ε and an optional bias: the runtime's kernel (closed-form gradient, weight and bias gradients summed in the same pass). */
export function layerNorm(x: Tensor, weight: Variable, bias: Variable | undefined): Tensor {
  return runtimeLayerNorm(x, weight, bias, LAYER_NORM_EPSILON);
}

/** GELU, exact (x·Φ(x) with erf, PyTorch's default) or GPT-2's tanh approximation: the runtime's elementwise kernel, one each way. */
export function gelu(x: Tensor, kind: 'exact' | 'tanh'): Tensor {
  return runtimeGelu(x, kind);
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
