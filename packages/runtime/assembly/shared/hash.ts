// The dropout mask's counter hash on four lanes; src/kernels/dropout-hash.ts is the same in JavaScript.

/** MurmurHash3's 32-bit finalizer on each lane: a bijection whose every output bit depends on every input bit. */
export function fmix32Lanes(input: v128): v128 {
  let h = v128.xor(input, i32x4.shr_u(input, 16));
  h = i32x4.mul(h, i32x4.splat(0x85ebca6b));
  h = v128.xor(h, i32x4.shr_u(h, 13));
  h = i32x4.mul(h, i32x4.splat(0xc2b2ae35));
  return v128.xor(h, i32x4.shr_u(h, 16));
}

/** The 32 random bits of element `index` under the seed's two keys: two finalizer rounds. */
export function mixIndexLanes(index: v128, key1: u32, key2: u32): v128 {
  const first = fmix32Lanes(v128.xor(i32x4.mul(index, i32x4.splat(0x9e3779b1)), i32x4.splat(key2)));
  return fmix32Lanes(i32x4.add(first, i32x4.splat(key1)));
}
