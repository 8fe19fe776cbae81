// AssemblyScript, compiled twice (relaxed SIMD and plain SIMD) to the wasm modules behind the
// `EmbedlabMatMul` kernel: C[m, n] = op(A)[m, k] · op(B)[k, n] (+ bias[n]), GELU optionally
// applied in the same store, every operand row-major where tfjs keeps it on the backend's heap.
//
// The layout is GotoBLAS's (as in BLIS and XNNPACK): the right operand is packed, a block of
// KC rows at a time, into panels of NR = 8 columns (each row of a panel two v128s, contiguous);
// the left operand, MC rows at a time, into panels of MR rows (each column of a panel MR floats,
// contiguous). A 6x8 tile of C (5x8 in the plain build) then lives in twelve v128 registers while
// the micro-kernel walks one left panel (in L2) against one right panel (in L1): per step of k,
// two loads of B, six splats of A and twelve multiply-adds. A transposed operand is read transposed while it is
// packed, so no transposed copy is ever made. Packing pads short panels with zeros, so every tile
// is computed whole; a partial tile is written out through `tile` (scratch), one float at a time.
//
// `relaxed_madd` (one fused multiply-add, where the machine has FMA) in the relaxed build,
// multiply then add (and five rows a tile, see MR) in the plain one: the only differences.
//
// Scratch (packed panels and the tile) comes from the caller, `scratchFloats(m, k, n)` floats.
// The module must carry no data segment: it is instantiated on the backend's memory.

import { geluLanes, geluOne } from './shared/gelu';
import { transpose4x4 } from './shared/transpose4';

// Rows of a tile: six in the relaxed build (12 accumulators + 2 of B + 1 of A fill the 15 vector
// registers V8 gives wasm on x64), five in the plain one, whose multiply needs one more register
// (six rows spill there and run at half speed).
const MR: i32 = ASC_FEATURE_RELAXED_SIMD ? 6 : 5;
const NR = 8;
const KC = 256;
const MC = 120;
const NC = 4096;
/** The partial-tile scratch: all twelve accumulators, whatever MR is. */
const TILE_FLOATS = 6 * NR;

/** Epilogue flags of one K block's store. */
const ACCUMULATE = 1; // add to what an earlier K block stored
const BIAS = 2; // add bias[column] (the first K block)
const GELU = 4; // the last K block: write GELU(c) to y as well
const TANH = 8; // GELU's tanh form

function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  else return f32x4.add(f32x4.mul(a, b), c);
}

function roundUp(value: i32, multiple: i32): i32 {
  return ((value + multiple - 1) / multiple) * multiple;
}

/** The scratch `gemm` needs for these sizes, in floats: one packed block of each operand and a tile. */
export function scratchFloats(m: i32, k: i32, n: i32): i32 {
  const kc = min(KC, k);
  return kc * min(NC, roundUp(n, NR)) + kc * min(MC, roundUp(m, MR)) + TILE_FLOATS;
}

/** Packs op(B)[pc..pc+kc, jc..jc+nc] into NR-column panels: panel q, row p at packed + (q·kc + p)·NR. */
function packRight(b: usize, packed: usize, k: i32, n: i32, pc: i32, kc: i32, jc: i32, nc: i32, transposed: bool): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const cols = min(NR, nc - jr);
    const panel = packed + ((<usize>jr * kc) << 2);
    if (!transposed) {
      // B is [k, n]: each row of the panel is eight consecutive floats of a row of B.
      let source = b + ((<usize>pc * n + jc + jr) << 2);
      const rowBytes = (<usize>n) << 2;
      if (cols === NR) {
        for (let p = 0; p < kc; p++) {
          const at = panel + ((<usize>p) << 5);
          v128.store(at, v128.load(source));
          v128.store(at, v128.load(source, 16), 16);
          source += rowBytes;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          const at = panel + ((<usize>p) << 5);
          v128.store(at, f32x4.splat(0));
          v128.store(at, f32x4.splat(0), 16);
          for (let j = 0; j < cols; j++) store<f32>(at + ((<usize>j) << 2), load<f32>(source + ((<usize>j) << 2)));
          source += rowBytes;
        }
      }
    } else if (cols === NR) {
      // B is stored [n, k] (Bᵀ): columns j..j+3 of the panel are runs of four rows of the stored
      // matrix, turned by 4x4 transposes, four steps of k at a time.
      const kc4 = kc & ~3;
      const rowBytes = (<usize>k) << 2;
      for (let g = 0; g < NR; g += 4) {
        const source = b + ((<usize>(jc + jr + g) * k + pc) << 2);
        for (let p = 0; p < kc4; p += 4) {
          transpose4x4(source + ((<usize>p) << 2), rowBytes, panel + ((<usize>(p * NR + g)) << 2), NR << 2);
        }
        for (let p = kc4; p < kc; p++) {
          for (let j = g; j < g + 4; j++) {
            store<f32>(panel + ((<usize>(p * NR + j)) << 2), load<f32>(b + ((<usize>(jc + jr + j) * k + pc + p) << 2)));
          }
        }
      }
    } else {
      // The last, partial panel of a transposed B: one float at a time, zeros past the end.
      for (let j = 0; j < NR; j++) {
        if (j < cols) {
          const source = b + ((<usize>(jc + jr + j) * k + pc) << 2);
          for (let p = 0; p < kc; p++) store<f32>(panel + ((<usize>(p * NR + j)) << 2), load<f32>(source + ((<usize>p) << 2)));
        } else {
          for (let p = 0; p < kc; p++) store<f32>(panel + ((<usize>(p * NR + j)) << 2), 0);
        }
      }
    }
  }
}

/** Packs op(A)[ic..ic+mc, pc..pc+kc] into MR-row panels: panel q, column p at packed + (q·kc + p)·MR. */
function packLeft(a: usize, packed: usize, m: i32, k: i32, ic: i32, mc: i32, pc: i32, kc: i32, transposed: bool): void {
  for (let ir = 0; ir < mc; ir += MR) {
    const rows = min(MR, mc - ir);
    const panel = packed + ((<usize>ir * kc) << 2);
    if (!transposed && rows === MR) {
      // A is [m, k]: rows 0-3 of the panel are turned by 4x4 transposes, four steps of k at a
      // time, and stored as the first four floats of each column; the other rows one by one.
      const kc4 = kc & ~3;
      const rowBytes = (<usize>k) << 2;
      const source = a + ((<usize>(ic + ir) * k + pc) << 2);
      for (let p = 0; p < kc4; p += 4) {
        const at = source + ((<usize>p) << 2);
        const out = panel + ((<usize>(p * MR)) << 2);
        transpose4x4(at, rowBytes, out, MR << 2);
        for (let r = 4; r < MR; r++) {
          const row = at + <usize>r * rowBytes;
          for (let q = 0; q < 4; q++) store<f32>(out + ((<usize>(q * MR + r)) << 2), load<f32>(row + ((<usize>q) << 2)));
        }
      }
      for (let p = kc4; p < kc; p++) {
        for (let r = 0; r < MR; r++) store<f32>(panel + ((<usize>(p * MR + r)) << 2), load<f32>(source + <usize>r * rowBytes + ((<usize>p) << 2)));
      }
    } else if (!transposed) {
      // The last, partial panel: row r of the panel is a run of row ic + ir + r of A, zeros past the end.
      for (let r = 0; r < MR; r++) {
        if (r < rows) {
          const source = a + ((<usize>(ic + ir + r) * k + pc) << 2);
          for (let p = 0; p < kc; p++) store<f32>(panel + ((<usize>(p * MR + r)) << 2), load<f32>(source + ((<usize>p) << 2)));
        } else {
          for (let p = 0; p < kc; p++) store<f32>(panel + ((<usize>(p * MR + r)) << 2), 0);
        }
      }
    } else if (rows === MR) {
      // A is stored [k, m] (Aᵀ): column p of the panel is MR consecutive floats of row pc + p.
      for (let p = 0; p < kc; p++) {
        const source = a + ((<usize>(pc + p) * m + ic + ir) << 2);
        const at = panel + ((<usize>(p * MR)) << 2);
        v128.store(at, v128.load(source));
        for (let r = 4; r < MR; r++) store<f32>(at + ((<usize>r) << 2), load<f32>(source + ((<usize>r) << 2)));
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const source = a + ((<usize>(pc + p) * m + ic + ir) << 2);
        const at = panel + ((<usize>(p * MR)) << 2);
        for (let r = 0; r < MR; r++) store<f32>(at + ((<usize>r) << 2), r < rows ? load<f32>(source + ((<usize>r) << 2)) : 0);
      }
    }
  }
}

/**
 * The store of one full row of a tile (eight floats) with the block's epilogue. A static method because AssemblyScript's
 * `@inline` on a top-level function is not TypeScript, which the linter parses; inlined, as a call passing two v128s costs
 * ~3% of a product.
 */
// biome-ignore lint/complexity/noStaticOnlyClass: the only form of an inlined function both AssemblyScript and TypeScript parse
class Tile {
  @inline
  static finishRow(v0: v128, v1: v128, c: usize, y: usize, bias: usize, flags: i32): void {
    if (flags & ACCUMULATE) {
      v0 = f32x4.add(v0, v128.load(c));
      v1 = f32x4.add(v1, v128.load(c, 16));
    }
    if (flags & BIAS) {
      v0 = f32x4.add(v0, v128.load(bias));
      v1 = f32x4.add(v1, v128.load(bias, 16));
    }
    v128.store(c, v0);
    v128.store(c, v1, 16);
    if (flags & GELU) {
      const tanh = (flags & TANH) !== 0;
      v128.store(y, geluLanes(v0, tanh));
      v128.store(y, geluLanes(v1, tanh), 16);
    }
  }
}

/** A partial tile (`rows` × `cols` of the 6x8 held at `tile`, row stride 8) stored one float at a time with the block's epilogue. */
function finishPartial(tile: usize, c: usize, y: usize, bias: usize, ldc: usize, rows: i32, cols: i32, flags: i32): void {
  const tanh = (flags & TANH) !== 0;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) {
      const at = <usize>r * ldc + ((<usize>j) << 2);
      let v = load<f32>(tile + ((<usize>(r * NR + j)) << 2));
      if (flags & ACCUMULATE) v += load<f32>(c + at);
      if (flags & BIAS) v += load<f32>(bias + ((<usize>j) << 2));
      store<f32>(c + at, v);
      if (flags & GELU) store<f32>(y + at, geluOne(v, tanh));
    }
  }
}

/** One MRx8 tile of C from a left panel and a right panel, kc steps deep. */
function micro(pa: usize, pb: usize, kc: i32, c: usize, y: usize, bias: usize, ldc: usize, rows: i32, cols: i32, flags: i32, tile: usize): void {
  let c00 = f32x4.splat(0),
    c01 = f32x4.splat(0),
    c10 = f32x4.splat(0),
    c11 = f32x4.splat(0),
    c20 = f32x4.splat(0),
    c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0),
    c31 = f32x4.splat(0),
    c40 = f32x4.splat(0),
    c41 = f32x4.splat(0),
    c50 = f32x4.splat(0),
    c51 = f32x4.splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let x = v128.load32_splat(pa);
    c00 = madd(x, b0, c00);
    c01 = madd(x, b1, c01);
    x = v128.load32_splat(pa, 4);
    c10 = madd(x, b0, c10);
    c11 = madd(x, b1, c11);
    x = v128.load32_splat(pa, 8);
    c20 = madd(x, b0, c20);
    c21 = madd(x, b1, c21);
    x = v128.load32_splat(pa, 12);
    c30 = madd(x, b0, c30);
    c31 = madd(x, b1, c31);
    x = v128.load32_splat(pa, 16);
    c40 = madd(x, b0, c40);
    c41 = madd(x, b1, c41);
    if (MR > 5) {
      x = v128.load32_splat(pa, 20);
      c50 = madd(x, b0, c50);
      c51 = madd(x, b1, c51);
    }
    pa += MR << 2;
    pb += NR << 2;
  }
  if (rows === MR && cols === NR) {
    Tile.finishRow(c00, c01, c, y, bias, flags);
    Tile.finishRow(c10, c11, c + ldc, y + ldc, bias, flags);
    Tile.finishRow(c20, c21, c + 2 * ldc, y + 2 * ldc, bias, flags);
    Tile.finishRow(c30, c31, c + 3 * ldc, y + 3 * ldc, bias, flags);
    Tile.finishRow(c40, c41, c + 4 * ldc, y + 4 * ldc, bias, flags);
    if (MR > 5) Tile.finishRow(c50, c51, c + 5 * ldc, y + 5 * ldc, bias, flags);
  } else {
    v128.store(tile, c00);
    v128.store(tile, c01, 16);
    v128.store(tile, c10, 32);
    v128.store(tile, c11, 48);
    v128.store(tile, c20, 64);
    v128.store(tile, c21, 80);
    v128.store(tile, c30, 96);
    v128.store(tile, c31, 112);
    v128.store(tile, c40, 128);
    v128.store(tile, c41, 144);
    v128.store(tile, c50, 160);
    v128.store(tile, c51, 176);
    finishPartial(tile, c, y, bias, ldc, rows, cols, flags);
  }
}

/**
 * C[m, n] = op(A) · op(B) (+ bias), op(A) `[m, k]` (A stored `[k, m]` when `transposeA`), op(B)
 * `[k, n]` (B stored `[n, k]` when `transposeB`). `gelu` 0: C only; 1 (exact) or 2 (tanh): C holds
 * the pre-activation and y = GELU(C). `bias` is read only when `hasBias`. `scratch` holds
 * `scratchFloats(m, k, n)` floats.
 */
export function gemm(
  a: usize,
  b: usize,
  c: usize,
  y: usize,
  bias: usize,
  scratch: usize,
  m: i32,
  k: i32,
  n: i32,
  transposeA: bool,
  transposeB: bool,
  hasBias: bool,
  gelu: i32,
): void {
  const ldc = (<usize>n) << 2;
  const geluFlags = gelu === 0 ? 0 : gelu === 2 ? GELU | TANH : GELU;
  if (k === 0) {
    // An empty sum: C is the bias (or zero).
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        const at = <usize>i * ldc + ((<usize>j) << 2);
        const v: f32 = hasBias ? load<f32>(bias + ((<usize>j) << 2)) : 0;
        store<f32>(c + at, v);
        if (gelu !== 0) store<f32>(y + at, geluOne(v, gelu === 2));
      }
    }
    return;
  }
  const kcMax = min(KC, k);
  const packB = scratch;
  const packA = packB + ((<usize>kcMax * min(NC, roundUp(n, NR))) << 2);
  const tile = packA + ((<usize>kcMax * min(MC, roundUp(m, MR))) << 2);
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      packRight(b, packB, k, n, pc, kc, jc, nc, transposeB);
      const flags = (pc > 0 ? ACCUMULATE : 0) | (pc === 0 && hasBias ? BIAS : 0) | (pc + kc >= k ? geluFlags : 0);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        packLeft(a, packA, m, k, ic, mc, pc, kc, transposeA);
        for (let jr = 0; jr < nc; jr += NR) {
          const cols = min(NR, nc - jr);
          const pb = packB + ((<usize>jr * kc) << 2);
          const column = jc + jr;
          for (let ir = 0; ir < mc; ir += MR) {
            const at = <usize>(ic + ir) * ldc + ((<usize>column) << 2);
            micro(packA + ((<usize>ir * kc) << 2), pb, kc, c + at, y + at, bias + ((<usize>column) << 2), ldc, min(MR, mc - ir), cols, flags, tile);
          }
        }
      }
    }
  }
}
