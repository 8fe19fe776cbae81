import { type ArenaArray, MatVecArena, tf } from '@embedlab/runtime';
import type { MiniGPT } from './model.js';

// Sampling one sequence feeds one token at a time. Through tfjs that is a few hundred tiny ops
// per token, each costing more in dispatch than in arithmetic (at baby's size a token is about
// 0.8 M multiply-adds). The decoder copies the model's weights once into a MatVecArena (a wasm
// memory of its own with SIMD matrix–vector products) and runs a token through the blocks with
// those products and short loops for the rest; the KV cache and each token's attention over it
// live in a second arena. The math is the
// model's forward pass with dropout off, in the same order: pre-LayerNorm blocks, causal
// attention (RoPE on q and k, or ALiBi's bias), GELU MLP, final LayerNorm, head.

const LAYER_NORM_EPSILON = 1e-5;
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

interface LayerWeights {
  ln1: Norm;
  attn: Dense;
  attnProj: Dense;
  ln2: Norm;
  fc: Dense;
  mlpProj: Dense;
}

/** The KV cache: keys and values `[capacity, C]` per layer, and attention's query, output, scores and ALiBi slopes, in an arena of their own (replaced by a larger one as the sequence grows). */
interface CacheArena {
  arena: MatVecArena;
  capacity: number;
  keys: ArenaArray[];
  values: ArenaArray[];
  query: ArenaArray;
  out: ArenaArray;
  scores: ArenaArray;
  slopes: ArenaArray | undefined;
}

interface Norm {
  weight: Float32Array;
  bias: Float32Array | undefined;
}

/** `[in, out]` weight, row-major, and optional `[out]` bias, in the arena. */
interface Dense {
  weight: ArenaArray;
  bias: ArenaArray | undefined;
  inFeatures: number;
  outFeatures: number;
}

/** erf by Abramowitz and Stegun 7.1.26 (|error| < 1.5e-7), the formula tfjs's Erf kernels use. */
function erf(x: number): number {
  const sign = Math.sign(x);
  const v = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * v);
  return sign * (1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-v * v));
}

function layerNorm(x: Float64Array, norm: Norm, out: Float32Array): void {
  const n = x.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i]!;
  mean /= n;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += (x[i]! - mean) ** 2;
  const rstd = 1 / Math.sqrt(variance / n + LAYER_NORM_EPSILON);
  for (let i = 0; i < n; i++) out[i] = (x[i]! - mean) * rstd * norm.weight[i]! + (norm.bias ? norm.bias[i]! : 0);
}

/** The model's next-token logits, one token at a time, from weights read once (batch 1, no dropout). */
export class Decoder {
  private readonly layers: LayerWeights[];
  private readonly lnF: Norm;
  private readonly tokenTable: Float32Array;
  private readonly tokenScale: number;
  private readonly output: ArenaArray;
  private readonly outputBias: ArenaArray | undefined;
  private readonly arena: MatVecArena;
  /** Activations in the arena: LayerNorm's output, q|k|v, attention's output, projections, the MLP's hidden layer, logits. */
  private readonly normed: ArenaArray;
  private readonly qkv: ArenaArray;
  private readonly attended: ArenaArray;
  private readonly projected: ArenaArray;
  private readonly hidden: ArenaArray;
  private readonly logits: ArenaArray;
  private readonly softCap: number | undefined;
  private cache: CacheArena | undefined;
  /** Positions in the cache: the position of the next token. */
  length = 0;

  constructor(private readonly model: MiniGPT) {
    const state = model.stateDict();
    const { nEmbd: channels, vocabSize } = model.config;
    const read = (name: string) => state.get(name)?.dataSync() as Float32Array | undefined;
    const isDense = (name: string) => /\.(c_attn|c_proj|c_fc)\.(weight|bias)$/.test(name);
    const activations = [channels, 3 * channels, channels, channels, 4 * channels, vocabSize];
    const head = [model.head.outputWeight.size, model.head.bias?.size ?? 0];
    this.arena = new MatVecArena(MatVecArena.floatsFor([...[...state].filter(([name]) => isDense(name)).map(([, v]) => v.size), ...head, ...activations]));
    const inArena = (name: string) => {
      const values = read(name);
      return values && this.arena.allocate(values.length, values);
    };
    const norm = (prefix: string): Norm => ({ weight: read(`${prefix}.weight`)!, bias: read(`${prefix}.bias`) });
    const denseOf = (prefix: string): Dense => {
      const [inFeatures, outFeatures] = state.get(`${prefix}.weight`)!.shape as [number, number];
      return { weight: inArena(`${prefix}.weight`)!, bias: inArena(`${prefix}.bias`), inFeatures, outFeatures };
    };
    this.layers = model.blocks.map((_, i) => {
      const p = `transformer.h.${i}`;
      return {
        ln1: norm(`${p}.ln_1`),
        attn: denseOf(`${p}.attn.c_attn`),
        attnProj: denseOf(`${p}.attn.c_proj`),
        ln2: norm(`${p}.ln_2`),
        fc: denseOf(`${p}.mlp.c_fc`),
        mlpProj: denseOf(`${p}.mlp.c_proj`),
      };
    });
    this.lnF = norm('transformer.ln_f');
    this.tokenTable = model.embedding.weight.dataSync() as Float32Array;
    this.tokenScale = model.embedding.scale;
    this.output = this.arena.allocate(model.head.outputWeight.size, model.head.outputWeight.dataSync());
    this.outputBias = model.head.bias && this.arena.allocate(vocabSize, model.head.bias.dataSync());
    [this.normed, this.qkv, this.attended, this.projected, this.hidden, this.logits] = activations.map((length) => this.arena.allocate(length)) as [
      ArenaArray,
      ArenaArray,
      ArenaArray,
      ArenaArray,
      ArenaArray,
      ArenaArray,
    ];
    this.softCap = model.head.softCap;
  }

  /** Empties the cache. */
  reset(): void {
    this.length = 0;
  }

  /** The cache arena, with room for `positions` positions (what it held copied over). */
  private reserve(positions: number): CacheArena {
    const previous = this.cache;
    if (previous && positions <= previous.capacity) return previous;
    const capacity = Math.max(positions, 2 * (previous?.capacity ?? 0), 64);
    const { nEmbd: channels, nHead: heads } = this.model.config;
    const slopes = this.model.positional?.kind === 'attention-bias' ? this.model.positional.slopes : undefined;
    const nLayers = this.layers.length;
    const arena = new MatVecArena(MatVecArena.floatsFor([...Array<number>(2 * nLayers).fill(capacity * channels), channels, channels, capacity, heads]));
    const fresh = (previousArrays: ArenaArray[] | undefined) =>
      Array.from({ length: nLayers }, (_, i) => arena.allocate(capacity * channels, previousArrays ? previousArrays[i]!.values : undefined));
    this.cache = {
      arena,
      capacity,
      keys: fresh(previous?.keys),
      values: fresh(previous?.values),
      query: arena.allocate(channels),
      out: arena.allocate(channels),
      scores: arena.allocate(capacity),
      slopes: slopes && arena.allocate(heads, slopes),
    };
    return this.cache;
  }

  /** Feeds `token` at position `length` and returns the logits `[vocabSize]` for the next one. */
  step(token: number): Float32Array {
    const { nEmbd: channels, nHead: heads, vocabSize, gelu } = this.model.config;
    const headDim = channels / heads;
    const position = this.length;
    const cache = this.reserve(position + 1);
    const x = new Float64Array(channels);
    for (let i = 0; i < channels; i++) x[i] = this.tokenTable[token * channels + i]! * this.tokenScale;
    const positions = this.model.positional;
    if (positions?.kind === 'additive') {
      const row = tf.tidy(() => positions.apply(1, { offset: position }).dataSync());
      for (let i = 0; i < channels; i++) x[i]! += row[i]!;
    }
    let cos: ArrayLike<number> | undefined;
    let sin: ArrayLike<number> | undefined;
    if (positions?.kind === 'rotary') {
      const table = positions.cosSin(1, position);
      [cos, sin] = [table.cos.dataSync(), table.sin.dataSync()];
      // A slice of the encoding's cached table (or a fresh one): ours to free.
      tf.dispose([table.cos, table.sin]);
    }
    const { arena, normed: normedArray, qkv: qkvArray, attended: attendedArray, projected: projectedArray, hidden: hiddenArray } = this;
    const [normed, qkv, attended, projected, hidden] = [normedArray.values, qkvArray.values, attendedArray.values, projectedArray.values, hiddenArray.values];
    const apply = (input: ArenaArray, layer: Dense, output: ArenaArray) =>
      arena.matVec(input, layer.weight, layer.bias, output, layer.inFeatures, layer.outFeatures);
    for (const [index, layer] of this.layers.entries()) {
      layerNorm(x, layer.ln1, normed);
      apply(normedArray, layer.attn, qkvArray);
      if (positions?.kind === 'rotary') {
        for (let h = 0; h < heads; h++) {
          rotate(qkv, h * headDim, positions.rotaryDim, positions.layout, cos!, sin!);
          rotate(qkv, channels + h * headDim, positions.rotaryDim, positions.layout, cos!, sin!);
        }
      }
      cache.query.values.set(qkv.subarray(0, channels));
      cache.keys[index]!.values.set(qkv.subarray(channels, 2 * channels), position * channels);
      cache.values[index]!.values.set(qkv.subarray(2 * channels), position * channels);
      cache.arena.attend(cache.query, cache.keys[index]!, cache.values[index]!, cache.slopes, cache.scores, cache.out, position + 1, heads, headDim);
      attended.set(cache.out.values);
      apply(attendedArray, layer.attnProj, projectedArray);
      for (let i = 0; i < channels; i++) x[i]! += projected[i]!;
      layerNorm(x, layer.ln2, normed);
      apply(normedArray, layer.fc, hiddenArray);
      for (let i = 0; i < hidden.length; i++) {
        const v = hidden[i]!;
        hidden[i] = gelu === 'exact' ? 0.5 * v * (1 + erf(v * Math.SQRT1_2)) : v / (1 + Math.exp(-2 * SQRT_2_OVER_PI * (v + 0.044715 * v * v * v)));
      }
      apply(hiddenArray, layer.mlpProj, projectedArray);
      for (let i = 0; i < channels; i++) x[i]! += projected[i]!;
    }
    layerNorm(x, this.lnF, normed);
    arena.matVecTransposed(normedArray, this.output, this.outputBias, this.logits, channels, vocabSize);
    const logits = Float32Array.from(this.logits.values);
    if (this.softCap !== undefined) for (let v = 0; v < vocabSize; v++) logits[v] = Math.tanh(logits[v]! / this.softCap) * this.softCap;
    this.length = position + 1;
    return logits;
  }
}

/** RoPE on one head's first `rotaryDim` dimensions at `start`, as RotaryEmbedding.apply does. */
function rotate(x: Float32Array, start: number, rotaryDim: number, layout: 'half' | 'interleaved', cos: ArrayLike<number>, sin: ArrayLike<number>): void {
  const half = rotaryDim / 2;
  for (let i = 0; i < half; i++) {
    const [a, b] = layout === 'half' ? [start + i, start + i + half] : [start + 2 * i, start + 2 * i + 1];
    const x1 = x[a]!;
    const x2 = x[b]!;
    x[a] = x1 * cos[i]! - x2 * sin[i]!;
    x[b] = x2 * cos[i]! + x1 * sin[i]!;
  }
}
