import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { StopGradient, type StopGradientInputs } from '../kernel-names.js';

// `EmbedlabStopGradient` on any backend: the output shares the input's data (one more reference,
// no copy), as tfjs's own Identity kernel does. Its gradient (src/gradients/StopGradient_grad.ts)
// is zero, which is the whole point of the op.

function stopGradientKernel({ inputs, backend }: Parameters<KernelFunc>[0]): TensorInfo {
  const { x } = inputs as StopGradientInputs;
  (backend as KernelBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** One config per backend the runtime runs on. */
export const stopGradientConfigs: KernelConfig[] = ['wasm', 'cpu'].map((backendName) => ({
  kernelName: StopGradient,
  backendName,
  kernelFunc: stopGradientKernel as unknown as KernelFunc,
}));
