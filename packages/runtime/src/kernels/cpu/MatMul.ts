import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { MatMul, type MatMulAttrs, type MatMulInputs } from '../../kernel-names.js';
import { rowsMatMulShape } from '../batched-matmul-shape.js';
import type { CpuBackend } from './cpu-backend.js';
import { geluOf } from './Gelu.js';

// The cpu backend's `EmbedlabMatMul`: the product, bias and GELU in plain loops (the reference the
// wasm kernel is tested against, with tfjs's own ops).

function matMulKernel({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo | TensorInfo[] {
  const { a, b, bias } = inputs as MatMulInputs;
  const { transposeA, transposeB, gelu } = attrs as unknown as MatMulAttrs;
  const cpu = backend as unknown as CpuBackend;
  const { m, k, n, outShape } = rowsMatMulShape(a.shape, b.shape, transposeA, transposeB);
  const [av, bv, biasValues] = [cpu.readSync(a.dataId), cpu.readSync(b.dataId), cpu.readSync(bias.dataId)];
  const product = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) sum += av[transposeA ? p * m + i : i * k + p]! * bv[transposeB ? j * k + p : p * n + j]!;
      product[i * n + j] = biasValues.length > 0 ? sum + biasValues[j]! : sum;
    }
  }
  const out = cpu.makeTensorInfo(outShape, 'float32', product);
  if (gelu === 'off') return out;
  const activated = Float32Array.from(product, (v) => geluOf(v, gelu === 'tanh'));
  return [cpu.makeTensorInfo(outShape, 'float32', activated), out];
}

export const matMulCpuConfig: KernelConfig = {
  kernelName: MatMul,
  backendName: 'cpu',
  kernelFunc: matMulKernel as unknown as KernelFunc,
};
