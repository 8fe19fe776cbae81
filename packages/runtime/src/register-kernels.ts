// Registers the runtime's kernels (per backend) and their gradients with tfjs-core, once, as a
// side effect of importing this module: tf.ts, backend.ts and testing.ts import it, so every entry
// point of the package has them. An op front end (src/ops/) only names its kernel; this is where
// the name meets the code.
import { type GradConfig, type KernelConfig, registerGradient, registerKernel } from '@tensorflow/tfjs-core';
import { batchedMatMulGradConfig } from './gradients/BatchedMatMul_grad.js';
import { causalAttentionGradConfig } from './gradients/CausalAttention_grad.js';
import { geluGradConfig } from './gradients/Gelu_grad.js';
import { layerNormGradConfig } from './gradients/LayerNorm_grad.js';
import { matMulGradConfig } from './gradients/MatMul_grad.js';
import { embeddingLookupGradConfig } from './gradients/EmbeddingLookup_grad.js';
import { stopGradientGradConfig } from './gradients/StopGradient_grad.js';
import { softmaxCrossEntropyGradConfig } from './gradients/SoftmaxCrossEntropy_grad.js';
import { sumRowsGradConfig } from './gradients/SumRows_grad.js';
import { adamwCpuConfigs } from './kernels/cpu/AdamW.js';
import { dropoutMaskCpuConfig } from './kernels/cpu/DropoutMask.js';
import { batchedMatMulCpuConfig } from './kernels/cpu/BatchedMatMul.js';
import { causalAttentionCpuConfigs } from './kernels/cpu/CausalAttention.js';
import { geluCpuConfigs } from './kernels/cpu/Gelu.js';
import { layerNormCpuConfigs } from './kernels/cpu/LayerNorm.js';
import { matMulCpuConfig } from './kernels/cpu/MatMul.js';
import { softmaxCrossEntropyCpuConfigs } from './kernels/cpu/SoftmaxCrossEntropy.js';
import { sumRowsCpuConfig } from './kernels/cpu/SumRows.js';
import { embeddingLookupCpuConfig } from './kernels/EmbeddingLookup.js';
import { stopGradientConfigs } from './kernels/StopGradient.js';
import { adamwWasmConfigs } from './kernels/wasm/AdamW.js';
import { batchedMatMulWasmConfig } from './kernels/wasm/BatchedMatMul.js';
import { causalAttentionWasmConfigs } from './kernels/wasm/CausalAttention.js';
import { dropoutMaskWasmConfig } from './kernels/wasm/DropoutMask.js';
import { embeddingLookupWasmConfig } from './kernels/wasm/EmbeddingLookup.js';
import { geluWasmConfigs } from './kernels/wasm/Gelu.js';
import { layerNormWasmConfigs } from './kernels/wasm/LayerNorm.js';
import { matMulWasmConfig } from './kernels/wasm/MatMul.js';
import { softmaxCrossEntropyWasmConfigs } from './kernels/wasm/SoftmaxCrossEntropy.js';
import { sumRowsWasmConfig } from './kernels/wasm/SumRows.js';

const kernels: KernelConfig[] = [
  matMulWasmConfig,
  matMulCpuConfig,
  sumRowsWasmConfig,
  sumRowsCpuConfig,
  batchedMatMulWasmConfig,
  batchedMatMulCpuConfig,
  ...causalAttentionWasmConfigs,
  ...causalAttentionCpuConfigs,
  ...layerNormWasmConfigs,
  ...layerNormCpuConfigs,
  ...geluWasmConfigs,
  ...geluCpuConfigs,
  embeddingLookupWasmConfig,
  embeddingLookupCpuConfig,
  ...stopGradientConfigs,
  ...adamwWasmConfigs,
  ...adamwCpuConfigs,
  ...softmaxCrossEntropyWasmConfigs,
  ...softmaxCrossEntropyCpuConfigs,
  dropoutMaskWasmConfig,
  dropoutMaskCpuConfig,
];
const gradients: GradConfig[] = [
  matMulGradConfig,
  sumRowsGradConfig,
  batchedMatMulGradConfig,
  causalAttentionGradConfig,
  layerNormGradConfig,
  geluGradConfig,
  embeddingLookupGradConfig,
  stopGradientGradConfig,
  softmaxCrossEntropyGradConfig,
];

for (const config of kernels) registerKernel(config);
for (const config of gradients) registerGradient(config);
