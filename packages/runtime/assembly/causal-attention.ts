// AssemblyScript, compiled with SIMD to the wasm module behind `causalAttention`.
// Causal self-attention read straight from a `[batch, seq, 3·C]` q|k|v projection and written
// as `[batch, seq, C]` (heads side by side, the layout the output projection reads): no head
// split, transpose or merge in between. Instantiated on the wasm backend's memory like
// gemm.ts; every pointer is a tfjs tensor or scratch from the backend's allocator. No
// data segment: exp comes from shared/exp.ts rather than Mathf.exp's lookup table.

import { exp, expLanes } from './shared/exp';
import { addScaled, dot, dot4 } from './shared/vector';

/**
 * Forward. For each batch entry and head: weights[i, j] = softmax_j≤i(q_i·k_j·scale + bias[h, i, j])
 * (0 for j > i), written to `weights` `[batch, heads, seq, seq]` for the backward pass; then
 * out_i = Σ_j weights[i, j]·keep[b, h, i, j]·v_j, where `keep` is dropout's scaled mask (0 when none).
 * `bias` `[heads, seq, seq]` is 0 when none.
 */
export function forward(qkv: usize, bias: usize, keep: usize, out: usize, weights: usize, batch: i32, seq: i32, heads: i32, headDim: i32, scale: f32): void {
  const channels = heads * headDim;
  const rowBytes = (<usize>channels * 3) << 2;
  const outRowBytes = (<usize>channels) << 2;
  const headBytes = (<usize>headDim) << 2;
  for (let b = 0; b < batch; b++) {
    const qkvBatch = qkv + <usize>b * seq * rowBytes;
    const outBatch = out + <usize>b * seq * outRowBytes;
    for (let h = 0; h < heads; h++) {
      const headOffset = <usize>h * headBytes;
      const plane = (<usize>(b * heads + h) * seq * seq) << 2;
      for (let i = 0; i < seq; i++) {
        const q = qkvBatch + <usize>i * rowBytes + headOffset;
        const weightRow = weights + plane + ((<usize>i * seq) << 2);
        const biasRow = bias + ((<usize>(h * seq + i) * seq) << 2);
        // Scores four keys at a time (dot4), then e^(score − max) four lanes at a time.
        const count = i + 1;
        const blockEnd = count & ~3;
        const keys = qkvBatch + outRowBytes + headOffset;
        let maxes = f32x4.splat(<f32>-Infinity);
        for (let j = 0; j < blockEnd; j += 4) {
          let scores = f32x4.mul(dot4(q, keys + <usize>j * rowBytes, rowBytes, headDim), f32x4.splat(scale));
          if (bias !== 0) scores = f32x4.add(scores, v128.load(biasRow + ((<usize>j) << 2)));
          v128.store(weightRow + ((<usize>j) << 2), scores);
          maxes = f32x4.max(maxes, scores);
        }
        let max: f32 = Mathf.max(
          Mathf.max(f32x4.extract_lane(maxes, 0), f32x4.extract_lane(maxes, 1)),
          Mathf.max(f32x4.extract_lane(maxes, 2), f32x4.extract_lane(maxes, 3)),
        );
        for (let j = blockEnd; j < count; j++) {
          let score = dot(q, keys + <usize>j * rowBytes, headDim) * scale;
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
        const inverse: f32 = 1.0 / sum;
        const o = outBatch + <usize>i * outRowBytes + headOffset;
        for (let d = 0; d < headDim; d++) store<f32>(o + ((<usize>d) << 2), 0);
        const keepRow = keep + plane + ((<usize>i * seq) << 2);
        for (let j = 0; j <= i; j++) {
          const p = load<f32>(weightRow + ((<usize>j) << 2)) * inverse;
          store<f32>(weightRow + ((<usize>j) << 2), p);
          const kept = keep !== 0 ? p * load<f32>(keepRow + ((<usize>j) << 2)) : p;
          if (kept !== 0) addScaled(o, qkvBatch + <usize>j * rowBytes + 2 * outRowBytes + headOffset, kept, headDim);
        }
        for (let j = i + 1; j < seq; j++) store<f32>(weightRow + ((<usize>j) << 2), 0);
      }
    }
  }
}

/**
 * Backward: d(qkv) `[batch, seq, 3·C]` from dOut `[batch, seq, C]`, the saved softmax `weights` and
 * the dropout mask. With P the weights and P' = P∘keep: dv_j = Σ_i P'_ij dOut_i;
 * dP_ij = keep_ij·(dOut_i·v_j); dS_ij = P_ij (dP_ij − Σ_l P_il dP_il); dq_i = scale Σ_j dS_ij k_j;
 * dk_j = scale Σ_i dS_ij q_i. `row` is scratch for `seq` floats.
 */
export function backward(
  qkv: usize,
  keep: usize,
  weights: usize,
  dOut: usize,
  dQkv: usize,
  row: usize,
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
  memory.fill(dQkv, 0, <usize>batch * seq * rowBytes);
  for (let b = 0; b < batch; b++) {
    const qkvBatch = qkv + <usize>b * seq * rowBytes;
    const dQkvBatch = dQkv + <usize>b * seq * rowBytes;
    const dOutBatch = dOut + <usize>b * seq * outRowBytes;
    for (let h = 0; h < heads; h++) {
      const headOffset = <usize>h * headBytes;
      const plane = (<usize>(b * heads + h) * seq * seq) << 2;
      for (let i = 0; i < seq; i++) {
        const dO = dOutBatch + <usize>i * outRowBytes + headOffset;
        const weightRow = weights + plane + ((<usize>i * seq) << 2);
        const keepRow = keep + plane + ((<usize>i * seq) << 2);
        // dP for four positions at a time (dot4 against their values), then dv_j += P'_ij·dOut_i.
        const count = i + 1;
        const blockEnd = count & ~3;
        const values = qkvBatch + 2 * outRowBytes + headOffset;
        let weightedLanes = f32x4.splat(0);
        for (let j = 0; j < blockEnd; j += 4) {
          let dP = dot4(dO, values + <usize>j * rowBytes, rowBytes, headDim);
          if (keep !== 0) dP = f32x4.mul(dP, v128.load(keepRow + ((<usize>j) << 2)));
          v128.store(row + ((<usize>j) << 2), dP);
          weightedLanes = f32x4.add(weightedLanes, f32x4.mul(v128.load(weightRow + ((<usize>j) << 2)), dP));
        }
        let weighted: f32 =
          f32x4.extract_lane(weightedLanes, 0) +
          f32x4.extract_lane(weightedLanes, 1) +
          f32x4.extract_lane(weightedLanes, 2) +
          f32x4.extract_lane(weightedLanes, 3);
        for (let j = blockEnd; j < count; j++) {
          const keepJ: f32 = keep !== 0 ? load<f32>(keepRow + ((<usize>j) << 2)) : 1;
          const dP = keepJ !== 0 ? keepJ * dot(dO, values + <usize>j * rowBytes, headDim) : 0;
          store<f32>(row + ((<usize>j) << 2), dP);
          weighted += load<f32>(weightRow + ((<usize>j) << 2)) * dP;
        }
        for (let j = 0; j < count; j++) {
          const keepJ: f32 = keep !== 0 ? load<f32>(keepRow + ((<usize>j) << 2)) : 1;
          const kept = load<f32>(weightRow + ((<usize>j) << 2)) * keepJ;
          if (kept !== 0) addScaled(dQkvBatch + <usize>j * rowBytes + 2 * outRowBytes + headOffset, dO, kept, headDim);
        }
        const q = qkvBatch + <usize>i * rowBytes + headOffset;
        const dq = dQkvBatch + <usize>i * rowBytes + headOffset;
        for (let j = 0; j <= i; j++) {
          const dS = load<f32>(weightRow + ((<usize>j) << 2)) * (load<f32>(row + ((<usize>j) << 2)) - weighted) * scale;
          if (dS === 0) continue;
          addScaled(dq, qkvBatch + <usize>j * rowBytes + outRowBytes + headOffset, dS, headDim);
          addScaled(dQkvBatch + <usize>j * rowBytes + outRowBytes + headOffset, q, dS, headDim);
        }
      }
    }
  }
}
