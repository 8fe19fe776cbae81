import { tf, type Variable } from '@embedlab/runtime';
import { type Tokenizer, tokenizerFromJSON } from '@embedlab/tokenizer';
import { bytesToHex } from '@noble/hashes/utils.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { type GPTConfig, validateConfig } from './config.js';
import { isLinearWeight, LAYER_NORM_EPSILON, MLP_RATIO, parameterTensorCount } from './architecture.js';
import { MiniGPT, parameterShapes } from './model.js';
import { AdamW, type AdamWOptions } from './optimizer.js';
import { type NamedTensor, readSafetensors, writeSafetensors } from './safetensors.js';
import type { TrainOptions } from './train.js';

/** Written into the safetensors metadata of every file this package saves. */
export const CHECKPOINT_FORMAT = 'embedlab-mini-gpt/1';

/**
 * Where a run's text (or tokens: a `minigpt prepare` directory) came from, so that resuming it
 * reads the same. `sha256` is the text's fingerprint when the run started (checkpoints before it
 * have none): a resumed run refuses a text that changed, whose validation split would move.
 */
export type DataSource =
  | { kind: 'builtin'; name: string; sha256?: string }
  | { kind: 'file'; path: string; sha256?: string }
  | { kind: 'tokens'; path: string };

/** The largest tokenizer file read whole (GPT-2's tokenizer.json is 1.4 MB): a bigger one is refused, not parsed. */
export const MAX_TOKENIZER_BYTES = 64 * 2 ** 20;

/** What a resumed run needs besides the weights: where it was, how it was set up, what it read. */
export interface TrainingState {
  step: number;
  options: Omit<TrainOptions, 'optimizer' | 'startStep'>;
  data?: DataSource;
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
export function modelToSafetensors(model: MiniGPT, step = 0, metadata: Record<string, string> = {}): Uint8Array {
  const tensors = new Map<string, NamedTensor>();
  for (const [name, variable] of model.stateDict()) tensors.set(name, toTorchLayout(name, variable));
  return writeSafetensors(tensors, { ...metadata, format: CHECKPOINT_FORMAT, config: JSON.stringify(model.config), step: String(step) });
}

// Buffers PyTorch GPTs keep in their state_dict that are not parameters (causal masks).
const IGNORED = /\.attn\.(bias|masked_bias)$/;

const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

/**
 * Checks a file's tensors against what `config` needs — count first (by formula, so a config
 * claiming a million layers is refused without listing them), then every name, shape and dtype —
 * before any model is allocated. Returns the file's tensor for each parameter name.
 */
function matchTensors(
  config: GPTConfig,
  tensors: Map<string, NamedTensor>,
  source: string,
  nameOf: (name: string) => string,
  linearIsOutIn: boolean,
): Map<string, NamedTensor> {
  const ignored = [...tensors.keys()].filter((name) => IGNORED.test(name)).length;
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
function buildModel(config: GPTConfig, matched: Map<string, NamedTensor>, linearIsOutIn: boolean): MiniGPT {
  const model = new MiniGPT(config);
  for (const [name, variable] of model.stateDict()) {
    const tensor = matched.get(name)!;
    const data = isLinearWeight(name) && linearIsOutIn ? transpose(tensor.data, tensor.shape[0]!, tensor.shape[1]!) : tensor.data;
    tf.tidy(() => variable.assign(tf.tensor(data, variable.shape)));
  }
  return model;
}

function parseJsonField<T>(source: string, field: string, text: string | undefined, check: (value: unknown) => value is T, expected: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text ?? 'undefined');
  } catch {
    throw new Error(`${source}: metadata ${field} is not JSON: ${JSON.stringify(text?.slice(0, 60))}`);
  }
  if (!check(value)) throw new Error(`${source}: metadata ${field} must be ${expected}, got ${JSON.stringify(value)?.slice(0, 80)}`);
  return value;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function stepField(source: string, field: string, text: string | undefined): number {
  const step = Number(text ?? 0);
  if (!Number.isSafeInteger(step) || step < 0) throw new Error(`${source}: metadata ${field} must be a non-negative integer, got ${JSON.stringify(text)}`);
  return step;
}

/** SHA-256 of a file's contents, in hex: ties the files of one save together. */
export function fingerprint(contents: Uint8Array | string): string {
  return bytesToHex(sha256(typeof contents === 'string' ? new TextEncoder().encode(contents) : contents));
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
      throw new Error(
        `${source}: no ${CHECKPOINT_FORMAT} config in its metadata; pass the model config (the number of heads cannot be inferred from the shapes)`,
      );
    }
    config = parseJsonField(source, 'config', metadata.config, isRecord, 'a JSON object') as unknown as GPTConfig;
  }
  try {
    validateConfig(config);
  } catch (error) {
    throw new Error(`${source}: ${(error as Error).message}`);
  }
  const step = stepField(source, 'step', metadata.step);
  const matched = matchTensors(config, tensors, source, (name) => name, true);
  const known = new Set([...parameterShapes(config).keys(), ...(config.tieWeights ? ['lm_head.weight'] : [])]);
  const unexpected = [...tensors.keys()].filter((name) => !known.has(name) && !IGNORED.test(name));
  if (unexpected.length > 0) throw new Error(`${source}: unexpected tensor(s) ${unexpected.slice(0, 5).join(', ')} (not a GPT of this config?)`);
  return { model: buildModel(config, matched, true), step };
}

/** AdamW's moments (`<param>.exp_avg`, `<param>.exp_avg_sq`, in the model's layout) and the run's state. */
export function optimizerToSafetensors(optimizer: AdamW, model: MiniGPT, training: TrainingState, metadata: Record<string, string> = {}): Uint8Array {
  const names = new Map([...model.stateDict()].map(([name, variable]) => [variable, name] as [Variable, string]));
  const tensors = new Map<string, NamedTensor>();
  for (const [name, tensor] of optimizer.state(names)) tensors.set(name, { shape: [...tensor.shape], data: tensor.dataSync() as Float32Array });
  const { beta1, beta2, epsilon, weightDecay } = optimizer;
  return writeSafetensors(tensors, {
    ...metadata,
    format: CHECKPOINT_FORMAT,
    step: String(training.step),
    optimizerStep: String(optimizer.step),
    adamw: JSON.stringify({ beta1, beta2, epsilon, weightDecay }),
    training: JSON.stringify(training.options),
    ...(training.data ? { data: JSON.stringify(training.data) } : {}),
  });
}

const isDataSource = (value: unknown): value is DataSource =>
  isRecord(value) &&
  ((value.kind === 'builtin' && typeof value.name === 'string') || ((value.kind === 'file' || value.kind === 'tokens') && typeof value.path === 'string')) &&
  (value.sha256 === undefined || (value.kind !== 'tokens' && typeof value.sha256 === 'string' && /^[0-9a-f]{64}$/.test(value.sha256)));

/** Restores the optimizer of `optimizerToSafetensors` for `model`, with the run's state. */
export function optimizerFromSafetensors(bytes: Uint8Array, model: MiniGPT, source = 'optimizer.safetensors'): { optimizer: AdamW; training: TrainingState } {
  const { tensors, metadata } = readSafetensors(bytes, source);
  if (metadata.format !== CHECKPOINT_FORMAT) throw new Error(`${source}: not an ${CHECKPOINT_FORMAT} optimizer state`);
  const hyperparameters = parseJsonField(source, 'adamw', metadata.adamw ?? '{}', isRecord, 'a JSON object { beta1, beta2, epsilon, weightDecay }');
  const options = parseJsonField(
    source,
    'training',
    metadata.training ?? '{}',
    isRecord,
    'a JSON object of training options',
  ) as unknown as TrainingState['options'];
  const data =
    metadata.data === undefined
      ? undefined
      : parseJsonField(
          source,
          'data',
          metadata.data,
          isDataSource,
          "{ kind: 'builtin', name, sha256? }, { kind: 'file', path, sha256? } or { kind: 'tokens', path }",
        );
  const step = stepField(source, 'step', metadata.step);
  const optimizerStep = stepField(source, 'optimizerStep', metadata.optimizerStep);
  const names = new Map([...model.stateDict()].map(([name, variable]) => [variable, name] as [Variable, string]));
  const expected = new Set([...names.values()].flatMap((name) => [`${name}.exp_avg`, `${name}.exp_avg_sq`]));
  const unexpected = [...tensors.keys()].filter((name) => !expected.has(name));
  if (unexpected.length > 0) throw new Error(`${source}: unexpected tensor(s) ${unexpected.slice(0, 5).join(', ')} (the optimizer state of another model?)`);
  let optimizer: AdamW;
  try {
    optimizer = new AdamW(hyperparameters as AdamWOptions);
  } catch (error) {
    throw new Error(`${source}: metadata adamw: ${(error as Error).message}`);
  }
  // Shapes are checked against the model before any tensor is made.
  for (const [variable, name] of names) {
    for (const label of ['exp_avg', 'exp_avg_sq']) {
      const tensor = tensors.get(`${name}.${label}`);
      if (tensor && tensor.shape.join() !== variable.shape.join()) {
        optimizer.dispose();
        throw new Error(`${source}: ${name}.${label} has shape [${tensor.shape}], but the parameter is [${variable.shape}]`);
      }
    }
  }
  const loaded = new Map([...tensors].map(([name, t]) => [name, tf.tensor(t.data, t.shape)] as [string, tf.Tensor]));
  try {
    optimizer.loadState(optimizerStep, loaded, names);
  } catch (error) {
    optimizer.dispose();
    throw new Error(`${source}: ${(error as Error).message}`);
  } finally {
    tf.dispose([...loaded.values()]);
  }
  return { optimizer, training: { step, options, ...(data ? { data } : {}) } };
}

/**
 * The bytes of a checkpoint directory. The files name each other: the model's metadata holds the
 * tokenizer's SHA-256 and the optimizer's holds the model's, so files of different saves or runs
 * are never loaded together.
 */
export function checkpointToFiles(
  model: MiniGPT,
  tokenizer: Tokenizer,
  state: { step?: number; optimizer?: AdamW; training?: TrainingState } = {},
): CheckpointFiles {
  checkTokenizer(model, tokenizer, 'tokenizer');
  const step = state.training?.step ?? state.step ?? 0;
  const tokenizerJson = JSON.stringify(tokenizer.toJSON());
  const modelBytes = modelToSafetensors(model, step, { tokenizer: fingerprint(tokenizerJson) });
  const files: CheckpointFiles = { 'model.safetensors': modelBytes, 'tokenizer.json': tokenizerJson };
  if (state.optimizer && state.training)
    files['optimizer.safetensors'] = optimizerToSafetensors(state.optimizer, model, state.training, { model: fingerprint(modelBytes) });
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
  // Characters, not bytes (a browser hands a string): more characters than the cap are more bytes too.
  if (files['tokenizer.json'].length > MAX_TOKENIZER_BYTES)
    throw new Error(
      `tokenizer.json has ${files['tokenizer.json'].length} characters, more than the ${MAX_TOKENIZER_BYTES / 2 ** 20} MiB a tokenizer file may have`,
    );
  const modelBytes = files['model.safetensors'];
  const { metadata } = readSafetensors(modelBytes, 'model.safetensors');
  if (metadata.tokenizer !== undefined && metadata.tokenizer !== fingerprint(files['tokenizer.json'])) {
    throw new Error('tokenizer.json does not belong to model.safetensors: the model was saved with another tokenizer (its SHA-256 differs)');
  }
  const optimizerBytes = files['optimizer.safetensors'];
  if (optimizerBytes) {
    const saved = readSafetensors(optimizerBytes, 'optimizer.safetensors').metadata.model;
    if (saved !== undefined && saved !== fingerprint(modelBytes)) {
      throw new Error('optimizer.safetensors does not belong to model.safetensors: it was saved with other weights (another run, or another save of this one)');
    }
  }
  const { model, step } = modelFromSafetensors(modelBytes);
  try {
    const tokenizer = tokenizerFromJSON(files['tokenizer.json']);
    checkTokenizer(model, tokenizer, 'tokenizer.json');
    if (!optimizerBytes) return { model, tokenizer, step };
    const { optimizer, training } = optimizerFromSafetensors(optimizerBytes, model);
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
  /** Only 1e-5 (the model's LayerNorm ε). */
  layer_norm_epsilon?: number;
  /** Only null or 4 × n_embd (the model's MLP width). */
  n_inner?: number | null;
  /** Only true. */
  scale_attn_weights?: boolean;
  /** Only false. */
  scale_attn_by_inverse_layer_idx?: boolean;
  tie_word_embeddings?: boolean;
}

/** Fields the model has no knob for: each value it cannot honour is refused, never ignored. */
function checkFixedFields(hf: Record<string, unknown>): void {
  const nEmbd = hf.n_embd as number;
  const fixed: [field: string, honoured: (value: unknown) => boolean, because: string][] = [
    ['layer_norm_epsilon', (v) => v === undefined || v === LAYER_NORM_EPSILON, `the model uses ${LAYER_NORM_EPSILON.toExponential()}`],
    ['n_inner', (v) => v === undefined || v === null || v === MLP_RATIO * nEmbd, `the model's MLP is ${MLP_RATIO} × n_embd = ${MLP_RATIO * nEmbd} wide`],
    ['scale_attn_weights', (v) => v === undefined || v === true, 'the model always scales attention by 1/√(head size)'],
    ['scale_attn_by_inverse_layer_idx', (v) => v === undefined || v === false, 'the model does not scale attention by layer'],
  ];
  for (const [field, honoured, because] of fixed)
    if (!honoured(hf[field])) throw new Error(`config.json: ${field} ${JSON.stringify(hf[field])} is not supported (${because})`);
}

/**
 * Loads a Hugging Face GPT-2 checkpoint (`model.safetensors` + `config.json` of `gpt2` and its
 * kin): names `wte`, `wpe`, `h.{i}.attn.c_attn`, ... (optionally under `transformer.`), whose
 * `Conv1D` weights are `[in, out]`, already this package's layout. The config is checked against
 * the file's tensors before anything is allocated.
 */
export function loadHuggingFaceGPT2(safetensors: Uint8Array, configJson: string | HuggingFaceGPT2Config): MiniGPT {
  let hf: unknown = configJson;
  if (typeof configJson === 'string') {
    try {
      hf = JSON.parse(configJson);
    } catch {
      throw new Error('config.json: not JSON');
    }
  }
  if (!isRecord(hf)) throw new Error(`config.json: must be a JSON object, got ${JSON.stringify(hf)?.slice(0, 40)}`);
  for (const field of ['vocab_size', 'n_positions', 'n_embd', 'n_layer', 'n_head'] as const) {
    if (!Number.isSafeInteger(hf[field]) || (hf[field] as number) < 1)
      throw new Error(`config.json: ${field} must be a positive integer, got ${JSON.stringify(hf[field])}`);
  }
  checkFixedFields(hf);
  const activation = hf.activation_function ?? 'gelu_new';
  if (activation !== 'gelu_new' && activation !== 'gelu')
    throw new Error(`config.json: activation_function ${JSON.stringify(activation)} is not supported (gelu_new or gelu)`);
  const tie = hf.tie_word_embeddings ?? true;
  if (typeof tie !== 'boolean') throw new Error(`config.json: tie_word_embeddings must be true or false, got ${JSON.stringify(tie)}`);
  const config: GPTConfig = {
    vocabSize: hf.vocab_size as number,
    blockSize: hf.n_positions as number,
    nLayer: hf.n_layer as number,
    nHead: hf.n_head as number,
    nEmbd: hf.n_embd as number,
    dropout: 0,
    bias: true,
    position: 'learned',
    tieWeights: tie,
    gelu: activation === 'gelu_new' ? 'tanh' : 'exact',
  };
  try {
    validateConfig(config);
  } catch (error) {
    throw new Error(`config.json: ${(error as Error).message}`);
  }
  const { tensors } = readSafetensors(safetensors, 'model.safetensors');
  const prefix = tensors.has('transformer.wte.weight') ? 'transformer.' : '';
  const nameOf = (name: string) => (name === 'lm_head.weight' ? name : prefix + name.replace(/^transformer\./, ''));
  const matched = matchTensors(config, tensors, 'model.safetensors (Hugging Face GPT-2)', nameOf, false);
  return buildModel(config, matched, false);
}
