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

/**
 * The dot products of `a` with four rows (`rows`, then every `rowBytes` after it), `length` floats
 * each, as one vector: each load of `a` serves four rows, and the four sums are reduced together
 * by shuffles (lane r holds row r's product).
 */
export function dot4(a: usize, rows: usize, rowBytes: usize, length: i32): v128 {
  const vectorEnd = length & ~3;
  let s0 = f32x4.splat(0),
    s1 = f32x4.splat(0),
    s2 = f32x4.splat(0),
    s3 = f32x4.splat(0);
  for (let i = 0; i < vectorEnd; i += 4) {
    const at = (<usize>i) << 2;
    const ai = v128.load(a + at);
    s0 = f32x4.add(s0, f32x4.mul(ai, v128.load(rows + at)));
    s1 = f32x4.add(s1, f32x4.mul(ai, v128.load(rows + rowBytes + at)));
    s2 = f32x4.add(s2, f32x4.mul(ai, v128.load(rows + 2 * rowBytes + at)));
    s3 = f32x4.add(s3, f32x4.mul(ai, v128.load(rows + 3 * rowBytes + at)));
  }
  const t0 = f32x4.add(v128.shuffle<f32>(s0, s1, 0, 4, 1, 5), v128.shuffle<f32>(s0, s1, 2, 6, 3, 7));
  const t1 = f32x4.add(v128.shuffle<f32>(s2, s3, 0, 4, 1, 5), v128.shuffle<f32>(s2, s3, 2, 6, 3, 7));
  const sums = f32x4.add(v128.shuffle<f32>(t0, t1, 0, 1, 4, 5), v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
  if (vectorEnd === length) return sums;
  let r0: f32 = 0,
    r1: f32 = 0,
    r2: f32 = 0,
    r3: f32 = 0;
  for (let i = vectorEnd; i < length; i++) {
    const ai = load<f32>(a + ((<usize>i) << 2));
    const at = rows + ((<usize>i) << 2);
    r0 += ai * load<f32>(at);
    r1 += ai * load<f32>(at + rowBytes);
    r2 += ai * load<f32>(at + 2 * rowBytes);
    r3 += ai * load<f32>(at + 3 * rowBytes);
  }
  return f32x4.add(sums, f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(r0), 1, r1), 2, r2), 3, r3));
}
