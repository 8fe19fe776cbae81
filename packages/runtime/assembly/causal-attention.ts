// AssemblyScript, compiled with SIMD to the wasm module behind `causalAttention`.
// Causal self-attention read straight from a `[batch, seq, 3·C]` q|k|v projection and written
// as `[batch, seq, C]` (heads side by side, the layout the output projection reads): no head
// split, transpose or merge in between. Instantiated on the wasm backend's memory like
// gemm.ts; every pointer is a tfjs tensor or scratch from the backend's allocator. No
// data segment: exp comes from shared/exp.ts rather than Mathf.exp's lookup table.
//
// Per batch entry and head, every product (q·kᵀ, weights·v and the four of the backward pass) is
// `rowsTimes`: four rows of the result at a time, eight columns in vector registers, summed over
// the causal range only. A dot product per pair of positions (what this file did before) reloads
// and re-reduces its vectors for every pair: 6 GFLOP/s on a baby model's heads against ~20 here.

import { exp, expLanes } from './shared/exp';

/**
 * Which terms of Σ_k a block of four rows (i0..i0+3) sums: all, k < i0 + 4 (a causal row of a
 * lower-triangular operand), or k ≥ i0 (a causal column of one, read transposed).
 */
const ALL: i32 = 0;
const BELOW: i32 = 1;
const ABOVE: i32 = 2;

/**
 * c[i, j] = Σ_k a(i, k)·b[k, j] for i < m, j < n, over k in [0, kEnd) cut to `terms` (the terms
 * outside are zeros of a triangular operand); with `causalColumns`, only j < i0 + 4 for the
 * block of rows from i0 (the scores of causal pairs, and the few past the diagonal). a(i, k)
 * is at a + i·aRow + k·aColumn (bytes: a transposed operand is read in place by swapping the
 * two), b's rows are bRow bytes apart and contiguous, c's rows cRow bytes apart. Overwrites c.
 */
function rowsTimes(
  a: usize,
  aRow: usize,
  aColumn: usize,
  b: usize,
  bRow: usize,
  c: usize,
  cRow: usize,
  m: i32,
  columns: i32,
  kEnd: i32,
  terms: i32,
  causalColumns: bool,
): void {
  for (let i0 = 0; i0 < m; i0 += 4) {
    const rows = min(4, m - i0);
    const kFrom = terms === ABOVE ? i0 : 0;
    const kTo = terms === BELOW ? min(kEnd, i0 + 4) : kEnd;
    const n = causalColumns ? min(columns, i0 + 4) : columns;
    const a0 = a + <usize>i0 * aRow;
    const c0 = c + <usize>i0 * cRow;
    let j = 0;
    if (rows === 4) {
      for (; j + 8 <= n; j += 8) {
        let c00 = f32x4.splat(0),
          c01 = f32x4.splat(0),
          c10 = f32x4.splat(0),
          c11 = f32x4.splat(0);
        let c20 = f32x4.splat(0),
          c21 = f32x4.splat(0),
          c30 = f32x4.splat(0),
          c31 = f32x4.splat(0);
        for (let k = kFrom; k < kTo; k++) {
          const bk = b + <usize>k * bRow + ((<usize>j) << 2);
          const b0 = v128.load(bk);
          const b1 = v128.load(bk + 16);
          const ak = a0 + <usize>k * aColumn;
          const x0 = f32x4.splat(load<f32>(ak));
          const x1 = f32x4.splat(load<f32>(ak + aRow));
          const x2 = f32x4.splat(load<f32>(ak + 2 * aRow));
          const x3 = f32x4.splat(load<f32>(ak + 3 * aRow));
          c00 = f32x4.add(c00, f32x4.mul(x0, b0));
          c01 = f32x4.add(c01, f32x4.mul(x0, b1));
          c10 = f32x4.add(c10, f32x4.mul(x1, b0));
          c11 = f32x4.add(c11, f32x4.mul(x1, b1));
          c20 = f32x4.add(c20, f32x4.mul(x2, b0));
          c21 = f32x4.add(c21, f32x4.mul(x2, b1));
          c30 = f32x4.add(c30, f32x4.mul(x3, b0));
          c31 = f32x4.add(c31, f32x4.mul(x3, b1));
        }
        const at = c0 + ((<usize>j) << 2);
        v128.store(at, c00);
        v128.store(at + 16, c01);
        v128.store(at + cRow, c10);
        v128.store(at + cRow + 16, c11);
        v128.store(at + 2 * cRow, c20);
        v128.store(at + 2 * cRow + 16, c21);
        v128.store(at + 3 * cRow, c30);
        v128.store(at + 3 * cRow + 16, c31);
      }
      for (; j + 4 <= n; j += 4) {
        let s0 = f32x4.splat(0),
          s1 = f32x4.splat(0),
          s2 = f32x4.splat(0),
          s3 = f32x4.splat(0);
        for (let k = kFrom; k < kTo; k++) {
          const bk = v128.load(b + <usize>k * bRow + ((<usize>j) << 2));
          const ak = a0 + <usize>k * aColumn;
          s0 = f32x4.add(s0, f32x4.mul(f32x4.splat(load<f32>(ak)), bk));
          s1 = f32x4.add(s1, f32x4.mul(f32x4.splat(load<f32>(ak + aRow)), bk));
          s2 = f32x4.add(s2, f32x4.mul(f32x4.splat(load<f32>(ak + 2 * aRow)), bk));
          s3 = f32x4.add(s3, f32x4.mul(f32x4.splat(load<f32>(ak + 3 * aRow)), bk));
        }
        const at = c0 + ((<usize>j) << 2);
        v128.store(at, s0);
        v128.store(at + cRow, s1);
        v128.store(at + 2 * cRow, s2);
        v128.store(at + 3 * cRow, s3);
      }
    }
    // The columns left (and every column of a last block of fewer than four rows), one at a time.
    for (let r = 0; r < rows; r++) {
      for (let jj = rows === 4 ? j : 0; jj < n; jj++) {
        let sum: f32 = 0;
        for (let k = kFrom; k < kTo; k++) sum += load<f32>(a0 + <usize>r * aRow + <usize>k * aColumn) * load<f32>(b + <usize>k * bRow + ((<usize>jj) << 2));
        store<f32>(c0 + <usize>r * cRow + ((<usize>jj) << 2), sum);
      }
    }
  }
}

/** Copies `rows` rows of `columns` floats (rows `fromRow` bytes apart) into `to` as `columns` rows of `rows` floats. */
function transposeInto(from: usize, fromRow: usize, rows: i32, columns: i32, to: usize): void {
  for (let r = 0; r < rows; r++) {
    const row = from + <usize>r * fromRow;
    for (let d = 0; d < columns; d++) store<f32>(to + ((<usize>(d * rows + r)) << 2), load<f32>(row + ((<usize>d) << 2)));
  }
}

/**
 * Forward. For each batch entry and head: weights[i, j] = softmax_j≤i(q_i·k_j·scale + bias[h, i, j])
 * (0 for j > i), written to `weights` `[batch, heads, seq, seq]` for the backward pass; then
 * out_i = Σ_j weights[i, j]·keep[b, h, i, j]·v_j, where `keep` is dropout's scaled mask (0 when none).
 * `bias` `[heads, seq, seq]` is 0 when none. `scratch` holds seq·(headDim + seq) floats.
 */
export function forward(
  qkv: usize,
  bias: usize,
  keep: usize,
  out: usize,
  weights: usize,
  scratch: usize,
  batch: i32,
  seq: i32,
  heads: i32,
  headDim: i32,
  scale: f32,
): void {
  const channels = heads * headDim;
  const rowBytes = (<usize>channels * 3) << 2;
  const outRowBytes = (<usize>channels) << 2;
  const headBytes = (<usize>headDim) << 2;
  const seqBytes = (<usize>seq) << 2;
  const keysT = scratch;
  const kept = scratch + ((<usize>seq * headDim) << 2);
  for (let b = 0; b < batch; b++) {
    const qkvBatch = qkv + <usize>b * seq * rowBytes;
    for (let h = 0; h < heads; h++) {
      const headOffset = <usize>h * headBytes;
      const q = qkvBatch + headOffset;
      const k = q + outRowBytes;
      const v = k + outRowBytes;
      const plane = weights + ((<usize>(b * heads + h) * seq * seq) << 2);
      // Scores q·kᵀ of every causal pair (the rest of each four-row block is overwritten below).
      transposeInto(k, rowBytes, seq, headDim, keysT);
      rowsTimes(q, rowBytes, 4, keysT, seqBytes, plane, seqBytes, seq, seq, headDim, ALL, true);
      for (let i = 0; i < seq; i++) {
        const weightRow = plane + <usize>i * seqBytes;
        const biasRow = bias + ((<usize>(h * seq + i) * seq) << 2);
        const count = i + 1;
        const blockEnd = count & ~3;
        let maxes = f32x4.splat(<f32>-Infinity);
        for (let j = 0; j < blockEnd; j += 4) {
          let scores = f32x4.mul(v128.load(weightRow + ((<usize>j) << 2)), f32x4.splat(scale));
          if (bias !== 0) scores = f32x4.add(scores, v128.load(biasRow + ((<usize>j) << 2)));
          v128.store(weightRow + ((<usize>j) << 2), scores);
          maxes = f32x4.pmax(maxes, scores);
        }
        let max: f32 = Mathf.max(
          Mathf.max(f32x4.extract_lane(maxes, 0), f32x4.extract_lane(maxes, 1)),
          Mathf.max(f32x4.extract_lane(maxes, 2), f32x4.extract_lane(maxes, 3)),
        );
        for (let j = blockEnd; j < count; j++) {
          let score = load<f32>(weightRow + ((<usize>j) << 2)) * scale;
          if (bias !== 0) score += load<f32>(biasRow + ((<usize>j) << 2));
          store<f32>(weightRow + ((<usize>j) << 2), score);
          if (score > max) max = score;
        }
        let sums = f32x4.splat(0);
        for (let j = 0; j < blockEnd; j += 4) {
          const e = expLanes(f32x4.sub(v128.load(weightRow + ((<usize>j) << 2)), f32x4.splat(max)));
          v128.store(weightRow + ((<usize>j) << 2), e);
          sums = f32x4.add(sums, e);
        }
        let sum: f32 = f32x4.extract_lane(sums, 0) + f32x4.extract_lane(sums, 1) + f32x4.extract_lane(sums, 2) + f32x4.extract_lane(sums, 3);
        for (let j = blockEnd; j < count; j++) {
          const e = exp(load<f32>(weightRow + ((<usize>j) << 2)) - max);
          store<f32>(weightRow + ((<usize>j) << 2), e);
          sum += e;
        }
        const inverse = f32x4.splat(<f32>1.0 / sum);
        for (let j = 0; j < blockEnd; j += 4) {
          const at = (<usize>j) << 2;
          v128.store(weightRow + at, f32x4.mul(v128.load(weightRow + at), inverse));
        }
        for (let j = blockEnd; j < count; j++)
          store<f32>(weightRow + ((<usize>j) << 2), load<f32>(weightRow + ((<usize>j) << 2)) * f32x4.extract_lane(inverse, 0));
        for (let j = count; j < seq; j++) store<f32>(weightRow + ((<usize>j) << 2), 0);
        if (keep !== 0) {
          const keepRow = keep + ((<usize>(b * heads + h) * seq * seq) << 2) + <usize>i * seqBytes;
          const keptRow = kept + <usize>i * seqBytes;
          for (let j = 0; j < blockEnd; j += 4) {
            const at = (<usize>j) << 2;
            v128.store(keptRow + at, f32x4.mul(v128.load(weightRow + at), v128.load(keepRow + at)));
          }
          for (let j = blockEnd; j < count; j++)
            store<f32>(keptRow + ((<usize>j) << 2), load<f32>(weightRow + ((<usize>j) << 2)) * load<f32>(keepRow + ((<usize>j) << 2)));
          for (let j = count; j < seq; j++) store<f32>(keptRow + ((<usize>j) << 2), 0);
        }
      }
      // out = (weights ∘ keep)·v, heads side by side.
      rowsTimes(
        keep !== 0 ? kept : plane,
        seqBytes,
        4,
        v,
        rowBytes,
        out + <usize>b * seq * outRowBytes + headOffset,
        outRowBytes,
        seq,
        headDim,
        seq,
        BELOW,
        false,
      );
    }
  }
}

/**
 * Backward: d(qkv) `[batch, seq, 3·C]` from dOut `[batch, seq, C]`, the saved softmax `weights` and
 * the dropout mask. With P the weights and P' = P∘keep: dv = P'ᵀ·dOut; dP_ij = keep_ij·(dOut_i·v_j);
 * dS_ij = P_ij (dP_ij − Σ_l P_il dP_il)·scale; dq = dS·k; dk = dSᵀ·q. `scratch` holds
 * seq·(headDim + seq) floats.
 */
export function backward(
  qkv: usize,
  keep: usize,
  weights: usize,
  dOut: usize,
  dQkv: usize,
  scratch: usize,
  batch: i32,
  seq: i32,
  heads: i32,
  headDim: i32,
  scale: f32,
): void {
  const channels = heads * headDim;
  const rowBytes = (<usize>channels * 3) << 2;
  const outRowBytes = (<usize>channels) << 2;
  const headBytes = (<usize>headDim) << 2;
  const seqBytes = (<usize>seq) << 2;
  const valuesT = scratch;
  const dS = scratch + ((<usize>seq * headDim) << 2);
  for (let b = 0; b < batch; b++) {
    const qkvBatch = qkv + <usize>b * seq * rowBytes;
    const dQkvBatch = dQkv + <usize>b * seq * rowBytes;
    const dOutBatch = dOut + <usize>b * seq * outRowBytes;
    for (let h = 0; h < heads; h++) {
      const headOffset = <usize>h * headBytes;
      const q = qkvBatch + headOffset;
      const k = q + outRowBytes;
      const v = k + outRowBytes;
      const dO = dOutBatch + headOffset;
      const dq = dQkvBatch + headOffset;
      const dk = dq + outRowBytes;
      const dv = dk + outRowBytes;
      const plane = weights + ((<usize>(b * heads + h) * seq * seq) << 2);
      const keepPlane = keep + ((<usize>(b * heads + h) * seq * seq) << 2);
      // dv_j = Σ_i≥j P'_ij dOut_i: P'ᵀ read in place, P' made in dS's space first when dropout ran.
      let dropped = plane;
      if (keep !== 0) {
        const planeBytes = (<usize>seq * seq) << 2;
        const vectorBytes = planeBytes & ~15;
        for (let at: usize = 0; at < vectorBytes; at += 16) v128.store(dS + at, f32x4.mul(v128.load(plane + at), v128.load(keepPlane + at)));
        for (let at = vectorBytes; at < planeBytes; at += 4) store<f32>(dS + at, load<f32>(plane + at) * load<f32>(keepPlane + at));
        dropped = dS;
      }
      rowsTimes(dropped, 4, seqBytes, dO, outRowBytes, dv, rowBytes, seq, headDim, seq, ABOVE, false);
      // dOut·vᵀ for the causal pairs, then dS row by row (zero past the diagonal).
      transposeInto(v, rowBytes, seq, headDim, valuesT);
      rowsTimes(dO, outRowBytes, 4, valuesT, seqBytes, dS, seqBytes, seq, seq, headDim, ALL, true);
      for (let i = 0; i < seq; i++) {
        const dsRow = dS + <usize>i * seqBytes;
        const weightRow = plane + <usize>i * seqBytes;
        const keepRow = keepPlane + <usize>i * seqBytes;
        const count = i + 1;
        const blockEnd = count & ~3;
        let weightedLanes = f32x4.splat(0);
        for (let j = 0; j < blockEnd; j += 4) {
          const at = (<usize>j) << 2;
          const dP = keep !== 0 ? f32x4.mul(v128.load(dsRow + at), v128.load(keepRow + at)) : v128.load(dsRow + at);
          v128.store(dsRow + at, dP);
          weightedLanes = f32x4.add(weightedLanes, f32x4.mul(v128.load(weightRow + at), dP));
        }
        let weighted: f32 =
          f32x4.extract_lane(weightedLanes, 0) +
          f32x4.extract_lane(weightedLanes, 1) +
          f32x4.extract_lane(weightedLanes, 2) +
          f32x4.extract_lane(weightedLanes, 3);
        for (let j = blockEnd; j < count; j++) {
          const at = (<usize>j) << 2;
          const dP = keep !== 0 ? load<f32>(dsRow + at) * load<f32>(keepRow + at) : load<f32>(dsRow + at);
          store<f32>(dsRow + at, dP);
          weighted += load<f32>(weightRow + at) * dP;
        }
        const weightedSplat = f32x4.splat(weighted);
        const scaleSplat = f32x4.splat(scale);
        for (let j = 0; j < blockEnd; j += 4) {
          const at = (<usize>j) << 2;
          v128.store(dsRow + at, f32x4.mul(f32x4.mul(v128.load(weightRow + at), f32x4.sub(v128.load(dsRow + at), weightedSplat)), scaleSplat));
        }
        for (let j = blockEnd; j < count; j++) {
          const at = (<usize>j) << 2;
          store<f32>(dsRow + at, load<f32>(weightRow + at) * (load<f32>(dsRow + at) - weighted) * scale);
        }
        for (let j = count; j < seq; j++) store<f32>(dsRow + ((<usize>j) << 2), 0);
      }
      rowsTimes(dS, seqBytes, 4, k, rowBytes, dq, rowBytes, seq, headDim, seq, BELOW, false);
      rowsTimes(dS, 4, seqBytes, q, rowBytes, dk, rowBytes, seq, headDim, seq, ABOVE, false);
    }
  }
}
