// A file's tensors matched to what a config needs, checked before any model is allocated, and
// the model built from them: shared by this package's checkpoints and Hugging Face's files.
import { tf } from '@embedlab/runtime';
import { isLinearWeight, parameterTensorCount } from '../model/architecture.js';
import type { GPTConfig } from '../model/config.js';
import { MiniGPT, parameterShapes } from '../model/model.js';
import type { NamedTensor } from './safetensors.js';

/** `[rows, cols]` row-major data as `[cols, rows]`: PyTorch's Linear layout to this package's, and back. */
export function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

// Buffers PyTorch GPTs keep in their state_dict that are not parameters (causal masks).
export const TORCH_MASK_BUFFERS = /\.attn\.(bias|masked_bias)$/;

const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

/**
 * Checks a file's tensors against what `config` needs — count first (by formula, so a config
 * claiming a million layers is refused without listing them), then every name, shape and dtype —
 * before any model is allocated. Returns the file's tensor for each parameter name.
 */
export function matchTensors(
  config: GPTConfig,
  tensors: Map<string, NamedTensor>,
  source: string,
  nameOf: (name: string) => string,
  linearIsOutIn: boolean,
): Map<string, NamedTensor> {
  const ignored = [...tensors.keys()].filter((name) => TORCH_MASK_BUFFERS.test(name)).length;
  const tiedHead = config.tieWeights && tensors.has(nameOf('lm_head.weight')) ? 1 : 0;
  const expectedCount = parameterTensorCount(config);
  const present = tensors.size - ignored - tiedHead;
  if (present !== expectedCount) {
    throw new Error(
      `${source}: the config (${config.nLayer} layers, vocabulary ${config.vocabSize}, ${config.nEmbd} dims) needs ${expectedCount} tensors but the file has ${present}; the config does not describe these weights`,
    );
  }
  const matched = new Map<string, NamedTensor>();
  const missing: string[] = [];
  for (const [name, shape] of parameterShapes(config)) {
    let tensor = tensors.get(nameOf(name));
    // A tied model saved through safetensors' de-duplication may keep the shared matrix under lm_head.
    if (!tensor && name === 'transformer.wte.weight' && config.tieWeights) tensor = tensors.get(nameOf('lm_head.weight'));
    if (!tensor) {
      missing.push(nameOf(name));
      continue;
    }
    const expected = isLinearWeight(name) && linearIsOutIn ? [shape[1]!, shape[0]!] : shape;
    if (tensor.shape.join() !== expected.join()) throw new Error(`${source}: ${nameOf(name)} has shape [${tensor.shape}], but this model needs [${expected}]`);
    if (tensor.dtype && !FLOAT_DTYPES.has(tensor.dtype))
      throw new Error(`${source}: ${nameOf(name)} is ${tensor.dtype}; weights must be floating point (F32, F16, BF16 or F64)`);
    matched.set(name, tensor);
  }
  if (missing.length > 0)
    throw new Error(`${source}: missing ${missing.length} tensor(s): ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`);
  return matched;
}

/** A model of `config` holding the matched tensors (Linear weights transposed when the file has them `[out, in]`). */
export function buildModel(config: GPTConfig, matched: Map<string, NamedTensor>, linearIsOutIn: boolean): MiniGPT {
  const model = new MiniGPT(config);
  for (const [name, variable] of model.stateDict()) {
    const tensor = matched.get(name)!;
    const data = isLinearWeight(name) && linearIsOutIn ? transpose(tensor.data, tensor.shape[0]!, tensor.shape[1]!) : tensor.data;
    tf.tidy(() => variable.assign(tf.tensor(data, variable.shape)));
  }
  return model;
}
