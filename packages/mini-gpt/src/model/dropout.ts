// Dropout with the numbers of tf.dropout, drawn without tfjs ops: a seeded keep mask made in
// JavaScript from seedrandom's Alea (the generator tf.randomUniform uses).
import { type Tensor, tf } from '@embedlab/runtime';

/**
 * tf.dropout's scaled keep mask, floor(u + keep)/keep with u = randomUniform(shape, seed), the
 * same numbers, built in JavaScript: tf.dropout's add, floor and divide are kernels whose inputs
 * the gradient tape holds until backward (three extra activation-sized buffers per dropout,
 * 38 MB of a baby step), where a tensor made from values is not on the tape.
 */
export function dropoutMask(shape: number[], rate: number, seed: number): Tensor {
  const keep = Math.fround(1 - rate);
  const scale = Math.fround(1 / keep);
  // u as tfjs stores it (float32), then u + keep ≥ 1 in float32 arithmetic.
  const mask = aleaUniforms(seed.toString(), new Float32Array(shape.reduce((a, b) => a * b, 1)));
  for (let i = 0; i < mask.length; i++) mask[i] = Math.fround(mask[i]! + keep) >= 1 ? scale : 0;
  return tf.tensor(mask, shape);
}

/**
 * Fills `out` with Baagøe's Alea as seedrandom implements it, the generator tf.randomUniform draws
 * from (so the same seed gives tf.dropout's mask). Its state stays in local variables: drawing a
 * baby step's 2.2 M dropout numbers through tf.randomUniform (seedrandom keeps the state on an
 * object) cost a tenth of the step.
 */
function aleaUniforms(seed: string, out: Float32Array): Float32Array {
  let n = 0xefc8249d;
  const mash = (data: string) => {
    for (let i = 0; i < data.length; i++) {
      n += data.charCodeAt(i);
      let h = 0.02519603282416938 * n;
      n = h >>> 0;
      h -= n;
      h *= n;
      n = h >>> 0;
      h -= n;
      n += h * 0x100000000;
    }
    return (n >>> 0) * 2.3283064365386963e-10;
  };
  let [s0, s1, s2] = [mash(' '), mash(' '), mash(' ')];
  s0 -= mash(seed);
  if (s0 < 0) s0 += 1;
  s1 -= mash(seed);
  if (s1 < 0) s1 += 1;
  s2 -= mash(seed);
  if (s2 < 0) s2 += 1;
  let c = 1;
  for (let i = 0; i < out.length; i++) {
    const t = 2091639 * s0 + c * 2.3283064365386963e-10;
    s0 = s1;
    s1 = s2;
    c = t | 0;
    s2 = t - c;
    out[i] = s2;
  }
  return out;
}

/** Dropout with an explicit seed (reproducible, the numbers of tf.dropout), or the identity when the rate is 0 or not training. */
export function dropout(x: Tensor, rate: number, seed: number | undefined): Tensor {
  return rate > 0 && seed !== undefined ? tf.mul(x, dropoutMask(x.shape, rate, seed)) : x;
}
