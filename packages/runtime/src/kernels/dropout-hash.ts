// The dropout mask's random numbers, shared by both backends' kernels (the wasm one runs the same
// arithmetic in assembly/shared/hash.ts): element i's 32 bits are two rounds of MurmurHash3's
// finalizer over i·φ (the golden-ratio constant) mixed with two keys from the seed, so any element
// is computed alone, in any order, four at a time. Same seed, same mask on every backend.

/** MurmurHash3's 32-bit finalizer. */
export function fmix32(input: number): number {
  let h = input ^ (input >>> 16);
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The two keys of an integer seed (safe integers: its low and high 32 bits both count). */
export function seedKeys(seed: number): { key1: number; key2: number } {
  const low = seed >>> 0;
  const high = Math.floor(seed / 2 ** 32) >>> 0;
  const key1 = fmix32(low ^ 0x9e3779b9);
  return { key1, key2: fmix32((high + key1) >>> 0) };
}

/** Element `index`'s 32 random bits under the keys (as mixIndexLanes). */
export function mixIndex(index: number, key1: number, key2: number): number {
  return fmix32((fmix32((Math.imul(index, 0x9e3779b1) ^ key2) >>> 0) + key1) >>> 0);
}

/** tf.dropout's keep probability and scale, as float32 values. */
export function keepAndScale(rate: number): { keep: number; scale: number } {
  const keep = Math.fround(1 - rate);
  return { keep, scale: Math.fround(1 / keep) };
}
