import * as tf from '@tensorflow/tfjs-core';
import { customGradient } from './custom-gradient.js';

/**
 * `x @ weight (+ bias)` for activations `x` of shape `[..., in]` and `weight` `[in, out]`.
 *
 * Why not `tf.matMul`: on the wasm backend only a 2-D, no-transpose product reaches XNNPACK;
 * tfjs's own matMul gradient multiplies with transposed operands, which take a scalar loop
 * about 20x slower. Here forward and backward are all 2-D no-transpose products fed by explicit
 * transposes: dx = dy @ weightᵀ, dW = xᵀ @ dy, db = Σ dy.
 */
export function linear(x: tf.Tensor, weight: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor {
  const [inFeatures, outFeatures] = weight.shape;
  const lastDim = x.shape[x.rank - 1];
  if (weight.rank !== 2) throw new Error(`linear: weight must be 2-D [in, out], got shape [${weight.shape}]`);
  if (x.rank < 1 || lastDim !== inFeatures) {
    throw new Error(`linear: x's last dimension (${lastDim}, shape [${x.shape}]) must equal weight's input size ${inFeatures}`);
  }
  if (bias !== undefined && (bias.rank !== 1 || bias.shape[0] !== outFeatures)) {
    throw new Error(`linear: bias must have shape [${outFeatures}], got [${bias.shape}]`);
  }
  return tf.tidy(() => {
    const x2d = (x.rank === 2 ? x : tf.reshape(x, [-1, inFeatures])) as tf.Tensor2D;
    const y2d = bias === undefined ? matMul2d(x2d, weight) : matMul2dBias(x2d, weight, bias);
    return x.rank === 2 ? y2d : tf.reshape(y2d, [...x.shape.slice(0, -1), outFeatures]);
  });
}

function inputGradients(dy: tf.Tensor2D, x: tf.Tensor2D, weight: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D] {
  return [tf.matMul(dy, tf.transpose(weight)), tf.matMul(tf.transpose(x), dy)];
}

const matMul2d = customGradient(([x, weight]: [tf.Tensor2D, tf.Tensor2D], save) => {
  save([x, weight]);
  return {
    value: tf.matMul(x, weight),
    gradFunc: (dy, [xs, ws]) => inputGradients(dy as tf.Tensor2D, xs as tf.Tensor2D, ws as tf.Tensor2D),
  };
});

const matMul2dBias = customGradient(([x, weight, bias]: [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D], save) => {
  save([x, weight]);
  return {
    value: tf.fused.matMul({ a: x, b: weight, bias }),
    gradFunc: (dy, [xs, ws]) => [...inputGradients(dy as tf.Tensor2D, xs as tf.Tensor2D, ws as tf.Tensor2D), tf.sum(dy, 0)],
  };
});
