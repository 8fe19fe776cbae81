import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

export interface Rng {
  /** An integer in [0, maxExclusive). */
  int(maxExclusive: number): number;
  /** A float in [0, 1). */
  float(): number;
  /** A fresh 31-bit seed, e.g. for one tfjs dropout call. */
  seed(): number;
}

/**
 * A seeded random stream (pure-rand's xoroshiro128+). Streams are derived from (seed, ...keys)
 * rather than carried along, so the batches and dropout masks of step n are the same whether a
 * run got there in one go or was saved and resumed.
 */
export function createRng(seed: number, ...keys: number[]): Rng {
  let mixed = avalanche(seed | 0);
  for (const key of keys) mixed = avalanche(mixed ^ Math.imul(key | 0, 0x9e3779b1));
  const generator = xoroshiro128plus(mixed);
  return {
    int: (maxExclusive) => uniformInt(generator, 0, maxExclusive - 1),
    float: () => uniformFloat64(generator),
    seed: () => uniformInt(generator, 0, 0x7fffffff),
  };
}

/** MurmurHash3's 32-bit finaliser: nearby seeds (7, 8, 9) give unrelated generator states. */
function avalanche(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return x ^ (x >>> 16);
}
