import { LearnedPositionalEmbedding } from '@embedlab/positional-encodings';
import { type ArenaArray, MatVecArena, type Tensor, tf } from '@embedlab/runtime';
import { BLOCK_LAYERS, type BlockLayerName, LAYER_NORM_EPSILON, type LinearLayerName } from '../model/architecture.js';
import type { ModelPositions } from '../model/block.js';
import type { MiniGPT } from '../model/model.js';

// Sampling one sequence feeds one token at a time. Through tfjs that is a few hundred tiny ops
// per token, each costing more in dispatch than in arithmetic (at baby's size a token is about
// 0.8 M multiply-adds). The decoder runs a token through a block as a handful of wasm calls on a
// MatVecArena (SIMD kernels on a block of memory holding its activations and the KV cache):
// LayerNorm, the q|k|v product, RoPE, attention over the cache, the output projection added to
// the residual, LayerNorm, the MLP's product, GELU, its projection added to the residual. The math
// is the model's forward pass with dropout off, in the same order. On the wasm backend the arena
// is a block of tfjs's own heap and the kernels read the model's weights where tfjs keeps them
// (GPT-2 small's decoder copied 650 MB before); on another backend the weights are copied in.

/** Positions the cache and the position tables start with (they double as the sequence grows). */
const INITIAL_POSITIONS = 64;

/** Decoders whose model was garbage-collected give their arena's heap block back. */
const arenas = new FinalizationRegistry<MatVecArena>((arena) => arena.dispose());

/** A block's weights in the arena, by the architecture's layer names. */
type LayerWeights = { [K in LinearLayerName]: Dense } & { ln_1: Norm; ln_2: Norm };

interface Norm {
  weight: ArenaArray;
  bias: ArenaArray | undefined;
}

/** `[in, out]` weight, row-major, and optional `[out]` bias, in the arena. */
interface Dense {
  weight: ArenaArray;
  bias: ArenaArray | undefined;
  inFeatures: number;
  outFeatures: number;
}

/**
 * Rows of the positional encoding read once from its tensors (`width` floats a position: an additive
 * encoding's row, or RoPE's cos then sin), extended by doubling when a later position is asked for.
 */
class PositionRows {
  private table: Float32Array = new Float32Array(0);
  private rows = 0;

  constructor(
    private readonly positions: ModelPositions,
    private readonly width: number,
    /** Rows the table may hold: a learned table's length, dynamic NTK's original length. */
    private readonly limit: number,
  ) {}

  /** The row of `position` (a view, valid until the next call). */
  row(position: number): Float32Array {
    // Past the table's limit (a learned table's end, where this throws; dynamic NTK's original length,
    // past which the frequencies depend on the sequence's length), the row is read alone.
    if (position >= this.limit) return this.read(1, position);
    if (position >= this.rows) {
      const rows = Math.min(Math.max(position + 1, 2 * this.rows, INITIAL_POSITIONS), this.limit);
      this.table = this.read(rows, 0);
      this.rows = rows;
    }
    return this.table.subarray(position * this.width, (position + 1) * this.width);
  }

  private read(rows: number, offset: number): Float32Array {
    const positions = this.positions;
    if (positions.kind === 'additive') {
      // A slice of the encoding's table: ours to free. (dataSync outside tidy: tidy would walk the array.)
      const table = tf.tidy(() => positions.apply(rows, { offset }));
      const values = table.dataSync() as Float32Array;
      table.dispose();
      return values;
    }
    if (positions.kind !== 'rotary') throw new Error(`Decoder: ${positions.kind} positions have no rows`);
    const { cos, sin } = positions.cosSin(rows, offset);
    const [c, s] = [cos.dataSync(), sin.dataSync()];
    // A slice of the encoding's cached table (or a fresh one): ours to free.
    tf.dispose([cos, sin]);
    const half = positions.rotaryDim / 2;
    const table = new Float32Array(rows * this.width);
    for (let r = 0; r < rows; r++) {
      table.set(c.subarray(r * half, (r + 1) * half), r * this.width);
      table.set(s.subarray(r * half, (r + 1) * half), r * this.width + half);
    }
    return table;
  }
}

const decoders = new WeakMap<MiniGPT, Decoder>();

/** The model's next-token logits, one token at a time, from weights read once (batch 1, no dropout). */
export class Decoder {
  private layers!: LayerWeights[];
  private lnF!: Norm;
  private tokenTable!: ArenaArray;
  private readonly tokenScale: number;
  private output!: ArenaArray;
  private readonly arena: MatVecArena;
  /** Whether the arena reads the weights in place (the wasm backend) rather than copies of them. */
  private readonly inPlace: boolean;
  /** Activations in the arena: the residual stream, LayerNorm's output, q|k|v, attention's output, the MLP's hidden layer, logits, RoPE's cos|sin. */
  private readonly x: ArenaArray;
  private readonly normed: ArenaArray;
  private readonly qkv: ArenaArray;
  private readonly attended: ArenaArray;
  private readonly hidden: ArenaArray;
  private readonly logits: ArenaArray;
  private readonly cosSin: ArenaArray | undefined;
  private readonly slopes: ArenaArray | undefined;
  private positionRows: PositionRows | undefined;
  /**
   * The KV cache, the arena's last allocation (extended as the sequence grows): per layer
   * `[capacity, 2·nEmbd]`, each position's keys then values (a position's row is contiguous and
   * rows are 2·nEmbd floats apart, which keeps attention's reads short).
   */
  private cache: ArenaArray;
  private capacity = 0;
  /** Positions in the cache: the position of the next token. */
  length = 0;

  /** The tensors the weights were read from (tfjs tensors are immutable, and assigning a variable gives it new data). */
  private sources: { tensor: Tensor; dataId: object }[] = [];
  private busy = false;

  /**
   * A decoder of `model` to use until `release()`: the one made last time when it is idle and the
   * model's weights are the same tensors, else a new one. Its cache starts empty.
   */
  static acquire(model: MiniGPT): Decoder {
    const last = decoders.get(model);
    const current = last?.current() ?? false;
    const decoder = last && current && !last.busy ? last : new Decoder(model);
    // A busy decoder of the current weights stays the one to reuse once it is released; one of
    // older weights is given up (now, or when its user releases it).
    if (!current) {
      decoders.set(model, decoder);
      if (last && !last.busy) last.dispose();
    }
    decoder.reset();
    decoder.busy = true;
    return decoder;
  }

  /** Hands the decoder back to `acquire` (or frees it, when a newer one replaced it meanwhile). */
  release(): void {
    this.busy = false;
    if (decoders.get(this.model) !== this) this.dispose();
  }

  /** Gives the arena's memory back; the decoder cannot be used after. */
  private dispose(): void {
    arenas.unregister(this);
    this.arena.dispose();
  }

  /** Whether the model's weights are still the tensors this decoder read. */
  private current(): boolean {
    return (
      this.sources.every(({ tensor, dataId }) => !tensor.isDisposed && tensor.dataId === dataId) && this.sources.length === Decoder.sourcesOf(this.model).length
    );
  }

  private static sourcesOf(model: MiniGPT): Tensor[] {
    return [...model.stateDict().values(), model.embedding.weight, model.head.outputWeight];
  }

  constructor(private readonly model: MiniGPT) {
    const { nEmbd: channels, vocabSize } = model.config;
    const positions = model.positional;
    const rotaryDim = positions?.kind === 'rotary' ? positions.rotaryDim : 0;
    const hiddenWidth = BLOCK_LAYERS['mlp.c_fc'].outWidth * channels;
    const activations = [
      channels,
      channels,
      3 * channels,
      channels,
      hiddenWidth,
      vocabSize,
      rotaryDim,
      positions?.kind === 'attention-bias' ? model.config.nHead : 0,
    ];
    this.inPlace = tf.getBackend() === 'wasm';
    // Without the wasm backend every weight but the blocks' is copied in (the head once when tied).
    const inBlocksOrFinalNorm = (name: string) => name.startsWith('transformer.h.') || name.startsWith('transformer.ln_f.');
    const copies = this.inPlace
      ? []
      : [
          ...[...model.stateDict()].filter(([name]) => inBlocksOrFinalNorm(name)).map(([, v]) => v.size),
          model.embedding.weight.size,
          ...(model.head.outputWeight === model.embedding.weight ? [] : [model.head.outputWeight.size]),
        ];
    this.arena = new MatVecArena(MatVecArena.floatsFor([...copies, ...activations]), { onBackend: this.inPlace });
    arenas.register(this.model, this.arena, this);
    this.tokenScale = model.embedding.scale;
    this.bindWeights();
    [this.x, this.normed, this.qkv, this.attended, this.hidden, this.logits] = activations.slice(0, 6).map((length) => this.arena.allocate(length)) as [
      ArenaArray,
      ArenaArray,
      ArenaArray,
      ArenaArray,
      ArenaArray,
      ArenaArray,
    ];
    this.cosSin = rotaryDim > 0 ? this.arena.allocate(rotaryDim) : undefined;
    this.slopes = positions?.kind === 'attention-bias' ? this.arena.allocate(positions.slopes.length, positions.slopes) : undefined;
    this.cache = this.arena.allocate(0);
  }

  /** The weights as arrays of the arena: views of the model's tensors, or copies made once (the constructor). */
  private bindWeights(): void {
    const model = this.model;
    this.sources = Decoder.sourcesOf(model).map((tensor) => ({ tensor, dataId: tensor.dataId }));
    const state = model.stateDict();
    const weightOf = (tensor: Tensor) => (this.inPlace ? this.arena.view(tensor) : this.arena.allocate(tensor.size, tensor.dataSync()));
    const named = (name: string) => {
      const tensor = state.get(name);
      return tensor && weightOf(tensor);
    };
    const norm = (prefix: string): Norm => ({ weight: named(`${prefix}.weight`)!, bias: named(`${prefix}.bias`) });
    const denseOf = (prefix: string): Dense => {
      const [inFeatures, outFeatures] = state.get(`${prefix}.weight`)!.shape as [number, number];
      return { weight: named(`${prefix}.weight`)!, bias: named(`${prefix}.bias`), inFeatures, outFeatures };
    };
    this.layers = model.blocks.map(
      (_, i) =>
        Object.fromEntries(
          (Object.keys(BLOCK_LAYERS) as BlockLayerName[]).map((name) => {
            const prefix = `transformer.h.${i}.${name}`;
            return [name, BLOCK_LAYERS[name].kind === 'norm' ? norm(prefix) : denseOf(prefix)];
          }),
        ) as LayerWeights,
    );
    this.lnF = norm('transformer.ln_f');
    this.tokenTable = weightOf(model.embedding.weight);
    // Position rows are read from their tensors as positions are reached: a new table of them too.
    const positions = model.positional;
    if (positions?.kind === 'additive')
      this.positionRows = new PositionRows(
        positions,
        model.config.nEmbd,
        positions instanceof LearnedPositionalEmbedding ? positions.maxLength : Number.POSITIVE_INFINITY,
      );
    if (positions?.kind === 'rotary') {
      const scaling = positions.scaling;
      this.positionRows = new PositionRows(
        positions,
        positions.rotaryDim,
        scaling?.type === 'dynamic' ? scaling.originalMaxPositions : Number.POSITIVE_INFINITY,
      );
    }
    this.output = model.head.outputWeight === model.embedding.weight ? this.tokenTable : weightOf(model.head.outputWeight);
  }

  /** Empties the cache. */
  reset(): void {
    this.length = 0;
  }

  /** Room in the cache for `positions` positions: extended in place, each layer's rows moved to its new start (last layer first, so none is overwritten). */
  private reserve(positions: number): void {
    if (positions <= this.capacity) return;
    const rowStride = 2 * this.model.config.nEmbd;
    const [previous, layerFloats] = [this.capacity * rowStride, Math.max(positions, 2 * this.capacity, INITIAL_POSITIONS) * rowStride];
    this.cache = this.arena.extend(this.cache, this.layers.length * layerFloats);
    const rows = this.cache.values;
    for (let l = this.layers.length - 1; l > 0; l--) rows.copyWithin(l * layerFloats, l * previous, l * previous + this.length * rowStride);
    this.capacity = layerFloats / rowStride;
  }

  /**
   * Feeds a whole prompt into an empty cache with one batched forward pass (the model's products,
   * each weight read once for all the tokens, where `step` reads every weight once per token) and
   * returns the logits `[vocabSize]` after its last token. Its keys and values are copied into
   * the cache, so `step` continues from there.
   */
  prefill(tokens: number[]): Float32Array {
    if (this.length !== 0) throw new Error(`Decoder.prefill: the cache already holds ${this.length} positions; prefill starts a sequence`);
    if (tokens.length === 0) throw new Error('Decoder.prefill: no tokens');
    const { nEmbd: channels, nHead: heads } = this.model.config;
    const headDim = channels / heads;
    const rowStride = 2 * channels;
    const cache = this.model.createCache();
    try {
      const logits = tf.tidy(() => this.model.forward([tokens], { cache, logits: 'last' }).dataSync() as Float32Array);
      this.reserve(tokens.length);
      const rows = this.cache.values;
      const layerFloats = this.capacity * rowStride;
      for (const [index, layer] of cache.layers.entries()) {
        // The model keeps keys and values as [1, heads, positions, headDim]; a cache row is one
        // position's keys then values, heads side by side.
        const [k, v] = [layer!.k.dataSync(), layer!.v.dataSync()];
        for (let h = 0; h < heads; h++) {
          for (let p = 0; p < tokens.length; p++) {
            const from = (h * tokens.length + p) * headDim;
            const to = index * layerFloats + p * rowStride + h * headDim;
            rows.set(k.subarray(from, from + headDim), to);
            rows.set(v.subarray(from, from + headDim), to + channels);
          }
        }
      }
      this.length = tokens.length;
      return logits;
    } finally {
      this.model.disposeCache(cache);
    }
  }

  /** Feeds `token` at position `length` and returns the logits `[vocabSize]` for the next one. */
  step(token: number): Float32Array {
    // Weights assigned since (a training step between two tokens) are read where they are now;
    // the cache keeps what the earlier weights computed, as a cache does.
    if (this.inPlace && !this.current()) this.bindWeights();
    const { nEmbd: channels, nHead: heads, vocabSize, gelu } = this.model.config;
    const headDim = channels / heads;
    const position = this.length;
    const rowStride = 2 * channels;
    this.reserve(position + 1);
    const layerFloats = this.capacity * rowStride;
    const { arena, x, normed, qkv, attended, hidden, cache, cosSin, slopes } = this;
    const stream = x.values;
    const positionRow = this.positionRows?.row(position);
    const tokenRows = this.tokenTable.values;
    for (let i = 0; i < channels; i++) stream[i] = tokenRows[token * channels + i]! * this.tokenScale;
    if (this.model.positional?.kind === 'additive') for (let i = 0; i < channels; i++) stream[i]! += positionRow![i]!;
    const rotary = this.model.positional?.kind === 'rotary' ? this.model.positional : undefined;
    if (rotary) cosSin!.values.set(positionRow!);
    const [cos, sin] = rotary ? [cosSin!.subarray(0, rotary.rotaryDim / 2), cosSin!.subarray(rotary.rotaryDim / 2, rotary.rotaryDim / 2)] : [];
    const cacheRows = cache.values;
    for (const [index, layer] of this.layers.entries()) {
      const [attention, projection, fc, mlpProjection] = [layer['attn.c_attn'], layer['attn.c_proj'], layer['mlp.c_fc'], layer['mlp.c_proj']];
      arena.layerNorm(x, layer.ln_1.weight, layer.ln_1.bias, normed, channels, LAYER_NORM_EPSILON);
      arena.matVec(normed, attention.weight, attention.bias, qkv, channels, attention.outFeatures);
      if (rotary) arena.rotary(qkv, cos!, sin!, heads, headDim, rotary.rotaryDim, rotary.layout);
      // This position's keys and values join the cache; q attends over it.
      const layerStart = index * layerFloats;
      cacheRows.set(qkv.values.subarray(channels), layerStart + position * rowStride);
      const keys = cache.subarray(layerStart, layerFloats);
      const values = cache.subarray(layerStart + channels, layerFloats - channels);
      arena.attend(qkv, keys, values, slopes, attended, position + 1, heads, headDim, rowStride);
      arena.matVec(attended, projection.weight, projection.bias, x, channels, channels, true);
      arena.layerNorm(x, layer.ln_2.weight, layer.ln_2.bias, normed, channels, LAYER_NORM_EPSILON);
      arena.matVec(normed, fc.weight, fc.bias, hidden, channels, fc.outFeatures);
      arena.gelu(hidden, fc.outFeatures, gelu);
      arena.matVec(hidden, mlpProjection.weight, mlpProjection.bias, x, fc.outFeatures, channels, true);
    }
    arena.layerNorm(x, this.lnF.weight, this.lnF.bias, normed, channels, LAYER_NORM_EPSILON);
    arena.matVecTransposed(normed, this.output, undefined, this.logits, channels, vocabSize);
    this.length = position + 1;
    return Float32Array.from(this.logits.values);
  }
}
