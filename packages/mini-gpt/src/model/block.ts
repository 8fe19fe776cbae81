import type { ALiBi, AdditivePositionalEncoding, RotaryEmbedding } from '@embedlab/positional-encodings';
import { batchedMatMul, causalAttention, dropoutMask, type Tensor, tf } from '@embedlab/runtime';
import { BLOCK_LAYERS, INIT_STD, type LinearLayerName, linearShape } from './architecture.js';
import type { GPTConfig } from './config.js';
import { dropout } from './dropout.js';
import { gelu, LayerNorm, Linear, type StateDict } from './layers.js';

/** A model's positional encoding; its `kind` says where it enters the forward pass. */
export type ModelPositions = AdditivePositionalEncoding | RotaryEmbedding | ALiBi;

/** Keys and values of earlier positions, per layer, for incremental decoding. */
export interface KVCache {
  layers: ({ k: Tensor; v: Tensor } | undefined)[];
  /** Positions already in the cache (the offset of the next token). */
  length: number;
}

/** What every block of one forward pass shares. */
export interface PassContext {
  /** Position of the first token of this pass (the cache's length before it). */
  offset: number;
  positions: ModelPositions | undefined;
  cache: KVCache | undefined;
  /** A fresh dropout seed per call while training; undefined turns dropout off. */
  dropoutSeed: () => number | undefined;
  /** Collects each layer's attention weights when given. */
  attention: Tensor[] | undefined;
}

/** Weight init of one block: a seed per layer, and the residual projections' std (`INIT_STD`/√(2·nLayer)). */
interface BlockInit {
  seed: () => number;
  residualStd: number;
}

/** A block's Linear layer `name` as the architecture table gives it: widths, and GPT-2's init (residual projections scaled down). */
function linearLayer(name: LinearLayerName, config: GPTConfig, init: BlockInit): Linear {
  const [inFeatures, outFeatures] = linearShape(name, config.nEmbd);
  return new Linear(inFeatures, outFeatures, { bias: config.bias, std: BLOCK_LAYERS[name].residual ? init.residualStd : INIT_STD, seed: init.seed() });
}

const MASKED = -1e9;

/** `[queries, keys]`: 0 where query i (at position offset + i) may see key j ≤ offset + i, else a large negative. */
function causalMask(queries: number, keys: number, offset: number): Tensor {
  const mask = new Float32Array(queries * keys);
  for (let i = 0; i < queries; i++) for (let j = offset + i + 1; j < keys; j++) mask[i * keys + j] = MASKED;
  return tf.tensor2d(mask, [queries, keys]);
}

/** nanoGPT's `CausalSelfAttention`: one `[C, 3C]` projection to q, k, v, heads, softmax(q·kᵀ/√d)·v, output projection. */
export class CausalSelfAttention {
  readonly c_attn: Linear;
  readonly c_proj: Linear;
  private readonly nHead: number;
  private readonly headDim: number;
  private readonly rate: number;

  constructor(
    private readonly layer: number,
    config: GPTConfig,
    init: BlockInit,
  ) {
    const { nEmbd, nHead } = config;
    this.nHead = nHead;
    this.headDim = nEmbd / nHead;
    this.rate = config.dropout;
    this.c_attn = linearLayer('attn.c_attn', config, init);
    this.c_proj = linearLayer('attn.c_proj', config, init);
  }

  apply(x: Tensor, pass: PassContext): Tensor {
    // One fused kernel reads q, k, v from the projection in place; the cached (decoding) pass and
    // a pass that collects attention weights take the tfjs-op path below.
    if (pass.cache || pass.attention) return this.applyUnfused(x, pass);
    const [batch, seq, nEmbd] = x.shape as [number, number, number];
    const { positions } = pass;
    let qkv = this.c_attn.apply(x);
    if (positions?.kind === 'rotary') {
      const rotate = (t: Tensor) => tf.reshape(positions.apply(tf.reshape(t, [batch, seq, this.nHead, this.headDim]), { axes: 'bshd' }), [batch, seq, nEmbd]);
      const [q, k, v] = tf.split(qkv, 3, 2) as [Tensor, Tensor, Tensor];
      qkv = tf.concat([rotate(q), rotate(k), v], 2);
    }
    const bias = positions?.kind === 'attention-bias' ? positions.bias(seq, seq) : undefined;
    // Dropout's mask on the attention weights, applied inside the kernel.
    const seed = pass.dropoutSeed();
    const keep = this.rate === 0 || seed === undefined ? undefined : dropoutMask([batch, this.nHead, seq, seq], this.rate, seed);
    const y = causalAttention(qkv, { heads: this.nHead, bias, keep });
    return dropout(this.c_proj.apply(y), this.rate, pass.dropoutSeed());
  }

  /** Attention with tfjs ops on `[batch, heads, seq, headDim]` heads: the KV-cached pass. */
  private applyUnfused(x: Tensor, pass: PassContext): Tensor {
    const [batch, seq, nEmbd] = x.shape as [number, number, number];
    const { positions, offset, cache } = pass;
    const heads = (t: Tensor) => tf.transpose(tf.reshape(t, [batch, seq, this.nHead, this.headDim]), [0, 2, 1, 3]);
    let [q, k, v] = tf.split(this.c_attn.apply(x), 3, 2).map(heads) as [Tensor, Tensor, Tensor];
    if (positions?.kind === 'rotary') {
      q = positions.apply(q, { offset });
      k = positions.apply(k, { offset });
    }
    if (cache) {
      const previous = cache.layers[this.layer];
      if (previous) {
        k = tf.concat([previous.k, k], 2);
        v = tf.concat([previous.v, v], 2);
        tf.dispose([previous.k, previous.v]);
      }
      cache.layers[this.layer] = { k: tf.keep(k), v: tf.keep(v) };
    }
    const keys = k.shape[2]!;
    let scores = tf.mul(batchedMatMul(q, k, { transposeB: true }), 1 / Math.sqrt(this.headDim));
    scores = tf.add(scores, causalMask(seq, keys, offset));
    if (positions?.kind === 'attention-bias') scores = tf.add(scores, positions.bias(seq, keys, { offset }));
    let weights = tf.softmax(scores, -1);
    if (pass.attention) pass.attention.push(tf.keep(tf.clone(weights)));
    weights = dropout(weights, this.rate, pass.dropoutSeed());
    const y = tf.reshape(tf.transpose(batchedMatMul(weights, v), [0, 2, 1, 3]), [batch, seq, nEmbd]);
    return dropout(this.c_proj.apply(y), this.rate, pass.dropoutSeed());
  }

  addTo(state: StateDict, prefix: string): void {
    this.c_attn.addTo(state, `${prefix}.c_attn`);
    this.c_proj.addTo(state, `${prefix}.c_proj`);
  }
}

/** nanoGPT's `MLP`: Linear C → 4C (`MLP_RATIO`), GELU, Linear 4C → C, dropout. */
export class MLP {
  readonly c_fc: Linear;
  readonly c_proj: Linear;
  private readonly gelu: GPTConfig['gelu'];
  private readonly rate: number;

  constructor(config: GPTConfig, init: BlockInit) {
    this.gelu = config.gelu;
    this.rate = config.dropout;
    this.c_fc = linearLayer('mlp.c_fc', config, init);
    this.c_proj = linearLayer('mlp.c_proj', config, init);
  }

  apply(x: Tensor, pass: PassContext): Tensor {
    return dropout(this.c_proj.apply(gelu(this.c_fc.apply(x), this.gelu)), this.rate, pass.dropoutSeed());
  }

  addTo(state: StateDict, prefix: string): void {
    this.c_fc.addTo(state, `${prefix}.c_fc`);
    this.c_proj.addTo(state, `${prefix}.c_proj`);
  }
}

/** nanoGPT's pre-LayerNorm `Block`: x = x + attn(ln_1(x)); x = x + mlp(ln_2(x)). */
export class Block {
  readonly ln_1: LayerNorm;
  readonly attn: CausalSelfAttention;
  readonly ln_2: LayerNorm;
  readonly mlp: MLP;

  constructor(layer: number, config: GPTConfig, init: BlockInit) {
    this.ln_1 = new LayerNorm(config.nEmbd, config.bias);
    this.attn = new CausalSelfAttention(layer, config, init);
    this.ln_2 = new LayerNorm(config.nEmbd, config.bias);
    this.mlp = new MLP(config, init);
  }

  apply(x: Tensor, pass: PassContext): Tensor {
    const attended = tf.add(x, this.attn.apply(this.ln_1.apply(x), pass));
    return tf.add(attended, this.mlp.apply(this.ln_2.apply(attended), pass));
  }

  addTo(state: StateDict, prefix: string): void {
    this.ln_1.addTo(state, `${prefix}.ln_1`);
    this.attn.addTo(state, `${prefix}.attn`);
    this.ln_2.addTo(state, `${prefix}.ln_2`);
    this.mlp.addTo(state, `${prefix}.mlp`);
  }
}
