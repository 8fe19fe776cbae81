// Vector helpers shared by the attention kernels (heads are contiguous runs of headDim floats).

/** Σ a[d]·b[d], `length` floats, four at a time. */
export function dot(a: usize, b: usize, length: i32): f32 {
  const vectorEnd = length & ~3;
  let sums = f32x4.splat(0);
  for (let d = 0; d < vectorEnd; d += 4) sums = f32x4.add(sums, f32x4.mul(v128.load(a + ((<usize>d) << 2)), v128.load(b + ((<usize>d) << 2))));
  let sum = f32x4.extract_lane(sums, 0) + f32x4.extract_lane(sums, 1) + f32x4.extract_lane(sums, 2) + f32x4.extract_lane(sums, 3);
  for (let d = vectorEnd; d < length; d++) sum += load<f32>(a + ((<usize>d) << 2)) * load<f32>(b + ((<usize>d) << 2));
  return sum;
}

/** target += factor · source, `length` floats. */
export function addScaled(target: usize, source: usize, factor: f32, length: i32): void {
  const vectorEnd = length & ~3;
  const splat = f32x4.splat(factor);
  for (let d = 0; d < vectorEnd; d += 4) {
    const at = (<usize>d) << 2;
    v128.store(target + at, f32x4.add(v128.load(target + at), f32x4.mul(splat, v128.load(source + at))));
  }
  for (let d = vectorEnd; d < length; d++) {
    const at = (<usize>d) << 2;
    store<f32>(target + at, load<f32>(target + at) + factor * load<f32>(source + at));
  }
}
