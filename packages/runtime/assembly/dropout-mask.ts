// AssemblyScript, compiled with SIMD to the wasm module behind `dropoutMask`: a scaled keep mask
// whose i-th value depends only on (seed, i), four at a time. Sequential generators (Alea, which
// tf.dropout draws from) wait on their previous number: ~8 ns each, 24 ms of a baby step's 2.9 M;
// a hashed counter has no chain between elements (src/kernels/dropout-hash.ts says which hash).

import { mixIndexLanes } from './shared/hash';

/** out[i] = scale where u(i) < keep, else 0, for i < length: u(i) the top 24 bits of element i's hash, in [0, 1). */
export function fill(out: usize, length: i32, key1: u32, key2: u32, keep: f32, scale: f32): void {
  const vectorEnd = length & ~3;
  const keepLanes = f32x4.splat(keep);
  const scaleLanes = f32x4.splat(scale);
  const step = i32x4.splat(4);
  let index = i32x4(0, 1, 2, 3);
  for (let i = 0; i < vectorEnd; i += 4) {
    const u = f32x4.mul(f32x4.convert_i32x4_s(i32x4.shr_u(mixIndexLanes(index, key1, key2), 8)), f32x4.splat(<f32>5.9604644775390625e-8));
    v128.store(out + ((<usize>i) << 2), v128.and(f32x4.lt(u, keepLanes), scaleLanes));
    index = i32x4.add(index, step);
  }
  for (let i = vectorEnd; i < length; i++) {
    const u = <f32>(i32x4.extract_lane(mixIndexLanes(i32x4.splat(i), key1, key2), 0) >>> 8) * <f32>5.9604644775390625e-8;
    store<f32>(out + ((<usize>i) << 2), u < keep ? scale : 0);
  }
}
