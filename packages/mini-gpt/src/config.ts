import { type RopeLayout, type RopeScaling, RotaryEmbedding } from '@embedlab/positional-encodings';

export type PositionKind = 'learned' | 'sinusoidal' | 'rope' | 'alibi' | 'none';

/** A GPT's shape, nanoGPT's `GPTConfig` plus the choices this project compares. */
export interface GPTConfig {
  vocabSize: number;
  /** Context length: the longest sequence trained on. */
  blockSize: number;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  /** Dropout rate for embeddings, attention weights and residual branches. */
  dropout: number;
  /** Biases in Linear layers and LayerNorms (nanoGPT's `bias`). */
  bias: boolean;
  position: PositionKind;
  rope?: { base?: number; layout?: RopeLayout; scaling?: RopeScaling; rotaryDim?: number };
  /** Share the token embedding with the output head (GPT-2). */
  tieWeights: boolean;
  /** GELU: `'exact'` (erf; PyTorch's default) or `'tanh'` (GPT-2's approximation). */
  gelu: 'exact' | 'tanh';
  /** Multiply token embeddings by √nEmbd (`'sqrt-dim'`) or a number. Default none. */
  embeddingScale?: 'none' | 'sqrt-dim' | number;
}

const POSITIONS: PositionKind[] = ['learned', 'sinusoidal', 'rope', 'alibi', 'none'];

function fail(field: string, value: unknown, allowed: string): never {
  // Numbers as JavaScript writes them: JSON would show Infinity and NaN as null.
  throw new RangeError(`GPT config: ${field} must be ${allowed}, got ${typeof value === 'number' ? String(value) : JSON.stringify(value)}`);
}

function positiveInteger(config: Record<string, unknown>, field: string): void {
  const value = config[field];
  if (!Number.isInteger(value) || (value as number) < 1) fail(field, value, 'a positive integer');
}

/** Checks every field once, at the boundary, naming the field, the value and what is allowed. */
export function validateConfig(input: GPTConfig): GPTConfig {
  const config = input as unknown as Record<string, unknown>;
  if (typeof input !== 'object' || input === null) throw new TypeError('GPT config: expected an object');
  for (const field of ['vocabSize', 'blockSize', 'nLayer', 'nHead', 'nEmbd']) positiveInteger(config, field);
  if (input.nEmbd % input.nHead !== 0) fail('nEmbd', input.nEmbd, `a multiple of nHead (${input.nHead})`);
  if (typeof input.dropout !== 'number' || !(input.dropout >= 0 && input.dropout < 1)) fail('dropout', input.dropout, 'a number in [0, 1)');
  if (typeof input.bias !== 'boolean') fail('bias', input.bias, 'true or false');
  if (typeof input.tieWeights !== 'boolean') fail('tieWeights', input.tieWeights, 'true or false');
  if (!POSITIONS.includes(input.position)) fail('position', input.position, POSITIONS.map((p) => `'${p}'`).join(', '));
  if (input.gelu !== 'exact' && input.gelu !== 'tanh') fail('gelu', input.gelu, "'exact' or 'tanh'");
  const headDim = input.nEmbd / input.nHead;
  if (input.position === 'rope' && headDim % 2 !== 0) fail('nEmbd / nHead', headDim, 'even for RoPE (dimensions rotate in pairs)');
  if (input.position === 'rope') {
    // The encoding's own checks (rotaryDim, base, layout, scaling) run here, at the boundary, not
    // when the model is built; constructing it allocates nothing.
    const { base, layout, scaling, rotaryDim } = input.rope ?? {};
    try {
      new RotaryEmbedding({
        headDim,
        ...(base === undefined ? {} : { base }),
        ...(layout ? { layout } : {}),
        ...(scaling ? { scaling } : {}),
        ...(rotaryDim === undefined ? {} : { rotaryDim }),
      });
    } catch (error) {
      throw new RangeError(`GPT config: rope: ${(error as Error).message.replace(/^RotaryEmbedding: /, '')}`);
    }
  }
  const scale = input.embeddingScale;
  if (scale !== undefined && scale !== 'none' && scale !== 'sqrt-dim' && !(typeof scale === 'number' && Number.isFinite(scale) && scale !== 0)) {
    fail('embeddingScale', scale, "'none', 'sqrt-dim' or a finite non-zero number");
  }
  return input;
}

const BASE: Omit<GPTConfig, 'vocabSize' | 'blockSize' | 'nLayer' | 'nHead' | 'nEmbd'> = {
  dropout: 0,
  bias: true,
  position: 'learned',
  tieWeights: true,
  gelu: 'tanh',
};

export interface Preset {
  description: string;
  /** The model shape, less the vocabulary (which comes from the tokenizer). */
  model: Omit<GPTConfig, 'vocabSize'>;
  training: { batchSize: number; learningRate: number; minLearningRate: number; warmupSteps: number; steps: number; weightDecay: number; evalInterval: number };
}

/** Named shapes: the benchmark's `baby`, a makemore-style `names` model, and GPT-2 small. */
export const PRESETS: Record<'names' | 'baby' | 'gpt2-small', Preset> = {
  names: {
    description: 'a character model of first names, microgpt/makemore style (block 16, 2 layers, 4 heads, 64 dims)',
    model: { ...BASE, blockSize: 16, nLayer: 2, nHead: 4, nEmbd: 64 },
    training: { batchSize: 32, learningRate: 3e-3, minLearningRate: 3e-4, warmupSteps: 20, steps: 1000, weightDecay: 0.01, evalInterval: 200 },
  },
  baby: {
    description: "nanoGPT's baby Shakespeare shape, scaled to a laptop (block 64, 4 layers, 4 heads, 128 dims, batch 16): the benchmark configuration",
    model: { ...BASE, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128, dropout: 0.1 },
    training: { batchSize: 16, learningRate: 1e-3, minLearningRate: 1e-4, warmupSteps: 100, steps: 2000, weightDecay: 0.1, evalInterval: 250 },
  },
  'gpt2-small': {
    description: 'GPT-2 124M (block 1024, 12 layers, 12 heads, 768 dims, vocabulary 50257): for inspection and loading, not for training here',
    model: { ...BASE, blockSize: 1024, nLayer: 12, nHead: 12, nEmbd: 768 },
    training: { batchSize: 8, learningRate: 6e-4, minLearningRate: 6e-5, warmupSteps: 2000, steps: 600000, weightDecay: 0.1, evalInterval: 2000 },
  },
};

export type PresetName = keyof typeof PRESETS;

/** Parameters a config gives, by formula (no tensors allocated): GPT-2 small is 124,439,808. */
export function countParameters(config: GPTConfig): number {
  const { vocabSize: V, blockSize, nLayer, nEmbd: C, bias, position, tieWeights } = validateConfig(config);
  const b = bias ? 1 : 0;
  const norm = C + b * C;
  const attention = C * 3 * C + b * 3 * C + C * C + b * C;
  const mlp = C * 4 * C + b * 4 * C + 4 * C * C + b * C;
  return V * C + (position === 'learned' ? blockSize * C : 0) + nLayer * (2 * norm + attention + mlp) + norm + (tieWeights ? 0 : V * C);
}
