import { matVecWasm } from './generated/mat-vec-wasm.js';

// Decoding one token at a time is a chain of matrix–vector products far too small for a tfjs op
// each (dispatch costs more than the arithmetic). An arena is a WebAssembly memory of its own,
// sized once, holding weights and activations as float32, with SIMD products
// (assembly/mat-vec.ts) called directly on addresses in it. Its views stay valid: it never grows.

interface Kernel {
  matVec(x: number, w: number, bias: number, out: number, inFeatures: number, outFeatures: number): void;
  matVecTransposed(x: number, w: number, bias: number, out: number, inFeatures: number, outFeatures: number): void;
  attend(
    q: number,
    keys: number,
    values: number,
    slopes: number,
    scores: number,
    out: number,
    length: number,
    heads: number,
    headDim: number,
    scale: number,
  ): void;
}

let compiled: WebAssembly.Module | undefined;

const PAGE_FLOATS = 65536 / Float32Array.BYTES_PER_ELEMENT;
/** Float offset 0..3 stays unused, so a bias address of 0 can mean "none". */
const RESERVED_FLOATS = 4;

/** A slice of an arena: its float offset and a view of it. */
export interface ArenaArray {
  offset: number;
  values: Float32Array;
}

/** A fixed-size float32 memory with SIMD matrix–vector products on it (for per-token decoding). */
export class MatVecArena {
  private readonly kernel: Kernel;
  private readonly memory: WebAssembly.Memory;
  private next = RESERVED_FLOATS;
  readonly capacity: number;

  /** Room for `floats` float32 values (each allocation is rounded up to 4 floats, 16 bytes). */
  constructor(floats: number) {
    if (!Number.isInteger(floats) || floats < 1) throw new RangeError(`MatVecArena: floats must be a positive integer, got ${floats}`);
    this.capacity = RESERVED_FLOATS + floats;
    this.memory = new WebAssembly.Memory({ initial: Math.ceil(this.capacity / PAGE_FLOATS) });
    compiled ??= new WebAssembly.Module(Uint8Array.from(atob(matVecWasm.plain), (c) => c.charCodeAt(0)));
    this.kernel = new WebAssembly.Instance(compiled, { env: { memory: this.memory } }).exports as unknown as Kernel;
  }

  /** Reserves `length` floats (zeros), optionally filled from `values`. */
  allocate(length: number, values?: ArrayLike<number>): ArenaArray {
    const rounded = Math.ceil(length / 4) * 4;
    if (this.next + rounded > this.capacity)
      throw new RangeError(
        `MatVecArena.allocate: ${length} floats do not fit (${this.capacity - this.next} of ${this.capacity} left); size the arena with MatVecArena.floatsFor`,
      );
    const array = { offset: this.next, values: new Float32Array(this.memory.buffer, this.next * 4, length) };
    if (values) array.values.set(values);
    this.next += rounded;
    return array;
  }

  /** Floats to reserve for arrays of these lengths (each rounded up as `allocate` does). */
  static floatsFor(lengths: number[]): number {
    return lengths.reduce((sum, length) => sum + Math.ceil(length / 4) * 4, 0);
  }

  /** out = x · w (+ bias), w `[inFeatures, outFeatures]` row-major. */
  matVec(x: ArenaArray, w: ArenaArray, bias: ArenaArray | undefined, out: ArenaArray, inFeatures: number, outFeatures: number): void {
    this.check('matVec', x, w, bias, out, inFeatures, outFeatures);
    this.kernel.matVec(x.offset * 4, w.offset * 4, bias ? bias.offset * 4 : 0, out.offset * 4, inFeatures, outFeatures);
  }

  /** out = x · wᵀ (+ bias), w `[outFeatures, inFeatures]` row-major (PyTorch's Linear layout, a tied head's). */
  matVecTransposed(x: ArenaArray, w: ArenaArray, bias: ArenaArray | undefined, out: ArenaArray, inFeatures: number, outFeatures: number): void {
    this.check('matVecTransposed', x, w, bias, out, inFeatures, outFeatures);
    this.kernel.matVecTransposed(x.offset * 4, w.offset * 4, bias ? bias.offset * 4 : 0, out.offset * 4, inFeatures, outFeatures);
  }

  /**
   * One query's attention over `length` cached positions, every head: out_h = Σ_j softmax_j(q_h·k_jh/√headDim
   * + slope_h·(j − (length − 1)))·v_jh. `keys` and `values` are `[≥ length, heads·headDim]`, heads side
   * by side; `slopes` `[heads]` (ALiBi) or undefined; `scores` scratch for `length` floats.
   */
  attend(
    q: ArenaArray,
    keys: ArenaArray,
    values: ArenaArray,
    slopes: ArenaArray | undefined,
    scores: ArenaArray,
    out: ArenaArray,
    length: number,
    heads: number,
    headDim: number,
  ): void {
    const channels = heads * headDim;
    if (
      q.values.length < channels ||
      out.values.length < channels ||
      keys.values.length < length * channels ||
      values.values.length < length * channels ||
      scores.values.length < length ||
      (slopes && slopes.values.length < heads)
    ) {
      throw new RangeError(`MatVecArena.attend: arrays too short for ${length} positions of ${heads} heads x ${headDim}`);
    }
    for (const [name, array] of [
      ['q', q],
      ['keys', keys],
      ['values', values],
      ['slopes', slopes],
      ['scores', scores],
      ['out', out],
    ] as const) {
      if (array && array.values.buffer !== this.memory.buffer) throw new Error(`MatVecArena.attend: ${name} was allocated by another arena`);
    }
    this.kernel.attend(
      q.offset * 4,
      keys.offset * 4,
      values.offset * 4,
      slopes ? slopes.offset * 4 : 0,
      scores.offset * 4,
      out.offset * 4,
      length,
      heads,
      headDim,
      1 / Math.sqrt(headDim),
    );
  }

  private check(op: string, x: ArenaArray, w: ArenaArray, bias: ArenaArray | undefined, out: ArenaArray, inFeatures: number, outFeatures: number): void {
    if (
      x.values.length < inFeatures ||
      w.values.length < inFeatures * outFeatures ||
      out.values.length < outFeatures ||
      (bias && bias.values.length < outFeatures)
    ) {
      throw new RangeError(
        `MatVecArena.${op}: arrays too short for [${inFeatures}] x [${inFeatures}, ${outFeatures}] (x ${x.values.length}, w ${w.values.length}, bias ${bias?.values.length ?? 'none'}, out ${out.values.length})`,
      );
    }
    for (const [name, array] of [
      ['x', x],
      ['w', w],
      ['bias', bias],
      ['out', out],
    ] as const) {
      if (array && array.values.buffer !== this.memory.buffer) throw new Error(`MatVecArena.${op}: ${name} was allocated by another arena`);
    }
  }
}
