// AssemblyScript, compiled with SIMD to the wasm module behind `MatVecArena`: matrix–vector
// products for decoding one token at a time, where a tfjs op per product would cost more in
// dispatch than in arithmetic. Instantiated on a memory the arena owns; pointers are byte
// addresses in it, 0 for "no bias". No data segment (see scripts/build-kernels.mjs).

import { exp } from './shared/exp';
import { addScaled, dot } from './shared/vector';

/** out[j] = bias[j] + Σ_i x[i]·w[i, j], w `[inFeatures, outFeatures]` row-major: 16 outputs at a time in four registers. */
export function matVec(x: usize, w: usize, bias: usize, out: usize, inFeatures: i32, outFeatures: i32): void {
  const rowBytes = (<usize>outFeatures) << 2;
  const blockEnd = outFeatures & ~15;
  for (let j = 0; j < blockEnd; j += 16) {
    const column = (<usize>j) << 2;
    let s0 = f32x4.splat(0),
      s1 = f32x4.splat(0),
      s2 = f32x4.splat(0),
      s3 = f32x4.splat(0);
    if (bias !== 0) {
      s0 = v128.load(bias + column);
      s1 = v128.load(bias + column, 16);
      s2 = v128.load(bias + column, 32);
      s3 = v128.load(bias + column, 48);
    }
    let at = w + column;
    for (let i = 0; i < inFeatures; i++) {
      const xi = f32x4.splat(load<f32>(x + ((<usize>i) << 2)));
      s0 = f32x4.add(s0, f32x4.mul(xi, v128.load(at)));
      s1 = f32x4.add(s1, f32x4.mul(xi, v128.load(at, 16)));
      s2 = f32x4.add(s2, f32x4.mul(xi, v128.load(at, 32)));
      s3 = f32x4.add(s3, f32x4.mul(xi, v128.load(at, 48)));
      at += rowBytes;
    }
    v128.store(out + column, s0);
    v128.store(out + column, s1, 16);
    v128.store(out + column, s2, 32);
    v128.store(out + column, s3, 48);
  }
  for (let j = blockEnd; j < outFeatures; j++) {
    let sum: f32 = bias !== 0 ? load<f32>(bias + ((<usize>j) << 2)) : 0;
    for (let i = 0; i < inFeatures; i++) sum += load<f32>(x + ((<usize>i) << 2)) * load<f32>(w + ((<usize>i * outFeatures + j) << 2));
    store<f32>(out + ((<usize>j) << 2), sum);
  }
}

/** out[j] = bias[j] + Σ_i x[i]·w[j, i], w `[outFeatures, inFeatures]` (PyTorch's layout, a tied head's): one dot product per output. */
export function matVecTransposed(x: usize, w: usize, bias: usize, out: usize, inFeatures: i32, outFeatures: i32): void {
  const vectorEnd = inFeatures & ~3;
  for (let j = 0; j < outFeatures; j++) {
    const row = w + ((<usize>j * inFeatures) << 2);
    let sums = f32x4.splat(0);
    for (let i = 0; i < vectorEnd; i += 4) sums = f32x4.add(sums, f32x4.mul(v128.load(x + ((<usize>i) << 2)), v128.load(row + ((<usize>i) << 2))));
    let sum = f32x4.extract_lane(sums, 0) + f32x4.extract_lane(sums, 1) + f32x4.extract_lane(sums, 2) + f32x4.extract_lane(sums, 3);
    for (let i = vectorEnd; i < inFeatures; i++) sum += load<f32>(x + ((<usize>i) << 2)) * load<f32>(row + ((<usize>i) << 2));
    store<f32>(out + ((<usize>j) << 2), bias !== 0 ? sum + load<f32>(bias + ((<usize>j) << 2)) : sum);
  }
}

/**
 * One query's attention over `length` cached positions, every head: for head h,
 * out_h = Σ_j softmax_j(q_h·k_jh·scale + slope_h·(j − (length − 1)))·v_jh, with keys and values
 * `[length, channels]` (heads side by side) and `slopes` `[heads]` ALiBi's (0: none). `scores` is
 * scratch for `length` floats.
 */
export function attend(
  q: usize,
  keys: usize,
  values: usize,
  slopes: usize,
  scores: usize,
  out: usize,
  length: i32,
  heads: i32,
  headDim: i32,
  scale: f32,
): void {
  const channels = heads * headDim;
  const rowBytes = (<usize>channels) << 2;
  memory.fill(out, 0, rowBytes);
  for (let h = 0; h < heads; h++) {
    const head = (<usize>h * headDim) << 2;
    const slope: f32 = slopes !== 0 ? load<f32>(slopes + ((<usize>h) << 2)) : 0;
    let max: f32 = <f32>-Infinity;
    for (let j = 0; j < length; j++) {
      const score = dot(q + head, keys + <usize>j * rowBytes + head, headDim) * scale + slope * <f32>(j - (length - 1));
      store<f32>(scores + ((<usize>j) << 2), score);
      if (score > max) max = score;
    }
    let sum: f32 = 0;
    for (let j = 0; j < length; j++) {
      const e = exp(load<f32>(scores + ((<usize>j) << 2)) - max);
      store<f32>(scores + ((<usize>j) << 2), e);
      sum += e;
    }
    const inverse: f32 = <f32>1 / sum;
    for (let j = 0; j < length; j++) addScaled(out + head, values + <usize>j * rowBytes + head, load<f32>(scores + ((<usize>j) << 2)) * inverse, headDim);
  }
}
