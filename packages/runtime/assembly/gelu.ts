// AssemblyScript, compiled with SIMD to the wasm module behind `gelu`: GELU forward and backward
// elementwise on the wasm backend's memory (see batched-matmul.ts), exact (x·Φ(x), erf by
// Abramowitz and Stegun 7.1.26 as tfjs's Erf kernels) or GPT-2's tanh form written x·σ(2z),
// z = √(2/π)(x + 0.044715x³).

import { exp, expLanes } from './shared/exp';

const SQRT1_2: f32 = Mathf.SQRT1_2;
const SQRT_2_OVER_PI: f32 = 0.7978845608;
const INV_SQRT_2PI: f32 = 0.3989422804;

function erf(x: f32): f32 {
  const v = Mathf.abs(x);
  const t: f32 = <f32>1 / (<f32>1 + <f32>0.3275911 * v);
  const y: f32 =
    <f32>1 - ((((<f32>1.061405429 * t - <f32>1.453152027) * t + <f32>1.421413741) * t - <f32>0.284496736) * t + <f32>0.254829592) * t * exp(-v * v);
  return x < 0 ? -y : y;
}

function sigmoid(x: f32): f32 {
  return <f32>1 / (<f32>1 + exp(-x));
}

/** erf on four lanes, as `erf`. */
function erfLanes(x: v128): v128 {
  const v = f32x4.abs(x);
  const one = f32x4.splat(1);
  const t = f32x4.div(one, f32x4.add(one, f32x4.mul(f32x4.splat(0.3275911), v)));
  let p = f32x4.sub(f32x4.mul(f32x4.splat(1.061405429), t), f32x4.splat(1.453152027));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(1.421413741));
  p = f32x4.sub(f32x4.mul(p, t), f32x4.splat(0.284496736));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(0.254829592));
  const y = f32x4.sub(one, f32x4.mul(f32x4.mul(p, t), expLanes(f32x4.neg(f32x4.mul(v, v)))));
  return v128.bitselect(f32x4.neg(y), y, f32x4.lt(x, f32x4.splat(0)));
}

/** σ(2z) for GPT-2's z = √(2/π)(x + 0.044715x³), four lanes. */
function tanhGateLanes(v: v128): v128 {
  const z2 = f32x4.mul(f32x4.splat(2 * SQRT_2_OVER_PI), f32x4.add(v, f32x4.mul(f32x4.splat(0.044715), f32x4.mul(v, f32x4.mul(v, v)))));
  const one = f32x4.splat(1);
  return f32x4.div(one, f32x4.add(one, expLanes(f32x4.neg(z2))));
}

/** y = GELU(x), `length` floats; `tanh` picks the approximation. Four lanes at a time, then the rest one by one. */
export function forward(x: usize, y: usize, length: i32, tanh: bool): void {
  const vectorEnd = length & ~3;
  for (let i = 0; i < vectorEnd; i += 4) {
    const at = (<usize>i) << 2;
    const v = v128.load(x + at);
    const out = tanh
      ? f32x4.mul(v, tanhGateLanes(v))
      : f32x4.mul(f32x4.mul(f32x4.splat(0.5), v), f32x4.add(f32x4.splat(1), erfLanes(f32x4.mul(v, f32x4.splat(SQRT1_2)))));
    v128.store(y + at, out);
  }
  for (let i = vectorEnd; i < length; i++) {
    const at = (<usize>i) << 2;
    const v = load<f32>(x + at);
    const out = tanh ? v * sigmoid(<f32>2 * SQRT_2_OVER_PI * (v + <f32>0.044715 * v * v * v)) : <f32>0.5 * v * (<f32>1 + erf(v * SQRT1_2));
    store<f32>(y + at, out);
  }
}

/** dx = dy·GELU'(x): Φ(x) + x·φ(x) exact; σ(2z) + x·σ(2z)(1 − σ(2z))·2·dz/dx for tanh. */
export function backward(dy: usize, x: usize, dx: usize, length: i32, tanh: bool): void {
  const vectorEnd = length & ~3;
  const one = f32x4.splat(1);
  for (let i = 0; i < vectorEnd; i += 4) {
    const at = (<usize>i) << 2;
    const v = v128.load(x + at);
    let slope: v128;
    if (tanh) {
      const s = tanhGateLanes(v);
      const dz = f32x4.mul(f32x4.splat(2 * SQRT_2_OVER_PI), f32x4.add(one, f32x4.mul(f32x4.splat(3 * 0.044715), f32x4.mul(v, v))));
      slope = f32x4.add(s, f32x4.mul(f32x4.mul(v, f32x4.mul(s, f32x4.sub(one, s))), dz));
    } else {
      const cdf = f32x4.mul(f32x4.splat(0.5), f32x4.add(one, erfLanes(f32x4.mul(v, f32x4.splat(SQRT1_2)))));
      slope = f32x4.add(cdf, f32x4.mul(f32x4.mul(v, f32x4.splat(INV_SQRT_2PI)), expLanes(f32x4.mul(f32x4.splat(-0.5), f32x4.mul(v, v)))));
    }
    v128.store(dx + at, f32x4.mul(v128.load(dy + at), slope));
  }
  for (let i = vectorEnd; i < length; i++) {
    const at = (<usize>i) << 2;
    const v = load<f32>(x + at);
    let slope: f32;
    if (tanh) {
      const s = sigmoid(<f32>2 * SQRT_2_OVER_PI * (v + <f32>0.044715 * v * v * v));
      slope = s + v * s * (<f32>1 - s) * <f32>2 * SQRT_2_OVER_PI * (<f32>1 + <f32>3 * <f32>0.044715 * v * v);
    } else {
      slope = <f32>0.5 * (<f32>1 + erf(v * SQRT1_2)) + v * INV_SQRT_2PI * exp(<f32>-0.5 * v * v);
    }
    store<f32>(dx + at, load<f32>(dy + at) * slope);
  }
}
