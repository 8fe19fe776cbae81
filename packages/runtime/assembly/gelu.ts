// AssemblyScript, compiled with SIMD to the wasm module behind `gelu`: GELU forward and backward
// elementwise on the wasm backend's memory (see gemm.ts), exact or GPT-2's tanh form
// (the formulas are in shared/gelu.ts).

import { exp, expLanes } from './shared/exp';
import { erf, erfLanes, geluLanes, geluOne, INV_SQRT_2PI, SQRT_2_OVER_PI, SQRT1_2, sigmoid, tanhGateLanes } from './shared/gelu';

/** y = GELU(x), `length` floats; `tanh` picks the approximation. Four lanes at a time, then the rest one by one. */
export function forward(x: usize, y: usize, length: i32, tanh: bool): void {
  const vectorEnd = length & ~3;
  for (let i = 0; i < vectorEnd; i += 4) {
    const at = (<usize>i) << 2;
    const v = v128.load(x + at);
    v128.store(y + at, geluLanes(v, tanh));
  }
  for (let i = vectorEnd; i < length; i++) {
    const at = (<usize>i) << 2;
    const v = load<f32>(x + at);
    store<f32>(y + at, geluOne(v, tanh));
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
