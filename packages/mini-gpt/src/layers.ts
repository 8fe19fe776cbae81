import { gelu as runtimeGelu, layerNorm as runtimeLayerNorm, linear, type Tensor, tf, type Variable } from '@embedlab/runtime';
import { LAYER_NORM_EPSILON } from './architecture.js';

/** LayerNorm over the last axis, with the architecture's ε and an optional bias: the runtime's kernel (closed-form gradient, weight and bias gradients summed in the same pass). */
export function layerNorm(x: Tensor, weight: Variable, bias: Variable | undefined): Tensor {
  return runtimeLayerNorm(x, weight, bias, LAYER_NORM_EPSILON);
}

/** GELU, exact (x·Φ(x) with erf, PyTorch's default) or GPT-2's tanh approximation: the runtime's elementwise kernel, one each way. */
export function gelu(x: Tensor, kind: 'exact' | 'tanh'): Tensor {
  return runtimeGelu(x, kind === 'exact' ? 'none' : 'tanh');
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

/**
 * tf.dropout's scaled keep mask, floor(u + keep)/keep with u = randomUniform(shape, seed), the
 * same numbers, built in JavaScript: tf.dropout's add, floor and divide are kernels whose inputs
 * the gradient tape holds until backward (three extra activation-sized buffers per dropout,
 * 38 MB of a baby step), where a tensor made from values is not on the tape.
 */
export function dropoutMask(shape: number[], rate: number, seed: number): Tensor {
  const keep = Math.fround(1 - rate);
  const scale = Math.fround(1 / keep);
  // u as tfjs stores it (float32), then u + keep ≥ 1 in float32 arithmetic.
  const mask = aleaUniforms(seed.toString(), new Float32Array(shape.reduce((a, b) => a * b, 1)));
  for (let i = 0; i < mask.length; i++) mask[i] = Math.fround(mask[i]! + keep) >= 1 ? scale : 0;
  return tf.tensor(mask, shape);
}

/**
 * Fills `out` with Baagøe's Alea as seedrandom implements it, the generator tf.randomUniform draws
 * from (so the same seed gives tf.dropout's mask). Its state stays in local variables: drawing a
 * baby step's 2.2 M dropout numbers through tf.randomUniform (seedrandom keeps the state on an
 * object) cost a tenth of the step.
 */
function aleaUniforms(seed: string, out: Float32Array): Float32Array {
  let n = 0xefc8249d;
  const mash = (data: string) => {
    for (let i = 0; i < data.length; i++) {
      n += data.charCodeAt(i);
      let h = 0.02519603282416938 * n;
      n = h >>> 0;
      h -= n;
      h *= n;
      n = h >>> 0;
      h -= n;
      n += h * 0x100000000;
    }
    return (n >>> 0) * 2.3283064365386963e-10;
  };
  let [s0, s1, s2] = [mash(' '), mash(' '), mash(' ')];
  s0 -= mash(seed);
  if (s0 < 0) s0 += 1;
  s1 -= mash(seed);
  if (s1 < 0) s1 += 1;
  s2 -= mash(seed);
  if (s2 < 0) s2 += 1;
  let c = 1;
  for (let i = 0; i < out.length; i++) {
    const t = 2091639 * s0 + c * 2.3283064365386963e-10;
    s0 = s1;
    s1 = s2;
    c = t | 0;
    s2 = t - c;
    out[i] = s2;
  }
  return out;
}

/** Dropout with an explicit seed (reproducible, the numbers of tf.dropout), or the identity when the rate is 0 or not training. */
export function dropout(x: Tensor, rate: number, seed: number | undefined): Tensor {
  return rate > 0 && seed !== undefined ? tf.mul(x, dropoutMask(x.shape, rate, seed)) : x;
}
