// A model as a Hugging Face GPT-2 directory (GPT2LMHeadModel): the names are nanoGPT's, which
// Hugging Face shares, and Conv1D keeps weights `[in, out]`, this package's own layout, so the
// tensors go out as they are. What GPT-2 cannot hold is refused; what it holds only as a value
// (sinusoidal or no positions, no biases) is exported as that value, with a note in config.json.
import { tf } from '@embedlab/runtime';
import { INIT_STD, LAYER_NORM_EPSILON, parameterSpecs } from '../model/architecture.js';
import { CHECKPOINT_FORMAT } from './checkpoint.js';
import type { MiniGPT } from '../model/model.js';
import { type NamedTensor, writeSafetensors } from './safetensors.js';

/** The files of a Hugging Face GPT-2 directory, but the tokenizer's. */
export interface HuggingFaceFiles {
  'model.safetensors': Uint8Array;
  'config.json': string;
}

export interface HuggingFaceExport {
  files: HuggingFaceFiles;
  /** What a reader should know: how a position encoding or missing biases were represented. */
  notes: string[];
}

export interface HuggingFaceExportOptions {
  /** Ids written as `bos_token_id` / `eos_token_id` (GPT-2's `<|endoftext|>`), when the tokenizer has one. */
  endOfTextId?: number;
}

/** Why a config cannot become GPT-2 (undefined when it can). */
function refusal(model: MiniGPT): string | undefined {
  const { position, embeddingScale, tieWeights } = model.config;
  if (position === 'rope' || position === 'alibi')
    return `${position} positions act inside attention, which GPT-2 does not have (it adds a wpe table to the input); keep this model in this package's format, or continue it in PyTorch with integration/python (nanoGPT names)`;
  if (tieWeights && model.embedding.scale !== 1)
    return `embeddingScale ${JSON.stringify(embeddingScale)} multiplies the token embeddings, which GPT-2 does not; it cannot be folded into wte without changing the tied output head`;
  return undefined;
}

/**
 * The model as a Hugging Face GPT-2 checkpoint (`model.safetensors` in Conv1D layout and
 * `config.json`) that `transformers`' GPT2LMHeadModel and `loadHuggingFaceGPT2` read, giving the
 * same logits for contexts up to `blockSize`. Learned positions, biases and a tied head go as
 * they are; an untied head as `lm_head.weight` with `tie_word_embeddings: false`; sinusoidal
 * positions as their values in wpe, no positions as a zero wpe, no biases as zero biases (noted:
 * training the export in PyTorch will change them), an untied model's embedding scale folded into
 * wte. RoPE, ALiBi and a tied model's embedding scale are refused with the reason.
 */
export function modelToHuggingFace(model: MiniGPT, options: HuggingFaceExportOptions = {}): HuggingFaceExport {
  const reason = refusal(model);
  if (reason) throw new Error(`cannot export as Hugging Face GPT-2: ${reason}`);
  const { config } = model;
  const notes: string[] = [];
  const tensors = new Map<string, NamedTensor>();
  const add = (name: string, shape: number[], data: Float32Array) => tensors.set(name, { shape, data });
  const { scale } = model.embedding;
  // GPT-2 has a bias beside every LayerNorm and Linear weight: a bias-free model's go out as zeros, which compute what none did.
  const zeroBiases = config.bias ? [] : parameterSpecs({ ...config, bias: true }).filter((spec) => spec.bias);
  for (const [name, variable] of model.stateDict()) {
    const data = variable.dataSync() as Float32Array;
    // An untied model's embedding scale folds into wte: float32 products, as the model computes them.
    if (name === 'transformer.wte.weight' && scale !== 1) {
      const scaled = Math.fround(scale);
      add(
        name,
        [...variable.shape],
        data.map((value) => value * scaled),
      );
    } else add(name, [...variable.shape], data);
  }
  for (const { name, shape } of zeroBiases) add(name, shape, new Float32Array(shape[0]!));
  if (!config.bias) notes.push('the model has no biases: they are exported as zeros, which training in PyTorch will change');
  const positions = model.positional;
  if (config.position === 'sinusoidal' && positions?.kind === 'additive') {
    // The model's own table, so the export adds the very floats the model adds.
    const table = tf.tidy(() => positions.apply(config.blockSize).dataSync() as Float32Array);
    add('transformer.wpe.weight', [config.blockSize, config.nEmbd], table);
    notes.push(
      `sinusoidal positions are exported as their values for positions 0..${config.blockSize - 1} in wpe: the export reads no further than n_positions, and training it in PyTorch makes them learned`,
    );
  } else if (config.position === 'none') {
    add('transformer.wpe.weight', [config.blockSize, config.nEmbd], new Float32Array(config.blockSize * config.nEmbd));
    notes.push(`the model has no position encoding: wpe is zeros, for positions 0..${config.blockSize - 1}; training it in PyTorch makes them learned`);
  }
  if (!config.tieWeights) notes.push('the output head is not tied to wte: it is lm_head.weight, with tie_word_embeddings false');
  if (scale !== 1) notes.push(`the embedding scale ${scale} is folded into wte (wte holds the scaled rows the model looks up)`);
  const { endOfTextId } = options;
  const hfConfig = {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: config.vocabSize,
    n_positions: config.blockSize,
    n_ctx: config.blockSize,
    n_embd: config.nEmbd,
    n_layer: config.nLayer,
    n_head: config.nHead,
    n_inner: null,
    activation_function: config.gelu === 'tanh' ? 'gelu_new' : 'gelu',
    layer_norm_epsilon: LAYER_NORM_EPSILON,
    resid_pdrop: config.dropout,
    embd_pdrop: config.dropout,
    attn_pdrop: config.dropout,
    initializer_range: INIT_STD,
    scale_attn_weights: true,
    tie_word_embeddings: config.tieWeights,
    torch_dtype: 'float32',
    ...(endOfTextId === undefined ? {} : { bos_token_id: endOfTextId, eos_token_id: endOfTextId }),
    // Kept by transformers as an attribute and ignored: where the export came from and what changed.
    embedlab: { format: CHECKPOINT_FORMAT, config, notes },
  };
  return {
    files: { 'model.safetensors': writeSafetensors(tensors, { format: 'pt' }), 'config.json': `${JSON.stringify(hfConfig, null, 2)}\n` },
    notes,
  };
}
