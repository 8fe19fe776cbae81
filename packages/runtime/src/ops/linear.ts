import * as tf from '@tensorflow/tfjs-core';
import { customGradient } from './custom-gradient.js';
import { sumRows } from './sum-rows.js';

// Why these ops exist: on the wasm backend only a 2-D, no-transpose product reaches XNNPACK;
// a transposed or batched one takes a scalar loop about 20x slower, and tfjs's own matMul
// gradient multiplies by transposed operands. Here every product, forward and backward, is
// 2-D and no-transpose, fed by explicit transposes.
//
// These are composites of tfjs ops, so they need no kernel of their own; they keep a custom
// gradient only because tfjs's matMul gradient (transposed products) would be the slow kind.
// They run inside a scope named after the op, which is what `tf.profile` shows for them.

/** Flattens `x` to `[rows, in]`, applies the 2-D product, and restores the leading dimensions. */
function overRows(
  op: string,
  x: tf.Tensor,
  weight: tf.Tensor2D,
  layout: string,
  inFeatures: number,
  outFeatures: number,
  bias: tf.Tensor1D | undefined,
  product: (x2d: tf.Tensor2D) => tf.Tensor2D,
): tf.Tensor {
  if (weight.rank !== 2) throw new Error(`${op}: weight must be 2-D ${layout}, got shape [${weight.shape}]`);
  const lastDim = x.shape[x.rank - 1];
  if (x.rank < 1 || lastDim !== inFeatures) {
    throw new Error(
      `${op}: x's last dimension (${lastDim}, shape [${x.shape}]) must equal weight's input size ${inFeatures} (weight is ${layout} = [${weight.shape}])`,
    );
  }
  if (bias !== undefined && (bias.rank !== 1 || bias.shape[0] !== outFeatures)) {
    throw new Error(`${op}: bias must have shape [${outFeatures}], got [${bias.shape}]`);
  }
  return tf.tidy(op, () => {
    const y2d = product((x.rank === 2 ? x : tf.reshape(x, [-1, inFeatures])) as tf.Tensor2D);
    return x.rank === 2 ? y2d : tf.reshape(y2d, [...x.shape.slice(0, -1), outFeatures]);
  });
}

/**
 * `x @ weight (+ bias)` for activations `x` of shape `[..., in]` and `weight` `[in, out]`.
 * Backward: dx = dy @ weightᵀ, dW = xᵀ @ dy, db = Σ dy.
 */
export function linear(x: tf.Tensor, weight: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor {
  const [inFeatures, outFeatures] = weight.shape;
  return overRows('linear', x, weight, '[in, out]', inFeatures, outFeatures, bias, (x2d) =>
    bias === undefined ? matMul2d(x2d, weight) : matMul2dBias(x2d, weight, bias),
  );
}

/**
 * `x @ weightᵀ (+ bias)` for `weight` of shape `[out, in]`: PyTorch `nn.Linear`'s layout, and the
 * tied output head's (`logits = h @ Eᵀ` with the `[vocab, dim]` embedding table E).
 * Backward needs no transpose of the weight: dx = dy @ weight, dW = dyᵀ @ x.
 */
export function linearTransposed(x: tf.Tensor, weight: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor {
  const [outFeatures, inFeatures] = weight.shape;
  return overRows('linearTransposed', x, weight, '[out, in]', inFeatures, outFeatures, bias, (x2d) =>
    bias === undefined ? matMul2dTransposed(x2d, weight) : matMul2dTransposedBias(x2d, weight, bias),
  );
}

type Gradients2d = (dy: tf.Tensor2D, x: tf.Tensor2D, weight: tf.Tensor2D) => [tf.Tensor2D, tf.Tensor2D];

const gradients: Gradients2d = (dy, x, weight) => [tf.matMul(dy, tf.transpose(weight)), tf.matMul(tf.transpose(x), dy)];
const transposedGradients: Gradients2d = (dy, x, weight) => [tf.matMul(dy, weight), tf.matMul(tf.transpose(dy), x)];

function product2d(forward: (x: tf.Tensor2D, weight: tf.Tensor2D) => tf.Tensor2D, backward: Gradients2d) {
  return customGradient<[tf.Tensor2D, tf.Tensor2D], tf.Tensor2D>(([x, weight], save) => {
    save([x, weight]);
    return { value: forward(x, weight), gradFunc: (dy, [xs, ws]) => backward(dy, xs as tf.Tensor2D, ws as tf.Tensor2D) };
  });
}

function product2dBias(forward: (x: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D) => tf.Tensor2D, backward: Gradients2d) {
  return customGradient<[tf.Tensor2D, tf.Tensor2D, tf.Tensor1D], tf.Tensor2D>(([x, weight, bias], save) => {
    save([x, weight]);
    return {
      value: forward(x, weight, bias),
      gradFunc: (dy, [xs, ws]) => [...backward(dy, xs as tf.Tensor2D, ws as tf.Tensor2D), sumRows(dy)],
    };
  });
}

const matMul2d = product2d((x, w) => tf.matMul(x, w), gradients);
const matMul2dBias = product2dBias((x, w, bias) => tf.fused.matMul({ a: x, b: w, bias }) as tf.Tensor2D, gradients);
const matMul2dTransposed = product2d((x, w) => tf.matMul(x, tf.transpose(w) as tf.Tensor2D), transposedGradients);
const matMul2dTransposedBias = product2dBias(
  (x, w, bias) => tf.fused.matMul({ a: x, b: tf.transpose(w) as tf.Tensor2D, bias }) as tf.Tensor2D,
  transposedGradients,
);
