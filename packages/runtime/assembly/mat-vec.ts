// AssemblyScript, compiled with SIMD to the wasm module behind `MatVecArena`: one token's pass
// through a decoder block (LayerNorm, matrix–vector products, RoPE, attention over the KV cache,
// GELU), where a tfjs op per step would cost more in dispatch than in arithmetic. Instantiated on
// a memory the arena owns; pointers are byte addresses in it, 0 for "none". No data segment (see
// scripts/build-kernels.mjs).

import { exp, expLanes } from './shared/exp';
import { addScaled, dot, dot4 } from './shared/vector';
import { forward as geluForward } from './gelu';
import { forward as layerNormForward } from './layer-norm';

/**
 * out[j] = bias[j] + Σ_i x[i]·w[i, j], w `[inFeatures, outFeatures]` row-major, added to out[j] when
 * `accumulate` (a residual connection). The weight is read once, in order, eight rows at a time
 * (out stays in L1 and the rows stream from memory, which is what bounds GPT-2-sized products).
 */
export function matVec(x: usize, w: usize, bias: usize, out: usize, inFeatures: i32, outFeatures: i32, accumulate: bool): void {
  const rowBytes = (<usize>outFeatures) << 2;
  const vectorEnd = outFeatures & ~3;
  if (!accumulate) memory.fill(out, 0, rowBytes);
  if (bias !== 0) addScaled(out, bias, 1, outFeatures);
  const rowsEnd = inFeatures & ~7;
  for (let i = 0; i < rowsEnd; i += 8) {
    const w0 = w + <usize>i * rowBytes;
    const xs = x + ((<usize>i) << 2);
    const x0 = f32x4.splat(load<f32>(xs)),
      x1 = f32x4.splat(load<f32>(xs, 4)),
      x2 = f32x4.splat(load<f32>(xs, 8)),
      x3 = f32x4.splat(load<f32>(xs, 12)),
      x4 = f32x4.splat(load<f32>(xs, 16)),
      x5 = f32x4.splat(load<f32>(xs, 20)),
      x6 = f32x4.splat(load<f32>(xs, 24)),
      x7 = f32x4.splat(load<f32>(xs, 28));
    for (let j = 0; j < vectorEnd; j += 4) {
      const at = w0 + ((<usize>j) << 2);
      const a = f32x4.add(f32x4.mul(x0, v128.load(at)), f32x4.mul(x1, v128.load(at + rowBytes)));
      const b = f32x4.add(f32x4.mul(x2, v128.load(at + 2 * rowBytes)), f32x4.mul(x3, v128.load(at + 3 * rowBytes)));
      const c = f32x4.add(f32x4.mul(x4, v128.load(at + 4 * rowBytes)), f32x4.mul(x5, v128.load(at + 5 * rowBytes)));
      const d = f32x4.add(f32x4.mul(x6, v128.load(at + 6 * rowBytes)), f32x4.mul(x7, v128.load(at + 7 * rowBytes)));
      const o = out + ((<usize>j) << 2);
      v128.store(o, f32x4.add(v128.load(o), f32x4.add(f32x4.add(a, b), f32x4.add(c, d))));
    }
    for (let j = vectorEnd; j < outFeatures; j++) {
      let sum: f32 = 0;
      for (let r = 0; r < 8; r++) sum += load<f32>(xs + ((<usize>r) << 2)) * load<f32>(w0 + <usize>r * rowBytes + ((<usize>j) << 2));
      store<f32>(out + ((<usize>j) << 2), load<f32>(out + ((<usize>j) << 2)) + sum);
    }
  }
  for (let i = rowsEnd; i < inFeatures; i++) addScaled(out, w + <usize>i * rowBytes, load<f32>(x + ((<usize>i) << 2)), outFeatures);
}

/**
 * out[j] = bias[j] + Σ_i x[i]·w[j, i], w `[outFeatures, inFeatures]` (PyTorch's layout, a tied
 * head's): four rows at a time (dot4), sharing every load of x.
 */
export function matVecTransposed(x: usize, w: usize, bias: usize, out: usize, inFeatures: i32, outFeatures: i32): void {
  const rowBytes = (<usize>inFeatures) << 2;
  const blockEnd = outFeatures & ~3;
  for (let j = 0; j < blockEnd; j += 4) {
    let sums = dot4(x, w + <usize>j * rowBytes, rowBytes, inFeatures);
    if (bias !== 0) sums = f32x4.add(sums, v128.load(bias + ((<usize>j) << 2)));
    v128.store(out + ((<usize>j) << 2), sums);
  }
  for (let j = blockEnd; j < outFeatures; j++) {
    const sum = dot(x, w + <usize>j * rowBytes, inFeatures);
    store<f32>(out + ((<usize>j) << 2), bias !== 0 ? sum + load<f32>(bias + ((<usize>j) << 2)) : sum);
  }
}

/**
 * One query's attention over `length` cached positions, every head: for head h,
 * out_h = Σ_j softmax_j(q_h·k_jh·scale + slope_h·(j − (length − 1)))·v_jh. Row j of keys (and of
 * values) starts `rowStride` floats after row j − 1, heads side by side in it; `slopes` `[heads]`
 * ALiBi's (0: none). One pass with a running maximum (the online softmax), so no scratch for the
 * scores: the sum and the output are rescaled whenever the maximum rises.
 */
export function attend(
  q: usize,
  keys: usize,
  values: usize,
  rowStride: i32,
  slopes: usize,
  out: usize,
  length: i32,
  heads: i32,
  headDim: i32,
  scale: f32,
): void {
  const rowBytes = (<usize>rowStride) << 2;
  const headBytes = (<usize>headDim) << 2;
  for (let h = 0; h < heads; h++) {
    const head = <usize>h * headBytes;
    const target = out + head;
    memory.fill(target, 0, headBytes);
    const slope: f32 = slopes !== 0 ? load<f32>(slopes + ((<usize>h) << 2)) : 0;
    let max: f32 = <f32>-Infinity;
    let sum: f32 = 0;
    // Four positions at a time: their scores (dot4), the running maximum raised once per block,
    // their weights four lanes at a time; then the rest one by one.
    const blockEnd = length & ~3;
    const positionsBack = f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(0), 1, 1), 2, 2), 3, 3);
    for (let j = 0; j < blockEnd; j += 4) {
      const row = <usize>j * rowBytes + head;
      let scores = f32x4.mul(dot4(q + head, keys + row, rowBytes, headDim), f32x4.splat(scale));
      if (slopes !== 0) scores = f32x4.add(scores, f32x4.mul(f32x4.splat(slope), f32x4.add(f32x4.splat(<f32>(j - (length - 1))), positionsBack)));
      const blockMax = Mathf.max(
        Mathf.max(f32x4.extract_lane(scores, 0), f32x4.extract_lane(scores, 1)),
        Mathf.max(f32x4.extract_lane(scores, 2), f32x4.extract_lane(scores, 3)),
      );
      if (blockMax > max) {
        const shrink = exp(max - blockMax);
        sum *= shrink;
        scaleInPlace(target, shrink, headDim);
        max = blockMax;
      }
      const weights = expLanes(f32x4.sub(scores, f32x4.splat(max)));
      sum += f32x4.extract_lane(weights, 0) + f32x4.extract_lane(weights, 1) + f32x4.extract_lane(weights, 2) + f32x4.extract_lane(weights, 3);
      addScaled(target, values + row, f32x4.extract_lane(weights, 0), headDim);
      addScaled(target, values + row + rowBytes, f32x4.extract_lane(weights, 1), headDim);
      addScaled(target, values + row + 2 * rowBytes, f32x4.extract_lane(weights, 2), headDim);
      addScaled(target, values + row + 3 * rowBytes, f32x4.extract_lane(weights, 3), headDim);
    }
    for (let j = blockEnd; j < length; j++) {
      const row = <usize>j * rowBytes + head;
      const score = dot(q + head, keys + row, headDim) * scale + slope * <f32>(j - (length - 1));
      if (score > max) {
        const shrink = exp(max - score);
        sum *= shrink;
        scaleInPlace(target, shrink, headDim);
        max = score;
      }
      const weight = exp(score - max);
      sum += weight;
      addScaled(target, values + row, weight, headDim);
    }
    scaleInPlace(target, <f32>1 / sum, headDim);
  }
}

function scaleInPlace(x: usize, factor: f32, length: i32): void {
  const vectorEnd = length & ~3;
  const splat = f32x4.splat(factor);
  for (let d = 0; d < vectorEnd; d += 4) v128.store(x + ((<usize>d) << 2), f32x4.mul(splat, v128.load(x + ((<usize>d) << 2))));
  for (let d = vectorEnd; d < length; d++) store<f32>(x + ((<usize>d) << 2), factor * load<f32>(x + ((<usize>d) << 2)));
}

/** out = (x − mean)·rstd·weight + bias over `width` floats (bias 0: none); `moments` is scratch for 2 floats. */
export function layerNorm(x: usize, weight: usize, bias: usize, out: usize, moments: usize, width: i32, epsilon: f32): void {
  layerNormForward(x, weight, bias, out, moments, moments + 4, 1, width, epsilon);
}

/** x = GELU(x) in place, `length` floats, exact or GPT-2's tanh form (`tanh`). */
export function gelu(x: usize, length: i32, tanh: bool): void {
  geluForward(x, x, length, tanh);
}

/**
 * RoPE on q and k of one position, in place: `qk` holds `2·heads` rows of `headDim` (q's heads,
 * then k's), each rotated on its first `rotaryDim` dimensions by `cos` and `sin` (`rotaryDim / 2`
 * each), pairing i with i + rotaryDim/2 (`interleaved` false) or 2i with 2i + 1.
 */
export function rotary(qk: usize, cos: usize, sin: usize, heads: i32, headDim: i32, rotaryDim: i32, interleaved: bool): void {
  const half = rotaryDim >> 1;
  for (let r = 0; r < 2 * heads; r++) {
    const row = qk + ((<usize>r * headDim) << 2);
    for (let i = 0; i < half; i++) {
      const a = row + ((<usize>(interleaved ? 2 * i : i)) << 2);
      const b = row + ((<usize>(interleaved ? 2 * i + 1 : i + half)) << 2);
      const c = load<f32>(cos + ((<usize>i) << 2));
      const s = load<f32>(sin + ((<usize>i) << 2));
      const x1 = load<f32>(a);
      const x2 = load<f32>(b);
      store<f32>(a, x1 * c - x2 * s);
      store<f32>(b, x2 * c + x1 * s);
    }
  }
}
