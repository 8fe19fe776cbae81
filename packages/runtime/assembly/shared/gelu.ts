// GELU's pieces shared by the elementwise kernel (gelu.ts) and the product's fused store
// (gemm.ts): exact (x·Φ(x), erf by Abramowitz and Stegun 7.1.26 as tfjs's Erf kernels) or GPT-2's
// tanh form written x·σ(2z), z = √(2/π)(x + 0.044715x³).

import { exp, expLanes } from './exp';

export const SQRT1_2: f32 = Mathf.SQRT1_2;
export const SQRT_2_OVER_PI: f32 = 0.7978845608;
export const INV_SQRT_2PI: f32 = 0.3989422804;

export function erf(x: f32): f32 {
  const v = Mathf.abs(x);
  const t: f32 = <f32>1 / (<f32>1 + <f32>0.3275911 * v);
  const y: f32 =
    <f32>1 - ((((<f32>1.061405429 * t - <f32>1.453152027) * t + <f32>1.421413741) * t - <f32>0.284496736) * t + <f32>0.254829592) * t * exp(-v * v);
  return x < 0 ? -y : y;
}

export function sigmoid(x: f32): f32 {
  return <f32>1 / (<f32>1 + exp(-x));
}

/** erf on four lanes, as `erf`. */
export function erfLanes(x: v128): v128 {
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
export function tanhGateLanes(v: v128): v128 {
  const z2 = f32x4.mul(f32x4.splat(2 * SQRT_2_OVER_PI), f32x4.add(v, f32x4.mul(f32x4.splat(0.044715), f32x4.mul(v, f32x4.mul(v, v)))));
  const one = f32x4.splat(1);
  return f32x4.div(one, f32x4.add(one, expLanes(f32x4.neg(z2))));
}

/** GELU(x) on four lanes: exact, or the tanh form when `tanh`. */
export function geluLanes(v: v128, tanh: bool): v128 {
  return tanh
    ? f32x4.mul(v, tanhGateLanes(v))
    : f32x4.mul(f32x4.mul(f32x4.splat(0.5), v), f32x4.add(f32x4.splat(1), erfLanes(f32x4.mul(v, f32x4.splat(SQRT1_2)))));
}

/** GELU(x), one float. */
export function geluOne(v: f32, tanh: bool): f32 {
  return tanh ? v * sigmoid(<f32>2 * SQRT_2_OVER_PI * (v + <f32>0.044715 * v * v * v)) : <f32>0.5 * v * (<f32>1 + erf(v * SQRT1_2));
}
