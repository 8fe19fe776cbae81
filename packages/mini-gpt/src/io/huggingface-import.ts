// Hugging Face GPT-2 files (GPT2LMHeadModel's model.safetensors and config.json) read into a
// model: the config checked field by field, then the file's tensors against it, before anything
// is allocated.
import { validateConfig, type GPTConfig } from '../model/config.js';
import { LAYER_NORM_EPSILON, MLP_RATIO } from '../model/architecture.js';
import type { MiniGPT } from '../model/model.js';
import { isRecord } from '../schema.js';
import { readSafetensors } from './safetensors.js';
import { buildModel, matchTensors } from './weights.js';

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

/** The GPTConfig a Hugging Face GPT-2 config.json describes, checked (no weights read): what a fine-tune is planned from. */
export function huggingFaceConfig(configJson: string | HuggingFaceGPT2Config): GPTConfig {
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
  return config;
}

/**
 * Loads a Hugging Face GPT-2 checkpoint (`model.safetensors` + `config.json` of `gpt2` and its
 * kin): names `wte`, `wpe`, `h.{i}.attn.c_attn`, ... (optionally under `transformer.`), whose
 * `Conv1D` weights are `[in, out]`, already this package's layout. The config is checked against
 * the file's tensors before anything is allocated.
 */
export function loadHuggingFaceGPT2(safetensors: Uint8Array, configJson: string | HuggingFaceGPT2Config): MiniGPT {
  const config = huggingFaceConfig(configJson);
  const { tensors } = readSafetensors(safetensors, 'model.safetensors');
  const prefix = tensors.has('transformer.wte.weight') ? 'transformer.' : '';
  const nameOf = (name: string) => (name === 'lm_head.weight' ? name : prefix + name.replace(/^transformer\./, ''));
  const matched = matchTensors(config, tensors, 'model.safetensors (Hugging Face GPT-2)', nameOf, false);
  return buildModel(config, matched, false);
}
