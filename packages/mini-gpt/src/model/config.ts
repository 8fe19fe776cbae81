import { type RopeLayout, type RopeScaling, RotaryEmbedding } from '@embedlab/positional-encodings';
import * as v from 'valibot';
import { boolean, field, fieldIssue, oneOf, parseWith, positiveInteger } from '../schema.js';
import { parameterCount } from './architecture.js';

/** Where positions enter the model; every front end lists these. */
export const POSITION_KINDS = ['learned', 'sinusoidal', 'rope', 'alibi', 'none'] as const;
export type PositionKind = (typeof POSITION_KINDS)[number];

const ropeSchema = v.strictObject({
  base: v.optional(field<number>((x) => typeof x === 'number' && Number.isFinite(x) && x > 1, 'a number > 1')),
  layout: v.optional(oneOf<RopeLayout>(['half', 'interleaved'])),
  scaling: v.optional(field<RopeScaling>((x) => typeof x === 'object' && x !== null, 'a RoPE scaling { type, factor, ... }')),
  rotaryDim: v.optional(positiveInteger),
});

/**
 * A GPT's shape, nanoGPT's `GPTConfig` plus the choices this project compares: the one
 * definition of each field's type, default and range. The five sizes are required; every other
 * field has nanoGPT's default (GPT-2's tanh GELU, tied head, learned positions, biases, no dropout).
 */
export const GPTConfigSchema = v.pipe(
  v.strictObject({
    vocabSize: positiveInteger,
    // Context length: the longest sequence trained on.
    blockSize: positiveInteger,
    nLayer: positiveInteger,
    nHead: positiveInteger,
    nEmbd: positiveInteger,
    // Dropout rate for embeddings, attention weights and residual branches.
    dropout: v.optional(
      field<number>((x) => typeof x === 'number' && x >= 0 && x < 1, 'a number in [0, 1)'),
      0,
    ),
    // Biases in Linear layers and LayerNorms (nanoGPT's `bias`).
    bias: v.optional(boolean, true),
    position: v.optional(oneOf(POSITION_KINDS), 'learned'),
    rope: v.optional(ropeSchema),
    // Share the token embedding with the output head (GPT-2).
    tieWeights: v.optional(boolean, true),
    // GELU: `'exact'` (erf; PyTorch's default) or `'tanh'` (GPT-2's approximation).
    gelu: v.optional(oneOf(['exact', 'tanh']), 'tanh'),
    // Multiply token embeddings by √nEmbd (`'sqrt-dim'`) or a number. Default none.
    embeddingScale: v.optional(
      field<'none' | 'sqrt-dim' | number>(
        (x) => x === 'none' || x === 'sqrt-dim' || (typeof x === 'number' && Number.isFinite(x) && x !== 0),
        "'none', 'sqrt-dim' or a finite non-zero number",
      ),
    ),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const config = dataset.value;
    const fields = config as unknown as Record<string, unknown>;
    if (config.nEmbd % config.nHead !== 0) {
      fieldIssue(addIssue, fields, 'nEmbd', `a multiple of nHead (${config.nHead})`);
      return fieldIssue(addIssue, fields, 'nHead', `a divisor of nEmbd (${config.nEmbd})`);
    }
    if (config.position !== 'rope') return;
    const headDim = config.nEmbd / config.nHead;
    if (headDim % 2 !== 0) {
      fieldIssue(addIssue, fields, 'nEmbd', `nHead × an even head size for RoPE (dimensions rotate in pairs; nEmbd / nHead is ${headDim})`);
      return fieldIssue(addIssue, fields, 'nHead', `a divisor of nEmbd with an even quotient for RoPE`);
    }
    const rotaryDim = config.rope?.rotaryDim;
    if (rotaryDim !== undefined && !(rotaryDim % 2 === 0 && rotaryDim >= 2 && rotaryDim <= headDim))
      return fieldIssue(addIssue, fields, ['rope', 'rotaryDim'], `an even integer in [2, headDim = ${headDim}]`);
    // The scaling's own rules (its type's fields) are the encoding's: it is built here, at the
    // boundary, not when the model is (constructing it allocates nothing).
    try {
      rotaryEmbeddingOf(config);
    } catch (error) {
      fieldIssue(addIssue, fields, ['rope', 'scaling'], `a scaling RoPE accepts (${(error as Error).message.replace(/^RotaryEmbedding: /, '')})`);
    }
  }),
);

/** The config as given to `createModel` (fields with defaults may be left out). */
export type GPTConfigInput = v.InferInput<typeof GPTConfigSchema>;
/** A complete config: every field with a default filled in. */
export type GPTConfig = v.InferOutput<typeof GPTConfigSchema>;

/** The RoPE a config describes (its constructor allocates nothing: cos and sin are made when first used). */
export function rotaryEmbeddingOf(config: Pick<GPTConfig, 'nEmbd' | 'nHead' | 'rope'>): RotaryEmbedding {
  const { base, layout, scaling, rotaryDim } = config.rope ?? {};
  return new RotaryEmbedding({
    headDim: config.nEmbd / config.nHead,
    ...(base === undefined ? {} : { base }),
    ...(layout ? { layout } : {}),
    ...(scaling ? { scaling } : {}),
    ...(rotaryDim === undefined ? {} : { rotaryDim }),
  });
}

/** Checks every field once, at the boundary, and fills in the defaults; errors name the field, the value and what is allowed. */
export function validateConfig(input: GPTConfigInput): GPTConfig {
  return parseWith(GPTConfigSchema, input, 'GPT config');
}

/** The fields every preset shares: the schema's defaults. */
const BASE = v.getDefaults(GPTConfigSchema.pipe[0]) as Pick<GPTConfig, 'dropout' | 'bias' | 'position' | 'tieWeights' | 'gelu'>;

export interface Preset {
  description: string;
  /** The model shape, less the vocabulary (which comes from the tokenizer). */
  model: Omit<GPTConfig, 'vocabSize'>;
  /** The recipe: the floor of the decay is a tenth of `learningRate`, as in nanoGPT. */
  training: { batchSize: number; learningRate: number; warmupSteps: number; steps: number; weightDecay: number; evalInterval: number };
}

/** Named shapes: the benchmark's `baby`, a makemore-style `names` model, and GPT-2 small. */
export const PRESETS: Record<'names' | 'baby' | 'gpt2-small', Preset> = {
  names: {
    description: 'a character model of first names, microgpt/makemore style (block 16, 2 layers, 4 heads, 64 dims)',
    model: { ...BASE, blockSize: 16, nLayer: 2, nHead: 4, nEmbd: 64 },
    training: { batchSize: 32, learningRate: 3e-3, warmupSteps: 20, steps: 1000, weightDecay: 0.01, evalInterval: 200 },
  },
  baby: {
    description: "nanoGPT's baby Shakespeare shape, scaled to a laptop (block 64, 4 layers, 4 heads, 128 dims, batch 16): the benchmark configuration",
    model: { ...BASE, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128, dropout: 0.1 },
    training: { batchSize: 16, learningRate: 1e-3, warmupSteps: 100, steps: 2000, weightDecay: 0.1, evalInterval: 250 },
  },
  'gpt2-small': {
    description: 'GPT-2 124M (block 1024, 12 layers, 12 heads, 768 dims, vocabulary 50257): for inspection and loading, not for training here',
    model: { ...BASE, blockSize: 1024, nLayer: 12, nHead: 12, nEmbd: 768 },
    training: { batchSize: 8, learningRate: 6e-4, warmupSteps: 2000, steps: 600000, weightDecay: 0.1, evalInterval: 2000 },
  },
};

export type PresetName = keyof typeof PRESETS;

/** Parameters a config gives, from the architecture table (no tensors allocated): GPT-2 small is 124,439,808. */
export function countParameters(config: GPTConfigInput): number {
  return parameterCount(validateConfig(config));
}
