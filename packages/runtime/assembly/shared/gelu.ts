// GELU's pieces shared by the elementwise kernel (gelu.ts) and the product's fused store
// (gemm.ts): exact (x·Φ(x)) or GPT-2's tanh form written x·σ(2z), z = √(2/π)(x + 0.044715x³).
// erf is Eigen's rational approximation (x clamped to [-4, 4], an odd polynomial of degree 13 over
// an even one of degree 8): |error| < 1e-7, and no exponential (Abramowitz and Stegun 7.1.26,
// which tfjs's Erf kernels use, needs one and errs by 1.4e-7): GELU forward took ~40% less.

import { exp, expLanes } from './exp';

export const SQRT1_2: f32 = Mathf.SQRT1_2;
export const SQRT_2_OVER_PI: f32 = 0.7978845608;
export const INV_SQRT_2PI: f32 = 0.3989422804;

// erf's numerator (odd powers 1…13) and denominator (even powers 0…8) coefficients.
const A1: f32 = -1.60960333262415e-2;
const A3: f32 = -2.95459980854025e-3;
const A5: f32 = -7.34990630326855e-4;
const A7: f32 = -5.69250639462346e-5;
const A9: f32 = -2.10102402082508e-6;
const A11: f32 = 2.77068142495902e-8;
const A13: f32 = -2.72614225801306e-10;
const B0: f32 = -1.42647390514189e-2;
const B2: f32 = -7.37332916720468e-3;
const B4: f32 = -1.68282697438203e-3;
const B6: f32 = -2.13374055278905e-4;
const B8: f32 = -1.45660718464996e-5;

export function erf(input: f32): f32 {
  const x = Mathf.min(Mathf.max(input, -4), 4);
  const x2 = x * x;
  const p = x * (A1 + x2 * (A3 + x2 * (A5 + x2 * (A7 + x2 * (A9 + x2 * (A11 + x2 * A13))))));
  const q = B0 + x2 * (B2 + x2 * (B4 + x2 * (B6 + x2 * B8)));
  return p / q;
}

export function sigmoid(x: f32): f32 {
  return <f32>1 / (<f32>1 + exp(-x));
}

/** erf on four lanes, as `erf`. */
export function erfLanes(input: v128): v128 {
  // pmin/pmax: one instruction each (see expLanes); a NaN input stays NaN.
  const x = f32x4.pmin(f32x4.pmax(input, f32x4.splat(-4)), f32x4.splat(4));
  const x2 = f32x4.mul(x, x);
  let p = f32x4.add(f32x4.splat(A11), f32x4.mul(x2, f32x4.splat(A13)));
  p = f32x4.add(f32x4.splat(A9), f32x4.mul(x2, p));
  p = f32x4.add(f32x4.splat(A7), f32x4.mul(x2, p));
  p = f32x4.add(f32x4.splat(A5), f32x4.mul(x2, p));
  p = f32x4.add(f32x4.splat(A3), f32x4.mul(x2, p));
  p = f32x4.mul(x, f32x4.add(f32x4.splat(A1), f32x4.mul(x2, p)));
  let q = f32x4.add(f32x4.splat(B6), f32x4.mul(x2, f32x4.splat(B8)));
  q = f32x4.add(f32x4.splat(B4), f32x4.mul(x2, q));
  q = f32x4.add(f32x4.splat(B2), f32x4.mul(x2, q));
  q = f32x4.add(f32x4.splat(B0), f32x4.mul(x2, q));
  return f32x4.div(p, q);
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
