// Shared by the kernels that need e^x: Mathf.exp reads a lookup table, which would be a data
// segment (not allowed in a module that imports the backend's memory).

/** e^x in f32 by range reduction to 2^n · e^r, |r| ≤ ln2/2, and a degree-6 polynomial (relative error ~2e-7). */
export function exp(x: f32): f32 {
  if (x < -87.0) return 0;
  if (x > 88.0) x = 88.0;
  const n = f32.nearest(x * <f32>1.4426950408889634);
  const r = x - n * <f32>0.693145751953125 - n * <f32>1.428606765330187e-6;
  const p = <f32>1 + r * (<f32>1 + r * (<f32>0.5 + r * (<f32>0.16666667 + r * (<f32>0.041666668 + r * (<f32>0.008333334 + r * <f32>0.0013888889)))));
  return p * reinterpret<f32>((<i32>n + 127) << 23);
}
