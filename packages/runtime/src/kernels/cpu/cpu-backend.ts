import type { TensorInfo } from '@tensorflow/tfjs-core';

/** What the runtime's cpu kernels use of tfjs-backend-cpu's `MathBackendCPU`. */
export interface CpuBackend {
  readSync(dataId: object): ArrayLike<number>;
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}
