// Shared by the kernels that need e^x: Mathf.exp reads a lookup table, which would be a data
// segment (not allowed in a module that imports the backend's memory).

/** e^x in f32 by range reduction to 2^n · e^r, |r| ≤ ln2/2, and a degree-6 polynomial (relative error ~2e-7). */
export function exp(x: f32): f32 {
  if (x < -87.0) return 0;
  if (x > 88.0) x = 88.0;
  const n = f32.nearest(x * <f32>Math.LOG2E);
  const r = x - n * <f32>0.693145751953125 - n * <f32>1.428606765330187e-6;
  const p = <f32>1 + r * (<f32>1 + r * (<f32>0.5 + r * (<f32>0.16666667 + r * (<f32>0.041666668 + r * (<f32>0.008333334 + r * <f32>0.0013888889)))));
  return p * reinterpret<f32>((<i32>n + 127) << 23);
}

/** e^x on four lanes: the same reduction and polynomial as `exp`, inputs clamped to [-87, 88]. */
export function expLanes(input: v128): v128 {
  // pmin/pmax are one instruction each (min/max are several, for NaN and signed zeros); a NaN input stays NaN.
  const x = f32x4.pmin(f32x4.pmax(input, f32x4.splat(-87.0)), f32x4.splat(88.0));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(<f32>Math.LOG2E)));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693145751953125))), f32x4.mul(n, f32x4.splat(1.428606765330187e-6)));
  let p = f32x4.add(f32x4.splat(0.008333334), f32x4.mul(r, f32x4.splat(0.0013888889)));
  p = f32x4.add(f32x4.splat(0.041666668), f32x4.mul(r, p));
  p = f32x4.add(f32x4.splat(0.16666667), f32x4.mul(r, p));
  p = f32x4.add(f32x4.splat(0.5), f32x4.mul(r, p));
  p = f32x4.add(f32x4.splat(1.0), f32x4.mul(r, p));
  p = f32x4.add(f32x4.splat(1.0), f32x4.mul(r, p));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, scale);
}
