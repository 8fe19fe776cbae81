import * as tf from '@tensorflow/tfjs-core';
import { MatMul, type MatMulAttrs } from '../kernel-names.js';

// `linear` and `linearTransposed` run the runtime's own product kernel, `EmbedlabMatMul`
// (src/kernels/wasm/MatMul.ts: a register-blocked relaxed-SIMD or SIMD product over packed
// panels, faster than XNNPACK on these shapes), forward and backward: the bias (and GELU, when
// asked) is applied as the product is stored, and the backward products read the transposed
// operand while packing it (src/gradients/MatMul_grad.ts), so no Transpose runs either way.
// They run inside a scope named after the op, which is what `tf.profile` shows for them.

/** GELU applied as the product is stored: exact (erf, PyTorch's default) or GPT-2's tanh form. */
export interface LinearOptions {
  gelu?: 'exact' | 'tanh';
}

/** The product over `x`'s rows (the kernel reads `[..., in]` as `[rows, in]` and keeps the leading dimensions). */
function overRows(
  op: string,
  x: tf.Tensor,
  weight: tf.Tensor2D,
  layout: string,
  inFeatures: number,
  outFeatures: number,
  bias: tf.Tensor1D | undefined,
  options: LinearOptions,
  transposeB: boolean,
): tf.Tensor {
  if (weight.rank !== 2) throw new Error(`${op}: weight must be 2-D ${layout}, got shape [${weight.shape}]`);
  for (const [name, t] of [
    ['x', x],
    ['weight', weight],
    ['bias', bias],
  ] as const) {
    if (t !== undefined && t.dtype !== 'float32') throw new Error(`${op}: ${name} must be float32, got ${t.dtype}`);
  }
  const lastDim = x.shape[x.rank - 1];
  if (x.rank < 1 || lastDim !== inFeatures) {
    throw new Error(
      `${op}: x's last dimension (${lastDim}, shape [${x.shape}]) must equal weight's input size ${inFeatures} (weight is ${layout} = [${weight.shape}])`,
    );
  }
  if (bias !== undefined && (bias.rank !== 1 || bias.shape[0] !== outFeatures)) {
    throw new Error(`${op}: bias must have shape [${outFeatures}], got [${bias.shape}]`);
  }
  const gelu = options.gelu ?? 'off';
  if (gelu !== 'off' && gelu !== 'exact' && gelu !== 'tanh') throw new Error(`${op}: options.gelu must be 'exact' or 'tanh', got ${JSON.stringify(gelu)}`);
  return tf.tidy(op, () => {
    const attrs: MatMulAttrs = { transposeA: false, transposeB, gelu };
    const outputs = tf.engine().runKernel(MatMul, { a: x, b: weight, bias: bias ?? tf.zeros([0]) }, attrs as unknown as tf.NamedAttrMap);
    // With a GELU the kernel also returns the pre-activation (which its gradient keeps).
    return Array.isArray(outputs) ? (outputs[0] as tf.Tensor) : (outputs as tf.Tensor);
  });
}

/**
 * `x @ weight (+ bias)` for activations `x` of shape `[..., in]` and `weight` `[in, out]`, GELU of
 * it with `{ gelu }`. Backward: dx = dy @ weightᵀ, dW = xᵀ @ dy, db = Σ dy.
 */
export function linear(x: tf.Tensor, weight: tf.Tensor2D, bias?: tf.Tensor1D, options: LinearOptions = {}): tf.Tensor {
  const [inFeatures, outFeatures] = weight.shape;
  return overRows('linear', x, weight, '[in, out]', inFeatures, outFeatures, bias, options, false);
}

/**
 * `x @ weightᵀ (+ bias)` for `weight` of shape `[out, in]`: PyTorch `nn.Linear`'s layout, and the
 * tied output head's (`logits = h @ Eᵀ` with the `[vocab, dim]` embedding table E).
 * Backward: dx = dy @ weight, dW = dyᵀ @ x.
 */
export function linearTransposed(x: tf.Tensor, weight: tf.Tensor2D, bias?: tf.Tensor1D, options: LinearOptions = {}): tf.Tensor {
  const [outFeatures, inFeatures] = weight.shape;
  return overRows('linearTransposed', x, weight, '[out, in]', inFeatures, outFeatures, bias, options, true);
}
