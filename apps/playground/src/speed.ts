// How long a training step will take on this device: a product of the model's own size, timed on
// the page in a few milliseconds, scaled by how far the guesses of past runs here were from what they measured.
import { tf } from '@embedlab/runtime';

/**
 * A training step's time before any run here has measured it: its products at this share of the
 * product speed timed on the page, plus a fixed cost per layer (its other ops, the workers'
 * exchange). Fitted in headless Chromium on a 2-core machine, where the default 2-layer model
 * (25 ms a step, guessed 21) and 4 layers of 256 at context 64, batch 32 (0.73 s, guessed 0.78)
 * came within 20%.
 */
const PRODUCT_SHARE = 0.75;
const SECONDS_PER_LAYER = 0.007;
/** The product timed stays this small, so a settings change costs the page a few milliseconds. */
const MAX_ROWS = 256;

const productSpeeds = new Map<string, number>();

/**
 * Floating-point operations per second of a product the size of the model's widest one
 * (`rows x width` times `width x 4·width`, the MLP's first layer), on the page's runtime: the best
 * of three after a warm-up, kept per size.
 */
export function productSpeed(rows: number, width: number): number {
  const m = Math.min(MAX_ROWS, rows);
  const key = `${m}x${width}`;
  const known = productSpeeds.get(key);
  if (known !== undefined) return known;
  const [a, b] = [tf.randomNormal([m, width]), tf.randomNormal([width, 4 * width])];
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 4; i++) {
    const start = performance.now();
    // The wasm backend computes as the op is called: reading the result back is not the product's time.
    tf.matMul(a, b).dispose();
    if (i > 0) best = Math.min(best, performance.now() - start);
  }
  tf.dispose([a, b]);
  // A timer coarsened to 0.1 ms (browsers do this) must not give an infinite speed.
  const speed = (2 * m * width * 4 * width) / (Math.max(best, 0.1) / 1000);
  productSpeeds.set(key, speed);
  return speed;
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** A step's time: the first guess, scaled by how far the guesses of this page's past runs were from what they measured. */
export class StepSpeed {
  private readonly ratios: number[] = [];

  /** The first guess for a step of `flops` on `workers` workers of a `layers`-layer model, at `products` FLOP/s of product speed. */
  firstGuess(flops: number, workers: number, layers: number, products: number): number {
    return flops / (products * PRODUCT_SHARE * workers) + SECONDS_PER_LAYER * layers;
  }

  /** A finished run: the seconds a step took (the median over its steps) and its first guess. */
  record(measured: number, guessed: number): void {
    if (Number.isFinite(measured) && measured > 0) this.ratios.push(measured / guessed);
  }

  /** Runs measured so far. */
  get runs(): number {
    return this.ratios.length;
  }

  /** The estimate: the first guess, times the median ratio of measured to guessed over past runs. */
  seconds(firstGuess: number): number {
    return this.runs > 0 ? firstGuess * median(this.ratios) : firstGuess;
  }
}
