import { tf, type Variable } from '@embedlab/runtime';
import { type Tokenizer, tokenizerFromJSON } from '@embedlab/tokenizer';
import { type GPTConfig, validateConfig } from './config.js';
import { isLinearWeight, MiniGPT } from './model.js';
import { AdamW } from './optimizer.js';
import { type NamedTensor, readSafetensors, writeSafetensors } from './safetensors.js';
import type { TrainOptions } from './train.js';

/** Written into the safetensors metadata of every file this package saves. */
export const CHECKPOINT_FORMAT = 'embedlab-mini-gpt/1';

/** What a resumed run needs besides the weights: where it was and how it was set up. */
export interface TrainingState {
  step: number;
  options: Omit<TrainOptions, 'optimizer' | 'startStep'>;
}

/** The files of a checkpoint directory, as bytes (the same in Node and in a browser). */
export interface CheckpointFiles {
  'model.safetensors': Uint8Array;
  'tokenizer.json': string;
  'optimizer.safetensors'?: Uint8Array;
}

export interface Checkpoint {
  model: MiniGPT;
  tokenizer: Tokenizer;
  /** Steps trained (0 for a model saved before training). */
  step: number;
  optimizer?: AdamW;
  training?: TrainingState;
}

function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

/** A parameter as PyTorch (nanoGPT) holds it: Linear weights `[out, in]`. */
function toTorchLayout(name: string, variable: Variable): NamedTensor {
  const data = variable.dataSync() as Float32Array;
  if (!isLinearWeight(name)) return { shape: [...variable.shape], data };
  const [rows, cols] = variable.shape as [number, number];
  return { shape: [cols, rows], data: transpose(data, rows, cols) };
}

/** The model's weights in nanoGPT's state_dict names and layouts, its config in the metadata. */
export function modelToSafetensors(model: MiniGPT, step = 0): Uint8Array {
  const tensors = new Map<string, NamedTensor>();
  for (const [name, variable] of model.stateDict()) tensors.set(name, toTorchLayout(name, variable));
  return writeSafetensors(tensors, { format: CHECKPOINT_FORMAT, config: JSON.stringify(model.config), step: String(step) });
}

// Buffers PyTorch GPTs keep in their state_dict that are not parameters (causal masks).
const IGNORED = /\.attn\.(bias|masked_bias)$/;

/** Fills a fresh model from tensors named `name(i)` for each of its parameters; `layout` says where Linear weights are `[out, in]`. */
function assignWeights(model: MiniGPT, tensors: Map<string, NamedTensor>, source: string, nameOf: (name: string) => string, linearIsOutIn: boolean): void {
  const missing: string[] = [];
  for (const [name, variable] of model.stateDict()) {
    let tensor = tensors.get(nameOf(name));
    // A tied model saved through safetensors' de-duplication may keep the shared matrix under lm_head.
    if (!tensor && name === 'transformer.wte.weight' && model.config.tieWeights) tensor = tensors.get(nameOf('lm_head.weight'));
    if (!tensor) {
      missing.push(nameOf(name));
      continue;
    }
    const transposed = isLinearWeight(name) && linearIsOutIn;
    const expected = transposed ? [variable.shape[1], variable.shape[0]] : variable.shape;
    if (tensor.shape.join() !== expected.join()) throw new Error(`${source}: ${nameOf(name)} has shape [${tensor.shape}], but this model needs [${expected}]`);
    const data = transposed ? transpose(tensor.data, tensor.shape[0]!, tensor.shape[1]!) : tensor.data;
    tf.tidy(() => variable.assign(tf.tensor(data, variable.shape)));
  }
  if (missing.length > 0) throw new Error(`${source}: missing ${missing.length} tensor(s): ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`);
  const known = new Set([...model.stateDict().keys()].map(nameOf));
  if (model.config.tieWeights) known.add(nameOf('lm_head.weight'));
  const unexpected = [...tensors.keys()].filter((name) => !known.has(name) && !IGNORED.test(name));
  if (unexpected.length > 0) throw new Error(`${source}: unexpected tensor(s) ${unexpected.slice(0, 5).join(', ')} (not a GPT of this config?)`);
}

/**
 * A model from nanoGPT-named safetensors. The config comes from the file's metadata (files this
 * package or its PyTorch export wrote) or from `config` (the head count cannot be read off shapes).
 */
export function modelFromSafetensors(bytes: Uint8Array, options: { config?: GPTConfig; source?: string } = {}): { model: MiniGPT; step: number } {
  const source = options.source ?? 'model.safetensors';
  const { tensors, metadata } = readSafetensors(bytes, source);
  let config = options.config;
  if (!config) {
    if (metadata.format !== CHECKPOINT_FORMAT || !metadata.config) {
      throw new Error(`${source}: no ${CHECKPOINT_FORMAT} config in its metadata; pass the model config (the number of heads cannot be inferred from the shapes)`);
    }
    try {
      config = JSON.parse(metadata.config) as GPTConfig;
    } catch {
      throw new Error(`${source}: its config metadata is not JSON`);
    }
  }
  const model = new MiniGPT(validateConfig(config));
  try {
    assignWeights(model, tensors, source, (name) => name, true);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return { model, step: Number(metadata.step ?? 0) };
}

/** AdamW's moments (`<param>.exp_avg`, `<param>.exp_avg_sq`, in the model's layout) and the run's state. */
export function optimizerToSafetensors(optimizer: AdamW, model: MiniGPT, training: TrainingState): Uint8Array {
  const names = new Map([...model.stateDict()].map(([name, variable]) => [variable, name] as [Variable, string]));
  const tensors = new Map<string, NamedTensor>();
  for (const [name, tensor] of optimizer.state(names)) tensors.set(name, { shape: [...tensor.shape], data: tensor.dataSync() as Float32Array });
  const { beta1, beta2, epsilon, weightDecay } = optimizer;
  return writeSafetensors(tensors, {
    format: CHECKPOINT_FORMAT,
    step: String(training.step),
    optimizerStep: String(optimizer.step),
    adamw: JSON.stringify({ beta1, beta2, epsilon, weightDecay }),
    training: JSON.stringify(training.options),
  });
}

/** Restores the optimizer of `optimizerToSafetensors` for `model`, with the run's state. */
export function optimizerFromSafetensors(bytes: Uint8Array, model: MiniGPT, source = 'optimizer.safetensors'): { optimizer: AdamW; training: TrainingState } {
  const { tensors, metadata } = readSafetensors(bytes, source);
  if (metadata.format !== CHECKPOINT_FORMAT) throw new Error(`${source}: not an ${CHECKPOINT_FORMAT} optimizer state`);
  const optimizer = new AdamW(JSON.parse(metadata.adamw ?? '{}'));
  const names = new Map([...model.stateDict()].map(([name, variable]) => [variable, name] as [Variable, string]));
  const loaded = new Map([...tensors].map(([name, t]) => [name, tf.tensor(t.data, t.shape)] as [string, tf.Tensor]));
  try {
    optimizer.loadState(Number(metadata.optimizerStep), loaded, names);
  } catch (error) {
    optimizer.dispose();
    throw new Error(`${source}: ${(error as Error).message}`);
  } finally {
    tf.dispose([...loaded.values()]);
  }
  return { optimizer, training: { step: Number(metadata.step), options: JSON.parse(metadata.training ?? '{}') } };
}

/** The bytes of a checkpoint directory. */
export function checkpointToFiles(model: MiniGPT, tokenizer: Tokenizer, state: { step?: number; optimizer?: AdamW; training?: TrainingState } = {}): CheckpointFiles {
  checkTokenizer(model, tokenizer, 'tokenizer');
  const step = state.training?.step ?? state.step ?? 0;
  const files: CheckpointFiles = { 'model.safetensors': modelToSafetensors(model, step), 'tokenizer.json': JSON.stringify(tokenizer.toJSON()) };
  if (state.optimizer && state.training) files['optimizer.safetensors'] = optimizerToSafetensors(state.optimizer, model, state.training);
  return files;
}

function checkTokenizer(model: MiniGPT, tokenizer: Tokenizer, source: string): void {
  // nanoGPT pads GPT-2's 50,257 tokens to 50,304 rows, so a smaller tokenizer is fine.
  if (tokenizer.vocabSize > model.config.vocabSize) {
    throw new Error(`${source}: the tokenizer has ${tokenizer.vocabSize} tokens but the model only ${model.config.vocabSize}; they do not belong together`);
  }
}

/** Restores a checkpoint from its files, checking that the parts belong together. */
export function checkpointFromFiles(files: CheckpointFiles): Checkpoint {
  const { model, step } = modelFromSafetensors(files['model.safetensors']);
  try {
    const tokenizer = tokenizerFromJSON(files['tokenizer.json']);
    checkTokenizer(model, tokenizer, 'tokenizer.json');
    if (!files['optimizer.safetensors']) return { model, tokenizer, step };
    const { optimizer, training } = optimizerFromSafetensors(files['optimizer.safetensors'], model);
    if (training.step !== step) {
      optimizer.dispose();
      throw new Error(`optimizer.safetensors is from step ${training.step} but model.safetensors from step ${step}; they are from different saves`);
    }
    return { model, tokenizer, step, optimizer, training };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/** The fields of a Hugging Face GPT-2 `config.json` that the loader reads. */
export interface HuggingFaceGPT2Config {
  vocab_size: number;
  n_positions: number;
  n_embd: number;
  n_layer: number;
  n_head: number;
  activation_function?: string;
  layer_norm_epsilon?: number;
  tie_word_embeddings?: boolean;
}

/**
 * Loads a Hugging Face GPT-2 checkpoint (`model.safetensors` + `config.json` of `gpt2` and its
 * kin): names `wte`, `wpe`, `h.{i}.attn.c_attn`, ... (optionally under `transformer.`), whose
 * `Conv1D` weights are `[in, out]`, already this package's layout.
 */
export function loadHuggingFaceGPT2(safetensors: Uint8Array, configJson: string | HuggingFaceGPT2Config): MiniGPT {
  const hf = (typeof configJson === 'string' ? JSON.parse(configJson) : configJson) as HuggingFaceGPT2Config;
  for (const field of ['vocab_size', 'n_positions', 'n_embd', 'n_layer', 'n_head'] as const) {
    if (!Number.isInteger(hf[field])) throw new Error(`config.json: ${field} must be an integer, got ${JSON.stringify(hf[field])}`);
  }
  const activation = hf.activation_function ?? 'gelu_new';
  if (activation !== 'gelu_new' && activation !== 'gelu') throw new Error(`config.json: activation_function ${JSON.stringify(activation)} is not supported (gelu_new or gelu)`);
  const config: GPTConfig = {
    vocabSize: hf.vocab_size,
    blockSize: hf.n_positions,
    nLayer: hf.n_layer,
    nHead: hf.n_head,
    nEmbd: hf.n_embd,
    dropout: 0,
    bias: true,
    position: 'learned',
    tieWeights: hf.tie_word_embeddings ?? true,
    gelu: activation === 'gelu_new' ? 'tanh' : 'exact',
  };
  const { tensors } = readSafetensors(safetensors, 'model.safetensors');
  const prefix = tensors.has('transformer.wte.weight') ? 'transformer.' : '';
  const model = new MiniGPT(config);
  try {
    assignWeights(model, tensors, 'model.safetensors (Hugging Face GPT-2)', (name) => (name === 'lm_head.weight' ? name : prefix + name.replace(/^transformer\./, '')), false);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}
