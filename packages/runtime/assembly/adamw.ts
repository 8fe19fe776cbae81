// AssemblyScript, compiled with SIMD to the wasm module behind the fused optimizer ops: the
// global L2 norm of many tensors, and AdamW's update of one parameter with its gradient and
// moments, every value read and written where tfjs keeps it on the backend's heap.
//
// The update is AdamW as torch.optim.AdamW and mini-gpt's tfjs AdamW compute it, operation for
// operation in float32 (a multiply, then an add: no fused multiply-add), so its numbers are the
// ones the chain of tfjs kernels gives:
//   g  = g·scale                      (global-norm clipping; scale 1 when not clipping)
//   m' = m·β1 + g·(1 − β1)
//   v' = v·β2 + g²·(1 − β2)
//   p' = p·decay − (m'/c1) / (√(v'/c2) + ε) · lr     (decay = 1 − lr·wd for matrices, else 1)

/** Σ x², `length` floats: four lanes in float32 over blocks of 4096, the blocks summed in float64. */
export function sumSquares(x: usize, length: i32): f64 {
  let total: f64 = 0;
  const vectorEnd = length & ~3;
  for (let start = 0; start < vectorEnd; start += 4096) {
    const end = min(start + 4096, vectorEnd);
    let lanes = f32x4.splat(0);
    for (let i = start; i < end; i += 4) {
      const v = v128.load(x + ((<usize>i) << 2));
      lanes = f32x4.add(lanes, f32x4.mul(v, v));
    }
    total += <f64>f32x4.extract_lane(lanes, 0) + <f64>f32x4.extract_lane(lanes, 1) + <f64>f32x4.extract_lane(lanes, 2) + <f64>f32x4.extract_lane(lanes, 3);
  }
  for (let i = vectorEnd; i < length; i++) {
    const v = load<f32>(x + ((<usize>i) << 2));
    total += <f64>(v * v);
  }
  return total;
}

/** One AdamW update of `length` floats: reads p, g, m, v; writes p', m', v' (which may be other buffers). */
export function adamw(
  p: usize,
  g: usize,
  m: usize,
  v: usize,
  pOut: usize,
  mOut: usize,
  vOut: usize,
  length: i32,
  scale: f32,
  beta1: f32,
  oneMinusBeta1: f32,
  beta2: f32,
  oneMinusBeta2: f32,
  correction1: f32,
  correction2: f32,
  epsilon: f32,
  decay: f32,
  learningRate: f32,
): void {
  const vectorEnd = length & ~3;
  const s = f32x4.splat(scale);
  const b1 = f32x4.splat(beta1);
  const c1m = f32x4.splat(oneMinusBeta1);
  const b2 = f32x4.splat(beta2);
  const c2m = f32x4.splat(oneMinusBeta2);
  const k1 = f32x4.splat(correction1);
  const k2 = f32x4.splat(correction2);
  const eps = f32x4.splat(epsilon);
  const d = f32x4.splat(decay);
  const lr = f32x4.splat(learningRate);
  for (let i = 0; i < vectorEnd; i += 4) {
    const at = (<usize>i) << 2;
    const grad = f32x4.mul(v128.load(g + at), s);
    const m1 = f32x4.add(f32x4.mul(v128.load(m + at), b1), f32x4.mul(grad, c1m));
    const v1 = f32x4.add(f32x4.mul(v128.load(v + at), b2), f32x4.mul(f32x4.mul(grad, grad), c2m));
    const update = f32x4.div(f32x4.div(m1, k1), f32x4.add(f32x4.sqrt(f32x4.div(v1, k2)), eps));
    v128.store(pOut + at, f32x4.sub(f32x4.mul(v128.load(p + at), d), f32x4.mul(update, lr)));
    v128.store(mOut + at, m1);
    v128.store(vOut + at, v1);
  }
  for (let i = vectorEnd; i < length; i++) {
    const at = (<usize>i) << 2;
    const grad = load<f32>(g + at) * scale;
    const m1 = load<f32>(m + at) * beta1 + grad * oneMinusBeta1;
    const v1 = load<f32>(v + at) * beta2 + grad * grad * oneMinusBeta2;
    const update = m1 / correction1 / (Mathf.sqrt(v1 / correction2) + epsilon);
    store<f32>(pOut + at, load<f32>(p + at) * decay - update * learningRate);
    store<f32>(mOut + at, m1);
    store<f32>(vOut + at, v1);
  }
}
