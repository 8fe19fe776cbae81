import { ALiBi, LearnedPositionalEmbedding, type PositionalEncoding, RotaryEmbedding, SinusoidalPositionalEncoding } from '@embedlab/positional-encodings';
import { batchedMatMul, type Tensor, tf, type Variable } from '@embedlab/runtime';
import { TokenEmbedding } from '@embedlab/token-embedding';
import { EmbeddingHead } from '@embedlab/weight-tying';
import { type GPTConfig, validateConfig } from './config.js';
import { dense, dropout, gelu, layerNorm } from './layers.js';

/** Keys and values of earlier positions, per layer, for incremental decoding. */
export interface KVCache {
  layers: ({ k: Tensor; v: Tensor } | undefined)[];
  /** Positions already in the cache (the offset of the next token). */
  length: number;
}

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

const MASKED = -1e9;

/** nanoGPT state_dict names of Linear weights, which PyTorch stores `[out, in]` and we store `[in, out]`. */
export function isLinearWeight(name: string): boolean {
  return /\.(c_attn|c_proj|c_fc)\.weight$/.test(name);
}

/**
 * A GPT in nanoGPT's shape: token embedding (+ learned or sinusoidal positions), pre-LayerNorm
 * blocks of causal self-attention (RoPE or ALiBi inside, if chosen) and a 4x MLP, a final
 * LayerNorm, and a tied or untied head. Parameters are named as nanoGPT's state_dict.
 */
export class MiniGPT {
  readonly config: GPTConfig;
  readonly headDim: number;
  /** Every parameter by its nanoGPT name; Linear weights are `[in, out]` here. */
  readonly params = new Map<string, Variable>();
  readonly embedding: TokenEmbedding;
  readonly head: EmbeddingHead;
  readonly positional: PositionalEncoding | undefined;
  private readonly learned: LearnedPositionalEmbedding | undefined;
  private readonly sinusoidal: SinusoidalPositionalEncoding | undefined;
  private readonly rope: RotaryEmbedding | undefined;
  private readonly alibi: ALiBi | undefined;

  constructor(config: GPTConfig, seed = 1337) {
    this.config = validateConfig({ ...config });
    const { vocabSize, blockSize, nLayer, nHead, nEmbd, bias } = this.config;
    this.headDim = nEmbd / nHead;
    let nextSeed = seed;
    const seedFor = () => nextSeed++;
    // GPT-2 init: N(0, 0.02) everywhere, residual projections N(0, 0.02 / √(2·nLayer)).
    const normal = (name: string, shape: number[], std = 0.02) => this.add(name, tf.randomNormal(shape, 0, std, 'float32', seedFor()));
    const constant = (name: string, shape: number[], value: number) => this.add(name, tf.fill(shape, value));
    const residualStd = 0.02 / Math.sqrt(2 * nLayer);

    this.embedding = new TokenEmbedding({ vocabSize, dim: nEmbd, seed: seedFor(), scale: this.config.embeddingScale ?? 'none' });
    this.params.set('transformer.wte.weight', this.embedding.weight);
    if (this.config.position === 'learned') {
      this.learned = new LearnedPositionalEmbedding({ maxLength: blockSize, dim: nEmbd, seed: seedFor() });
      this.params.set('transformer.wpe.weight', this.learned.weight);
    }
    if (this.config.position === 'sinusoidal') this.sinusoidal = new SinusoidalPositionalEncoding({ dim: nEmbd });
    if (this.config.position === 'rope') {
      const { base, layout, scaling, rotaryDim } = this.config.rope ?? {};
      this.rope = new RotaryEmbedding({ headDim: this.headDim, ...(base ? { base } : {}), ...(layout ? { layout } : {}), ...(scaling ? { scaling } : {}), ...(rotaryDim ? { rotaryDim } : {}) });
    }
    if (this.config.position === 'alibi') this.alibi = new ALiBi({ heads: nHead });
    this.positional = this.learned ?? this.sinusoidal ?? this.rope ?? this.alibi;

    for (let i = 0; i < nLayer; i++) {
      const p = `transformer.h.${i}`;
      constant(`${p}.ln_1.weight`, [nEmbd], 1);
      if (bias) constant(`${p}.ln_1.bias`, [nEmbd], 0);
      normal(`${p}.attn.c_attn.weight`, [nEmbd, 3 * nEmbd]);
      if (bias) constant(`${p}.attn.c_attn.bias`, [3 * nEmbd], 0);
      normal(`${p}.attn.c_proj.weight`, [nEmbd, nEmbd], residualStd);
      if (bias) constant(`${p}.attn.c_proj.bias`, [nEmbd], 0);
      constant(`${p}.ln_2.weight`, [nEmbd], 1);
      if (bias) constant(`${p}.ln_2.bias`, [nEmbd], 0);
      normal(`${p}.mlp.c_fc.weight`, [nEmbd, 4 * nEmbd]);
      if (bias) constant(`${p}.mlp.c_fc.bias`, [4 * nEmbd], 0);
      normal(`${p}.mlp.c_proj.weight`, [4 * nEmbd, nEmbd], residualStd);
      if (bias) constant(`${p}.mlp.c_proj.bias`, [nEmbd], 0);
    }
    constant('transformer.ln_f.weight', [nEmbd], 1);
    if (bias) constant('transformer.ln_f.bias', [nEmbd], 0);
    this.head = new EmbeddingHead(this.embedding, { tie: this.config.tieWeights, seed: seedFor() });
    if (!this.config.tieWeights) this.params.set('lm_head.weight', this.head.outputWeight);
  }

  private add(name: string, initial: Tensor): void {
    this.params.set(name, tf.variable(initial));
    initial.dispose();
  }

  private param(name: string): Variable {
    const variable = this.params.get(name);
    if (!variable) throw new Error(`MiniGPT: no parameter ${name}`);
    return variable;
  }

  private optional(name: string): Variable | undefined {
    return this.params.get(name);
  }

  /** Variables an optimizer updates, in a stable order. */
  get trainableVariables(): Variable[] {
    return [...this.params.values()];
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
    const { blockSize, nLayer, dropout: rate } = this.config;
    const seq = ids instanceof tf.Tensor ? ids.shape[1]! : ids[0]!.length;
    const offset = cache?.length ?? 0;
    if (ids instanceof tf.Tensor && ids.rank !== 2) throw new Error(`MiniGPT.forward: ids must be [batch, seq], got shape [${ids.shape}]`);
    if (this.learned && offset + seq > blockSize) {
      throw new RangeError(`MiniGPT.forward: ${offset + seq} positions exceed blockSize ${blockSize}; learned positions cannot go past the length they were trained with`);
    }
    const seedOf = () => dropoutSeed?.();
    return tf.tidy(() => {
      let x = this.embedding.apply(ids);
      const additive = this.learned ?? this.sinusoidal;
      if (additive) x = tf.add(x, additive.apply(seq, { offset }));
      x = dropout(x, rate, seedOf());
      for (let i = 0; i < nLayer; i++) {
        const p = `transformer.h.${i}`;
        const attended = this.attention(layerNorm(x, this.param(`${p}.ln_1.weight`), this.optional(`${p}.ln_1.bias`)), i, offset, cache, seedOf, attention);
        x = tf.add(x, attended);
        const hidden = gelu(dense(layerNorm(x, this.param(`${p}.ln_2.weight`), this.optional(`${p}.ln_2.bias`)), this.param(`${p}.mlp.c_fc.weight`), this.optional(`${p}.mlp.c_fc.bias`)), this.config.gelu);
        x = tf.add(x, dropout(dense(hidden, this.param(`${p}.mlp.c_proj.weight`), this.optional(`${p}.mlp.c_proj.bias`)), rate, seedOf()));
      }
      x = layerNorm(x, this.param('transformer.ln_f.weight'), this.optional('transformer.ln_f.bias'));
      if (logits === 'last') x = tf.slice(x, [0, seq - 1, 0], [-1, 1, -1]);
      if (cache) cache.length = offset + seq;
      return this.head.logits(x);
    });
  }

  private attention(x: Tensor, layer: number, offset: number, cache: KVCache | undefined, seedOf: () => number | undefined, collect: Tensor[] | undefined): Tensor {
    const { nHead, nEmbd, dropout: rate } = this.config;
    const p = `transformer.h.${layer}.attn`;
    const [batch, seq] = x.shape as [number, number, number];
    const qkv = dense(x, this.param(`${p}.c_attn.weight`), this.optional(`${p}.c_attn.bias`));
    const heads = (t: Tensor) => tf.transpose(tf.reshape(t, [batch, seq, nHead, this.headDim]), [0, 2, 1, 3]);
    let [q, k, v] = tf.split(qkv, 3, 2).map(heads) as [Tensor, Tensor, Tensor];
    if (this.rope) {
      q = this.rope.apply(q, { offset });
      k = this.rope.apply(k, { offset });
    }
    if (cache) {
      const previous = cache.layers[layer];
      if (previous) {
        k = tf.concat([previous.k, k], 2);
        v = tf.concat([previous.v, v], 2);
        tf.dispose([previous.k, previous.v]);
      }
      cache.layers[layer] = { k: tf.keep(k), v: tf.keep(v) };
    }
    const keys = k.shape[2]!;
    let scores = tf.mul(batchedMatMul(q, k, { transposeB: true }), 1 / Math.sqrt(this.headDim));
    scores = tf.add(scores, this.causalMask(seq, keys, offset));
    if (this.alibi) scores = tf.add(scores, this.alibi.bias(seq, keys, { offset }));
    let weights = tf.softmax(scores, -1);
    if (collect) collect.push(tf.keep(tf.clone(weights)));
    weights = dropout(weights, rate, seedOf());
    const y = tf.reshape(tf.transpose(batchedMatMul(weights, v), [0, 2, 1, 3]), [batch, seq, nEmbd]);
    return dropout(dense(y, this.param(`${p}.c_proj.weight`), this.optional(`${p}.c_proj.bias`)), rate, seedOf());
  }

  /** `[queries, keys]`: 0 where query i (at position offset + i) may see key j ≤ offset + i, else a large negative. */
  private causalMask(queries: number, keys: number, offset: number): Tensor {
    const mask = new Float32Array(queries * keys);
    for (let i = 0; i < queries; i++) for (let j = offset + i + 1; j < keys; j++) mask[i * keys + j] = MASKED;
    return tf.tensor2d(mask, [queries, keys]);
  }

  /** Mean next-token cross-entropy of `ids` `[batch, seq]` against `targets` `[batch, seq]`. */
  loss(ids: Tensor | number[][], targets: Tensor | number[][], options: Omit<ForwardOptions, 'logits' | 'cache'> = {}): tf.Scalar {
    return tf.tidy(() => {
      const logits = this.forward(ids, options);
      const { vocabSize } = this.config;
      const flatTargets = targets instanceof tf.Tensor ? tf.reshape(targets, [-1]) : tf.tensor1d(targets.flat(), 'int32');
      if (flatTargets.size !== logits.size / vocabSize) throw new Error(`MiniGPT.loss: targets must match ids' shape, got ${flatTargets.size} targets for ${logits.size / vocabSize} positions`);
      return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.cast(flatTargets, 'int32'), vocabSize), tf.reshape(logits, [-1, vocabSize])) as tf.Scalar;
    });
  }

  /** Parameter counts by part (as nanoGPT's, wpe included). */
  parameterCount(): ParameterBreakdown {
    const count = (pattern: RegExp) => [...this.params].filter(([name]) => pattern.test(name)).reduce((sum, [, v]) => sum + v.size, 0);
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
    for (const variable of this.params.values()) variable.dispose();
    this.positional?.dispose();
    this.head.dispose();
  }
}

/** Builds a GPT from a validated config; `seed` makes its initialisation reproducible. */
export function createModel(config: GPTConfig, seed?: number): MiniGPT {
  return new MiniGPT(config, seed);
}
