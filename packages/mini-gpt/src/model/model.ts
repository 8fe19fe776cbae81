import { ALiBi, LearnedPositionalEmbedding, SinusoidalPositionalEncoding } from '@embedlab/positional-encodings';
import { softmaxCrossEntropy, type Tensor, tf, type Variable } from '@embedlab/runtime';
import { TokenEmbedding } from '@embedlab/token-embedding';
import { EmbeddingHead } from '@embedlab/weight-tying';
import { INIT_STD, parameterSpecs } from './architecture.js';
import { Block, type KVCache, type ModelPositions, type PassContext } from './block.js';
import { type GPTConfig, type GPTConfigInput, rotaryEmbeddingOf, validateConfig } from './config.js';
import { dropout } from './dropout.js';
import { LayerNorm, type StateDict } from './layers.js';
import { checkMemory } from './memory-estimate.js';

export type { KVCache } from './block.js';

export interface ForwardOptions {
  /** Apply dropout, drawing one seed per dropout call from this function. */
  dropoutSeed?: () => number;
  /** Reuse and extend these keys and values: `ids` continue the cached sequence. */
  cache?: KVCache;
  /** Logits for every position (default) or only the last (sampling). */
  logits?: 'all' | 'last';
  /** Collects each layer's attention weights `[batch, heads, queries, keys]` (kept; dispose them). */
  attention?: Tensor[];
}

export interface ParameterBreakdown {
  tokenEmbedding: number;
  positions: number;
  attention: number;
  mlp: number;
  norms: number;
  /** The untied output matrix (0 when tied). */
  head: number;
  total: number;
  /** What tying saves (vocabSize x nEmbd when tied, else 0). */
  savedByTying: number;
}

/**
 * The name and shape of every parameter a config gives, in `stateDict()` order and our layout
 * (Linear weights `[in, out]`), computed without allocating a tensor: what a checkpoint is
 * checked against before a model is built.
 */
export function parameterShapes(config: GPTConfigInput): Map<string, number[]> {
  return new Map(parameterSpecs(validateConfig(config)).map((spec) => [spec.name, spec.shape]));
}

/**
 * The config as a model built from it runs: every default filled in (`embeddingScale`, RoPE's
 * base, layout and rotaryDim), validated, without building anything: what `--dry-run` shows.
 */
export function effectiveConfig(config: GPTConfigInput): GPTConfig {
  const checked = { embeddingScale: 'none' as const, ...validateConfig(config) };
  if (checked.position !== 'rope') return checked;
  const { base, layout, rotaryDim, scaling } = rotaryEmbeddingOf(checked);
  return { ...checked, rope: { base, layout, rotaryDim, ...(scaling ? { scaling } : {}) } };
}

function createPositions(config: GPTConfig, seed: number): ModelPositions | undefined {
  switch (config.position) {
    case 'learned':
      return new LearnedPositionalEmbedding({ maxLength: config.blockSize, dim: config.nEmbd, seed });
    case 'sinusoidal':
      return new SinusoidalPositionalEncoding({ dim: config.nEmbd });
    case 'rope':
      return rotaryEmbeddingOf(config);
    case 'alibi':
      return new ALiBi({ heads: config.nHead });
    case 'none':
      return undefined;
  }
}

/**
 * A GPT in nanoGPT's shape: token embedding (+ learned or sinusoidal positions), pre-LayerNorm
 * blocks of causal self-attention (RoPE or ALiBi inside, if chosen) and a 4x MLP, a final
 * LayerNorm, and a tied or untied head. Parameters are named as nanoGPT's state_dict.
 */
export class MiniGPT {
  readonly config: GPTConfig;
  readonly headDim: number;
  readonly embedding: TokenEmbedding;
  readonly positional: ModelPositions | undefined;
  readonly blocks: readonly Block[];
  readonly ln_f: LayerNorm;
  readonly head: EmbeddingHead;
  private readonly state: StateDict = new Map();

  constructor(config: GPTConfigInput, seed = 1337) {
    this.config = validateConfig(config);
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`createModel: seed must be an integer >= 0, got ${seed}`);
    // The weights and one forward pass of a full-length sequence must fit the heap: checked before any tensor is made.
    checkMemory(this.config, { mode: 'inference', batchSize: 1 }, { label: 'createModel' });
    const { vocabSize, nLayer, nHead, nEmbd, bias } = this.config;
    this.headDim = nEmbd / nHead;
    let nextSeed = seed;
    const seedFor = () => nextSeed++;
    this.embedding = new TokenEmbedding({ vocabSize, dim: nEmbd, seed: seedFor(), scale: this.config.embeddingScale ?? 'none' });
    this.state.set('transformer.wte.weight', this.embedding.weight);
    // Only learned positions have weights to draw.
    this.positional = createPositions(this.config, this.config.position === 'learned' ? seedFor() : 0);
    if (this.positional instanceof LearnedPositionalEmbedding) this.state.set('transformer.wpe.weight', this.positional.weight);
    const init = { seed: seedFor, residualStd: INIT_STD / Math.sqrt(2 * nLayer) };
    this.blocks = Array.from({ length: nLayer }, (_, i) => new Block(i, this.config, init));
    for (const [i, block] of this.blocks.entries()) block.addTo(this.state, `transformer.h.${i}`);
    this.ln_f = new LayerNorm(nEmbd, bias);
    this.ln_f.addTo(this.state, 'transformer.ln_f');
    this.head = new EmbeddingHead(this.embedding, { tie: this.config.tieWeights, seed: seedFor() });
    if (!this.config.tieWeights) this.state.set('lm_head.weight', this.head.outputWeight);
  }

  /**
   * Every parameter by its nanoGPT state_dict name, in a stable order (what checkpoints read and
   * write). Linear weights are `[in, out]` here, PyTorch's transpose.
   */
  stateDict(): ReadonlyMap<string, Variable> {
    return this.state;
  }

  /** Variables an optimizer updates, in a stable order. */
  get trainableVariables(): Variable[] {
    return [...this.state.values()];
  }

  /** An empty KV cache for incremental decoding. */
  createCache(): KVCache {
    return { layers: [], length: 0 };
  }

  /** Frees a cache's tensors. */
  disposeCache(cache: KVCache): void {
    for (const layer of cache.layers) if (layer) tf.dispose([layer.k, layer.v]);
    cache.layers = [];
    cache.length = 0;
  }

  /** `ids` `[batch, seq]` (int32 tensor or arrays) → logits `[batch, seq or 1, vocabSize]`. */
  forward(ids: Tensor | number[][], options: ForwardOptions = {}): Tensor {
    const { dropoutSeed, cache, logits = 'all', attention } = options;
    const { blockSize, dropout: rate } = this.config;
    const seq = ids instanceof tf.Tensor ? ids.shape[1]! : ids[0]!.length;
    const offset = cache?.length ?? 0;
    if (ids instanceof tf.Tensor && ids.rank !== 2) throw new Error(`MiniGPT.forward: ids must be [batch, seq], got shape [${ids.shape}]`);
    if (this.config.position === 'learned' && offset + seq > blockSize) {
      throw new RangeError(
        `MiniGPT.forward: ${offset + seq} positions exceed blockSize ${blockSize}; learned positions cannot go past the length they were trained with`,
      );
    }
    const pass: PassContext = { offset, positions: this.positional, cache, dropoutSeed: () => dropoutSeed?.(), attention };
    return tf.tidy(() => {
      let x = this.embedding.apply(ids);
      if (this.positional?.kind === 'additive') x = tf.add(x, this.positional.apply(seq, { offset }));
      x = dropout(x, rate, pass.dropoutSeed());
      for (const block of this.blocks) x = block.apply(x, pass);
      x = this.ln_f.apply(x);
      if (logits === 'last') x = tf.slice(x, [0, seq - 1, 0], [-1, 1, -1]);
      if (cache) cache.length = offset + seq;
      return this.head.logits(x);
    });
  }

  /**
   * Mean next-token cross-entropy of `ids` `[batch, seq]` against `targets` `[batch, seq]`: one
   * runtime kernel each way over the logits (a target outside the vocabulary is a RangeError).
   */
  loss(ids: Tensor | number[][], targets: Tensor | number[][], options: Omit<ForwardOptions, 'logits' | 'cache'> = {}): tf.Scalar {
    return tf.tidy(() => {
      const logits = this.forward(ids, options);
      const flatTargets = targets instanceof tf.Tensor ? tf.cast(tf.reshape(targets, [-1]), 'int32') : tf.tensor1d(targets.flat(), 'int32');
      const positions = logits.size / this.config.vocabSize;
      if (flatTargets.size !== positions)
        throw new Error(`MiniGPT.loss: targets must match ids' shape, got ${flatTargets.size} targets for ${positions} positions`);
      return softmaxCrossEntropy(logits, flatTargets);
    });
  }

  /** Parameter counts by part (as nanoGPT's, wpe included). */
  parameterCount(): ParameterBreakdown {
    const count = (pattern: RegExp) => [...this.state].filter(([name]) => pattern.test(name)).reduce((sum, [, v]) => sum + v.size, 0);
    const breakdown = {
      tokenEmbedding: count(/^transformer\.wte\./),
      positions: count(/^transformer\.wpe\./),
      attention: count(/\.attn\./),
      mlp: count(/\.mlp\./),
      norms: count(/\.ln_(1|2|f)\./),
      head: count(/^lm_head\./),
    };
    const total = Object.values(breakdown).reduce((a, b) => a + b, 0);
    return { ...breakdown, total, savedByTying: this.config.tieWeights ? breakdown.tokenEmbedding : 0 };
  }

  dispose(): void {
    // The head and the position table own variables the state dict lists too: each is freed once
    // (freeing one twice lowers the count of data it may share with another model, as
    // withRopeScaling's copies do, and frees that model's weights).
    this.positional?.dispose();
    this.head.dispose();
    for (const variable of this.state.values()) if (!variable.isDisposed) variable.dispose();
  }
}

/** Builds a GPT from a validated config; `seed` makes its initialisation reproducible. */
export function createModel(config: GPTConfigInput, seed?: number): MiniGPT {
  return new MiniGPT(config, seed);
}
