import * as tf from '@tensorflow/tfjs-core';
import { matVecWasm } from './generated/mat-vec-wasm.js';
import { backendMemory, moduleOnMemory } from './kernels/wasm/module-on-memory.js';
import type { WasmBackend } from './kernels/wasm/wasm-backend.js';

// Decoding one token at a time is a chain of steps far too small for a tfjs op each (dispatch
// costs more than the arithmetic). An arena holds activations and the KV cache as float32, with
// SIMD kernels (assembly/mat-vec.ts: products, LayerNorm, GELU, RoPE, attention) called directly
// on addresses in it: a token's pass through a block is a handful of wasm calls and no JS loop
// over its floats. It is a WebAssembly memory of its own (weights copied in), or a block of the
// wasm backend's heap, where `view(tensor)` reads a model's weights where tfjs keeps them: no
// copy (GPT-2 small's decoder held 650 MB of copies).

interface Kernel {
  matVec(x: number, w: number, bias: number, out: number, inFeatures: number, outFeatures: number, accumulate: boolean): void;
  matVecTransposed(x: number, w: number, bias: number, out: number, inFeatures: number, outFeatures: number): void;
  attend(
    q: number,
    keys: number,
    values: number,
    rowStride: number,
    slopes: number,
    out: number,
    length: number,
    heads: number,
    headDim: number,
    scale: number,
  ): void;
  layerNorm(x: number, weight: number, bias: number, out: number, moments: number, width: number, epsilon: number): void;
  gelu(x: number, length: number, tanh: boolean): void;
  rotary(qk: number, cos: number, sin: number, heads: number, headDim: number, rotaryDim: number, interleaved: boolean): void;
}

let compiled: WebAssembly.Module | undefined;

const PAGE_BYTES = 65536;
/** An arena's first 8 floats: in a memory of its own, floats 0..3 stay unused (an address of 0 means "none"); 4..7 are LayerNorm's scratch. */
const RESERVED_FLOATS = 8;
const BYTES = Float32Array.BYTES_PER_ELEMENT;

const rounded = (length: number) => Math.ceil(length / 4) * 4;

/** A slice of an arena: its float offset, its length and a view of it (valid across `extend`). */
export class ArenaArray {
  private view: Float32Array | undefined;
  constructor(
    readonly arena: MatVecArena,
    readonly offset: number,
    readonly length: number,
  ) {}

  /** `length` floats from `start` on, sharing this array's memory. */
  subarray(start: number, length: number): ArenaArray {
    if (!(Number.isInteger(start) && Number.isInteger(length) && start >= 0 && length >= 0 && start + length <= this.length))
      throw new RangeError(`ArenaArray.subarray: [${start}, ${start + length}) is outside an array of ${this.length} floats`);
    return new ArenaArray(this.arena, this.offset + start, length);
  }

  get values(): Float32Array {
    // Growing the memory detaches every view of it: make a new one when that happened.
    if (this.view?.buffer !== this.arena.buffer) this.view = new Float32Array(this.arena.buffer, this.offset * 4, this.length);
    return this.view;
  }
}

export interface ArenaOptions {
  /**
   * Put the arena in a block of the wasm backend's heap (`ready({ backend: 'wasm' })` first), where
   * `view` can read tensors in place. Free it with `dispose()`.
   */
  onBackend?: boolean;
}

/** A float32 memory with SIMD decoding kernels on it (matrix–vector products, LayerNorm, GELU, RoPE, cached attention). */
export class MatVecArena {
  private readonly kernel: Kernel;
  private readonly memory: WebAssembly.Memory;
  /** The wasm backend, for an arena on its heap. */
  private readonly backend: WasmBackend | undefined;
  /** The backend heap's block (bytes), 0 for an arena with a memory of its own. */
  private readonly block: number;
  /** A block of the backend's heap that `extend` moved the last allocation into (bytes), or 0. */
  private grown = 0;
  private readonly moments: number;
  private next: number;
  private last: ArenaArray | undefined;
  private disposed = false;
  /** The float index past the last one it can hold before `extend` has to grow (or move) an allocation. */
  capacity: number;

  /** Room for `floats` float32 values (each allocation is rounded up to 4 floats, 16 bytes). */
  constructor(floats: number, { onBackend = false }: ArenaOptions = {}) {
    if (!Number.isInteger(floats) || floats < 1) throw new RangeError(`MatVecArena: floats must be a positive integer, got ${floats}`);
    if (onBackend) {
      if (tf.getBackend() !== 'wasm') throw new Error(`MatVecArena: onBackend needs the wasm backend, and tfjs runs on ${tf.getBackend()}`);
      this.backend = tf.backend() as unknown as WasmBackend;
      this.block = this.backend.wasm._malloc((RESERVED_FLOATS + floats) * BYTES);
      if (this.block === 0) throw new RangeError(`MatVecArena: the wasm heap has no room for ${floats} floats`);
      this.memory = backendMemory(this.backend, 'MatVecArena');
      this.kernel = moduleOnMemory<Kernel>(this.memory, matVecWasm);
    } else {
      this.block = 0;
      this.memory = new WebAssembly.Memory({ initial: Math.ceil(((RESERVED_FLOATS + floats) * BYTES) / PAGE_BYTES) });
      compiled ??= new WebAssembly.Module(Uint8Array.from(atob(matVecWasm.plain), (c) => c.charCodeAt(0)));
      this.kernel = new WebAssembly.Instance(compiled, { env: { memory: this.memory } }).exports as unknown as Kernel;
    }
    const start = this.block / BYTES;
    this.moments = (start + 4) * BYTES;
    this.next = start + RESERVED_FLOATS;
    this.capacity = start + RESERVED_FLOATS + floats;
  }

  /** The memory's current buffer (replaced when it grows). */
  get buffer(): ArrayBuffer | SharedArrayBuffer {
    return this.memory.buffer;
  }

  /** Reserves `length` floats (zeros), optionally filled from `values`. */
  allocate(length: number, values?: ArrayLike<number>): ArenaArray {
    this.own('allocate');
    if (this.next + rounded(length) > this.capacity)
      throw new RangeError(`MatVecArena.allocate: ${length} floats do not fit (${this.capacity - this.next} left); size the arena with MatVecArena.floatsFor`);
    const array = new ArenaArray(this, this.next, length);
    if (this.block !== 0) array.values.fill(0);
    if (values) array.values.set(values);
    this.next += rounded(length);
    this.last = array;
    return array;
  }

  /**
   * A float32 tensor's data where the wasm backend keeps it, as an array of this arena (which must
   * be on the backend's heap): no copy. Valid while the tensor lives; tfjs tensors never change
   * their data, but a variable's `assign` gives it new data (read it again then).
   */
  view(tensor: tf.Tensor): ArenaArray {
    if (!this.backend) throw new Error('MatVecArena.view: only an arena on the wasm backend (onBackend) can read tensors in place');
    if (tensor.isDisposed || tensor.dtype !== 'float32' || !this.backend.dataIdMap.has(tensor.dataId))
      throw new Error(
        `MatVecArena.view: the tensor must be a live float32 tensor on the wasm backend, got ${tensor.isDisposed ? 'a disposed tensor' : `a ${tensor.dtype} tensor${this.backend.dataIdMap.has(tensor.dataId) ? '' : ' on another backend'}`}`,
      );
    return new ArenaArray(this, this.backend.getMemoryOffset(tensor.dataId) / BYTES, tensor.size);
  }

  /**
   * The last allocation made longer (a KV cache that grows), its contents kept and the new part
   * zeros: in place while it fits, else the memory grows (its own) or the allocation moves to a
   * larger block of the heap (on the backend). The returned array replaces `array`.
   */
  extend(array: ArenaArray, length: number): ArenaArray {
    this.own('extend', array);
    if (array !== this.last) throw new Error('MatVecArena.extend: only the last allocation can be extended');
    if (length < array.length) throw new RangeError(`MatVecArena.extend: ${length} floats is shorter than the array's ${array.length}`);
    let offset = array.offset;
    const end = offset + rounded(length);
    if (end > this.capacity && this.backend) {
      const moved = this.backend.wasm._malloc(rounded(length) * BYTES);
      if (moved === 0) throw new RangeError(`MatVecArena.extend: the wasm heap has no room for ${length} floats`);
      offset = moved / BYTES;
      const values = new Float32Array(this.memory.buffer, moved, rounded(length));
      values.fill(0);
      values.set(array.values);
      if (this.grown !== 0) this.backend.wasm._free(this.grown);
      this.grown = moved;
      this.capacity = offset + rounded(length);
    } else if (end > this.capacity) {
      const pages = Math.ceil((end * BYTES - this.memory.buffer.byteLength) / PAGE_BYTES);
      if (pages > 0) this.memory.grow(pages);
      this.capacity = this.memory.buffer.byteLength / BYTES;
    } else if (this.backend) new Float32Array(this.memory.buffer, (offset + array.length) * BYTES, length - array.length).fill(0);
    this.next = offset + rounded(length);
    this.last = new ArenaArray(this, offset, length);
    return this.last;
  }

  /** Gives an arena on the backend's heap its blocks back (nothing to do for one with a memory of its own); it cannot be used after. */
  dispose(): void {
    if (!this.backend) return;
    if (this.grown !== 0) this.backend.wasm._free(this.grown);
    if (this.block !== 0) this.backend.wasm._free(this.block);
    this.grown = 0;
    this.disposed = true;
  }

  /** Floats to reserve for arrays of these lengths (each rounded up as `allocate` does). */
  static floatsFor(lengths: number[]): number {
    return lengths.reduce((sum, length) => sum + rounded(length), 0);
  }

  /** out = x · w (+ bias), w `[inFeatures, outFeatures]` row-major; `accumulate` adds it to out (a residual connection). */
  matVec(x: ArenaArray, w: ArenaArray, bias: ArenaArray | undefined, out: ArenaArray, inFeatures: number, outFeatures: number, accumulate = false): void {
    this.checkProduct('matVec', x, w, bias, out, inFeatures, outFeatures);
    this.kernel.matVec(x.offset * 4, w.offset * 4, address(bias), out.offset * 4, inFeatures, outFeatures, accumulate);
  }

  /** out = x · wᵀ (+ bias), w `[outFeatures, inFeatures]` row-major (PyTorch's Linear layout, a tied head's). */
  matVecTransposed(x: ArenaArray, w: ArenaArray, bias: ArenaArray | undefined, out: ArenaArray, inFeatures: number, outFeatures: number): void {
    this.checkProduct('matVecTransposed', x, w, bias, out, inFeatures, outFeatures);
    this.kernel.matVecTransposed(x.offset * 4, w.offset * 4, address(bias), out.offset * 4, inFeatures, outFeatures);
  }

  /**
   * One query's attention over `length` cached positions, every head: out_h = Σ_j softmax_j(q_h·k_jh/√headDim
   * + slope_h·(j − (length − 1)))·v_jh. Position j's keys start at `keys.offset + j·rowStride` (values
   * likewise), heads side by side; `rowStride` defaults to heads·headDim. `slopes` `[heads]` (ALiBi) or undefined.
   */
  attend(
    q: ArenaArray,
    keys: ArenaArray,
    values: ArenaArray,
    slopes: ArenaArray | undefined,
    out: ArenaArray,
    length: number,
    heads: number,
    headDim: number,
    rowStride = heads * headDim,
  ): void {
    const channels = heads * headDim;
    const span = (length - 1) * rowStride + channels;
    if (
      q.length < channels ||
      out.length < channels ||
      keys.length < span ||
      values.length < span ||
      (slopes && slopes.length < heads) ||
      rowStride < channels
    ) {
      throw new RangeError(`MatVecArena.attend: arrays too short for ${length} positions of ${heads} heads x ${headDim} (row stride ${rowStride})`);
    }
    this.own('attend', q, keys, values, slopes, out);
    this.kernel.attend(
      q.offset * 4,
      keys.offset * 4,
      values.offset * 4,
      rowStride,
      address(slopes),
      out.offset * 4,
      length,
      heads,
      headDim,
      1 / Math.sqrt(headDim),
    );
  }

  /** out = (x − mean(x))/√(var(x) + epsilon)·weight + bias over `width` floats (float32 moments, as tfjs's LayerNorm kernel). */
  layerNorm(x: ArenaArray, weight: ArenaArray, bias: ArenaArray | undefined, out: ArenaArray, width: number, epsilon: number): void {
    if (x.length < width || weight.length < width || out.length < width || (bias && bias.length < width))
      throw new RangeError(`MatVecArena.layerNorm: arrays too short for width ${width}`);
    this.own('layerNorm', x, weight, bias, out);
    this.kernel.layerNorm(x.offset * 4, weight.offset * 4, address(bias), out.offset * 4, this.moments, width, epsilon);
  }

  /** x = GELU(x) in place on its first `length` floats: exact (erf) or GPT-2's tanh approximation. */
  gelu(x: ArenaArray, length: number, kind: 'exact' | 'tanh'): void {
    if (x.length < length) throw new RangeError(`MatVecArena.gelu: ${length} floats asked of an array of ${x.length}`);
    this.own('gelu', x);
    this.kernel.gelu(x.offset * 4, length, kind === 'tanh');
  }

  /**
   * RoPE in place on one position's q and k: `qk` starts with `2·heads` rows of `headDim` (q's heads,
   * then k's), each rotated on its first `rotaryDim` dimensions by `cos`, `sin` (`rotaryDim / 2` each);
   * `'half'` pairs i with i + rotaryDim/2, `'interleaved'` 2i with 2i + 1.
   */
  rotary(qk: ArenaArray, cos: ArenaArray, sin: ArenaArray, heads: number, headDim: number, rotaryDim: number, layout: 'half' | 'interleaved'): void {
    if (rotaryDim % 2 !== 0 || rotaryDim > headDim)
      throw new RangeError(`MatVecArena.rotary: rotaryDim must be even and at most headDim ${headDim}, got ${rotaryDim}`);
    if (qk.length < 2 * heads * headDim || cos.length < rotaryDim / 2 || sin.length < rotaryDim / 2)
      throw new RangeError(`MatVecArena.rotary: arrays too short for ${heads} heads x ${headDim} rotated on ${rotaryDim}`);
    this.own('rotary', qk, cos, sin);
    this.kernel.rotary(qk.offset * 4, cos.offset * 4, sin.offset * 4, heads, headDim, rotaryDim, layout === 'interleaved');
  }

  private checkProduct(op: string, x: ArenaArray, w: ArenaArray, bias: ArenaArray | undefined, out: ArenaArray, inFeatures: number, outFeatures: number): void {
    if (x.length < inFeatures || w.length < inFeatures * outFeatures || out.length < outFeatures || (bias && bias.length < outFeatures)) {
      throw new RangeError(
        `MatVecArena.${op}: arrays too short for [${inFeatures}] x [${inFeatures}, ${outFeatures}] (x ${x.length}, w ${w.length}, bias ${bias?.length ?? 'none'}, out ${out.length})`,
      );
    }
    this.own(op, x, w, bias, out);
  }

  private own(op: string, ...arrays: (ArenaArray | undefined)[]): void {
    if (this.disposed) throw new Error(`MatVecArena.${op}: the arena was disposed`);
    for (const array of arrays) if (array && array.arena !== this) throw new Error(`MatVecArena.${op}: an array was allocated by another arena`);
  }
}

function address(array: ArenaArray | undefined): number {
  return array ? array.offset * 4 : 0;
}
