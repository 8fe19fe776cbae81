// How long a training step will take on this device: a product of the model's own size, timed on
// the page in a few milliseconds, and the fraction of that speed the runs on this device reached.
import { tf } from '@embedlab/runtime';

/**
 * The fraction of the product speed a training step reaches before any run here has measured it
 * (the step also runs attention, norms, the optimizer and the workers' exchange). Measured in
 * Chromium on a 2-core machine: 0.1 for the default 2-layer model, 0.3 for 4 layers of 256.
 */
const FIRST_GUESS_EFFICIENCY = 0.2;
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
    tf.tidy(() => tf.matMul(a, b).dataSync());
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

/** The efficiencies of the runs on this page so far, each its median step speed over its product speed. */
export class StepSpeed {
  private readonly efficiencies: number[] = [];

  /** A finished run: the FLOP/s each of its workers reached (median over its steps), and the product speed of its size. */
  record(flopsPerWorker: number, products: number): void {
    if (Number.isFinite(flopsPerWorker) && flopsPerWorker > 0) this.efficiencies.push(flopsPerWorker / products);
  }

  /** Runs measured so far. */
  get runs(): number {
    return this.efficiencies.length;
  }

  /** Seconds a step of `flops` takes on `workers` workers, at `products` FLOP/s of product speed. */
  seconds(flops: number, workers: number, products: number): number {
    const efficiency = this.runs > 0 ? median(this.efficiencies) : FIRST_GUESS_EFFICIENCY;
    return flops / (products * efficiency * workers);
  }
}
