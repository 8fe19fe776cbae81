import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';
import { BatchedMatMul, type BatchedMatMulAttrs } from '../kernel-names.js';
import { batchedMatMul } from '../ops/batched-matmul.js';

// C = op(A)·op(B), with op transposing when asked. Each gradient is another batched product, run
// through the op front end, so the backward pass takes the same fast kernel as the forward one:
//   C = A·B     ⇒ dA = dC·Bᵀ,   dB = Aᵀ·dC
//   C = A·Bᵀ    ⇒ dA = dC·B,    dB = dCᵀ·A
//   C = Aᵀ·B    ⇒ dA = B·dCᵀ,   dB = A·dC
//   C = Aᵀ·Bᵀ   ⇒ dA = Bᵀ·dCᵀ,  dB = dCᵀ·Aᵀ
export const batchedMatMulGradConfig: GradConfig = {
  kernelName: BatchedMatMul,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const dc = dy as Tensor;
    const [a, b] = saved as [Tensor, Tensor];
    const { transposeA, transposeB } = attrs as unknown as BatchedMatMulAttrs;
    if (!transposeA && !transposeB) return { a: () => batchedMatMul(dc, b, { transposeB: true }), b: () => batchedMatMul(a, dc, { transposeA: true }) };
    if (!transposeA && transposeB) return { a: () => batchedMatMul(dc, b), b: () => batchedMatMul(dc, a, { transposeA: true }) };
    if (transposeA && !transposeB) return { a: () => batchedMatMul(b, dc, { transposeB: true }), b: () => batchedMatMul(a, dc) };
    return { a: () => batchedMatMul(b, dc, { transposeA: true, transposeB: true }), b: () => batchedMatMul(dc, a, { transposeA: true, transposeB: true }) };
  },
};
