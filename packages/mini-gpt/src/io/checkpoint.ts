import { tf, type Variable } from '@embedlab/runtime';
import { type Tokenizer, tokenizerFromJSON } from '@embedlab/tokenizer';
import { bytesToHex } from '@noble/hashes/utils.js';
import { sha256 } from '@noble/hashes/sha2.js';
import * as v from 'valibot';
import { type GPTConfig, type GPTConfigInput, validateConfig } from '../model/config.js';
import { field, parseWith, text } from '../schema.js';
import { isLinearWeight } from '../model/architecture.js';
import { type MiniGPT, parameterShapes } from '../model/model.js';
import { AdamW, AdamWOptionsSchema } from '../training/optimizer.js';
import { type NamedTensor, readSafetensors, writeSafetensors } from './safetensors.js';
import { buildModel, TORCH_MASK_BUFFERS, matchTensors, transpose } from './weights.js';
import { type TrainSettings, TrainSettingsSchema } from '../training/train-options.js';
import { trainedNames } from '../training/trained-parameters.js';

/** Written into the safetensors metadata of every file this package saves. */
export const CHECKPOINT_FORMAT = 'embedlab-mini-gpt/1';

/**
 * Where a run's text (or tokens: a `minigpt prepare` directory) came from, so that resuming it
 * reads the same. `sha256` is the text's fingerprint when the run started (checkpoints before it
 * have none): a resumed run refuses a text that changed, whose validation split would move.
 */
const sha256Hex = field<string>((x) => typeof x === 'string' && /^[0-9a-f]{64}$/.test(x), 'a SHA-256 in hex (64 digits)');

export const DataSourceSchema = v.variant('kind', [
  v.strictObject({ kind: v.literal('builtin'), name: text, sha256: v.optional(sha256Hex) }),
  v.strictObject({ kind: v.literal('file'), path: text, sha256: v.optional(sha256Hex) }),
  v.strictObject({ kind: v.literal('tokens'), path: text }),
]);
export type DataSource = v.InferOutput<typeof DataSourceSchema>;

/** The largest tokenizer file read whole (GPT-2's tokenizer.json is 1.4 MB): a bigger one is refused, not parsed. */
export const MAX_TOKENIZER_BYTES = 64 * 2 ** 20;

/** What a resumed run needs besides the weights: where it was, how it was set up, what it read. */
export interface TrainingState {
  step: number;
  options: TrainSettings;
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

/** A metadata field of a safetensors file: JSON that `schema` accepts. */
function jsonField<S extends v.GenericSchema>(source: string, field: string, json: string | undefined, schema: S): v.InferOutput<S> {
  let value: unknown;
  try {
    value = JSON.parse(json ?? 'undefined');
  } catch {
    throw new Error(`${source}: metadata ${field} is not JSON: ${JSON.stringify(json?.slice(0, 60))}`);
  }
  return parseWith(schema, value, `${source}: metadata ${field}`);
}

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
export function modelFromSafetensors(bytes: Uint8Array, options: { config?: GPTConfigInput; source?: string } = {}): { model: MiniGPT; step: number } {
  const source = options.source ?? 'model.safetensors';
  const { tensors, metadata } = readSafetensors(bytes, source);
  let given: unknown = options.config;
  if (given === undefined) {
    if (metadata.format !== CHECKPOINT_FORMAT || !metadata.config) {
      throw new Error(
        `${source}: no ${CHECKPOINT_FORMAT} config in its metadata; pass the model config (the number of heads cannot be inferred from the shapes)`,
      );
    }
    given = jsonField(source, 'config', metadata.config, v.unknown());
  }
  let config: GPTConfig;
  try {
    config = validateConfig(given as GPTConfigInput);
  } catch (error) {
    throw new Error(`${source}: ${(error as Error).message}`);
  }
  const step = stepField(source, 'step', metadata.step);
  const matched = matchTensors(config, tensors, source, (name) => name, true);
  const known = new Set([...parameterShapes(config).keys(), ...(config.tieWeights ? ['lm_head.weight'] : [])]);
  const unexpected = [...tensors.keys()].filter((name) => !known.has(name) && !TORCH_MASK_BUFFERS.test(name));
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

/** Restores the optimizer of `optimizerToSafetensors` for `model`, with the run's state. */
export function optimizerFromSafetensors(bytes: Uint8Array, model: MiniGPT, source = 'optimizer.safetensors'): { optimizer: AdamW; training: TrainingState } {
  const { tensors, metadata } = readSafetensors(bytes, source);
  if (metadata.format !== CHECKPOINT_FORMAT) throw new Error(`${source}: not an ${CHECKPOINT_FORMAT} optimizer state`);
  const hyperparameters = jsonField(source, 'adamw', metadata.adamw ?? '{}', AdamWOptionsSchema);
  const options = jsonField(source, 'training', metadata.training ?? '{}', TrainSettingsSchema);
  const data = metadata.data === undefined ? undefined : jsonField(source, 'data', metadata.data, DataSourceSchema);
  const step = stepField(source, 'step', metadata.step);
  const optimizerStep = stepField(source, 'optimizerStep', metadata.optimizerStep);
  // Moments exist for what the run trains (the rest was frozen: it has none).
  let trained: Set<string>;
  try {
    trained = new Set(trainedNames(model.config, options.train));
  } catch (error) {
    throw new Error(`${source}: training: ${(error as Error).message}`);
  }
  const names = new Map([...model.stateDict()].filter(([name]) => trained.has(name)).map(([name, variable]) => [variable, name] as [Variable, string]));
  const expected = new Set([...names.values()].flatMap((name) => [`${name}.exp_avg`, `${name}.exp_avg_sq`]));
  const unexpected = [...tensors.keys()].filter((name) => !expected.has(name));
  if (unexpected.length > 0) throw new Error(`${source}: unexpected tensor(s) ${unexpected.slice(0, 5).join(', ')} (the optimizer state of another model?)`);
  const optimizer = new AdamW(hyperparameters);
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
