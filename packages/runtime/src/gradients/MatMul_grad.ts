import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { GeluGrad, type GeluAttrs, MatMul, type MatMulAttrs } from '../kernel-names.js';
import { sumRows } from '../ops/sum-rows.js';

// C = op(A)·op(B) + bias: each input's gradient is one more `EmbedlabMatMul`, its operands read
// transposed where the formula needs (as tfjs-core's BatchMatMul_grad), so no Transpose runs.
// With a fused GELU the incoming gradient is first taken through GELU' at the saved pre-activation.

/** `op(x)·op(y)` through the runtime's product kernel. */
function product(x: Tensor, y: Tensor, transposeA: boolean, transposeB: boolean): Tensor {
  const attrs: MatMulAttrs = { transposeA, transposeB, gelu: 'off' };
  return tf.engine().runKernel(MatMul, { a: x, b: y, bias: tf.zeros([0]) }, attrs as unknown as NamedAttrMap) as Tensor;
}

export const matMulGradConfig: GradConfig = {
  kernelName: MatMul,
  // Not the bias: its gradient needs only dz, and an absent bias (an empty tensor made by the op)
  // is never on the tape's path, so its thunk is never called. One clone fewer per product.
  inputsToSave: ['a', 'b'],
  // The pre-activation, when a GELU is fused (the second output); nothing more otherwise.
  outputsToSave: [false, true],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const { transposeA, transposeB, gelu } = attrs as unknown as MatMulAttrs;
    const [a, b, preActivation] = saved as [Tensor, Tensor, Tensor | undefined];
    const dOut = (Array.isArray(dy) ? dy[0] : dy) as Tensor;
    const geluAttrs: GeluAttrs = { approximate: gelu === 'tanh' ? 'tanh' : 'exact' };
    const dz = gelu === 'off' ? dOut : (tf.engine().runKernel(GeluGrad, { dy: dOut, x: preActivation! }, geluAttrs as unknown as NamedAttrMap) as Tensor);
    // As tfjs-core's BatchMatMul_grad, for each combination of stored layouts.
    const da = () => (!transposeA ? product(dz, b, false, !transposeB) : !transposeB ? product(b, dz, false, true) : product(b, dz, true, true));
    const db = () =>
      !transposeB
        ? !transposeA
          ? product(a, dz, true, false)
          : product(a, dz, false, false)
        : !transposeA
          ? product(dz, a, true, false)
          : product(dz, a, true, true);
    return { a: da, b: db, bias: () => sumRows(dz) };
  },
};
