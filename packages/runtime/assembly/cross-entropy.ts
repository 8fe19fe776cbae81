// AssemblyScript, compiled with SIMD to the wasm module behind `softmaxCrossEntropy`: the mean
// cross-entropy of logits [rows, n] against one target id per row, and its gradient, each in one
// pass over the logits (a row of GPT-2's 50,257 logits is read twice forward, once backward) with
// no softmax, log-softmax or one-hot matrix in between.

import { expLanes, exp } from './shared/exp';

/** Floats summed in f32 lanes before the partial sum moves to f64: keeps a 50,257-wide sum's rounding near f32's own. */
const CHUNK: i32 = 256;

/**
 * ln x for a positive finite f64 (a sum of exponentials, ≥ 1): Math.log reads a lookup table,
 * which would be a data segment. x = m·2^e with m in [√½, √2), ln m = 2·atanh(s), s = (m−1)/(m+1),
 * |s| ≤ 0.172: the odd series to s²¹ is exact to f64's last bits.
 */
function ln(x: f64): f64 {
  const bits = reinterpret<i64>(x);
  let e = <i32>((bits >> 52) & 0x7ff) - 1023;
  let m = reinterpret<f64>((bits & 0x000fffffffffffff) | 0x3ff0000000000000);
  if (m > Math.SQRT2) {
    m *= 0.5;
    e++;
  }
  const s = (m - 1) / (m + 1);
  const s2 = s * s;
  let series: f64 = 0;
  for (let k = 21; k >= 1; k -= 2) series = series * s2 + 1.0 / <f64>k;
  return <f64>e * Math.LN2 + 2 * s * series;
}

function rowMax(row: usize, n: i32): f32 {
  const vectorEnd = n & ~3;
  let lanes = f32x4.splat(-Infinity);
  for (let j = 0; j < vectorEnd; j += 4) lanes = f32x4.pmax(lanes, v128.load(row + ((<usize>j) << 2)));
  let max = Mathf.max(
    Mathf.max(f32x4.extract_lane(lanes, 0), f32x4.extract_lane(lanes, 1)),
    Mathf.max(f32x4.extract_lane(lanes, 2), f32x4.extract_lane(lanes, 3)),
  );
  for (let j = vectorEnd; j < n; j++) max = Mathf.max(max, load<f32>(row + ((<usize>j) << 2)));
  return max;
}

/** Σ e^(x - max) over a row, in f32 lanes per chunk and f64 across chunks. */
function rowSumExp(row: usize, n: i32, max: f32): f64 {
  const vectorEnd = n & ~3;
  const shift = f32x4.splat(max);
  let total: f64 = 0;
  for (let start = 0; start < vectorEnd; start += CHUNK) {
    const end = min(start + CHUNK, vectorEnd);
    let lanes = f32x4.splat(0);
    for (let j = start; j < end; j += 4) lanes = f32x4.add(lanes, expLanes(f32x4.sub(v128.load(row + ((<usize>j) << 2)), shift)));
    total += <f64>f32x4.extract_lane(lanes, 0) + <f64>f32x4.extract_lane(lanes, 1) + <f64>f32x4.extract_lane(lanes, 2) + <f64>f32x4.extract_lane(lanes, 3);
  }
  for (let j = vectorEnd; j < n; j++) total += <f64>exp(load<f32>(row + ((<usize>j) << 2)) - max);
  return total;
}

/**
 * Writes each row's log Σ e^x to `logSumExp` [rows] and, when `perRow`, each row's loss
 * logSumExp[i] - logits[i, targets[i]] to `losses` [rows]; returns the mean of the losses.
 * Targets are in [0, n) (checked by the caller).
 */
export function forward(logits: usize, targets: usize, logSumExp: usize, losses: usize, perRow: bool, rows: i32, n: i32): f32 {
  let total: f64 = 0;
  for (let i = 0; i < rows; i++) {
    const row = logits + ((<usize>i * n) << 2);
    const max = rowMax(row, n);
    const lse = <f64>max + ln(rowSumExp(row, n, max));
    const loss = lse - <f64>load<f32>(row + ((<usize>load<i32>(targets + ((<usize>i) << 2))) << 2));
    store<f32>(logSumExp + ((<usize>i) << 2), <f32>lse);
    if (perRow) store<f32>(losses + ((<usize>i) << 2), <f32>loss);
    total += loss;
  }
  return <f32>(total / <f64>rows);
}

/**
 * dLogits[i, j] = s_i·(softmax(logits[i])[j] - [j = targets[i]]), with s_i = dy[i] when
 * `perRow` (dy [rows], the losses' gradient), else dy[0] / rows (the mean's).
 */
export function backward(logits: usize, targets: usize, logSumExp: usize, dy: usize, perRow: bool, dLogits: usize, rows: i32, n: i32): void {
  const vectorEnd = n & ~3;
  const meanScale = load<f32>(dy) / <f32>rows;
  for (let i = 0; i < rows; i++) {
    const scale = perRow ? load<f32>(dy + ((<usize>i) << 2)) : meanScale;
    const scaleLanes = f32x4.splat(scale);
    const offset = (<usize>i * n) << 2;
    const row = logits + offset;
    const out = dLogits + offset;
    const lse = load<f32>(logSumExp + ((<usize>i) << 2));
    const shift = f32x4.splat(lse);
    for (let j = 0; j < vectorEnd; j += 4) {
      const at = (<usize>j) << 2;
      v128.store(out + at, f32x4.mul(expLanes(f32x4.sub(v128.load(row + at), shift)), scaleLanes));
    }
    for (let j = vectorEnd; j < n; j++) {
      const at = (<usize>j) << 2;
      store<f32>(out + at, exp(load<f32>(row + at) - lse) * scale);
    }
    const target = out + ((<usize>load<i32>(targets + ((<usize>i) << 2))) << 2);
    store<f32>(target, load<f32>(target) - scale);
  }
}
