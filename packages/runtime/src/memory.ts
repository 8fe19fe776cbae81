import * as tf from '@tensorflow/tfjs-core';

export interface LeakReport {
  /** Live tensors after each measured step. */
  counts: number[];
  /** Tensors gained per step on average over the measured steps (0 when nothing leaks). */
  leakedPerStep: number;
}

export interface LeakOptions {
  /** Measured steps. Default 5. */
  steps?: number;
  /** Steps run first and not measured, for state created once (optimizer slots, caches). Default 1. */
  warmup?: number;
}

/** Runs `step` repeatedly and reports how the number of live tensors moves. */
export async function measureTensorLeaks(step: () => unknown, options: LeakOptions = {}): Promise<LeakReport> {
  const { steps = 5, warmup = 1 } = options;
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`measureTensorLeaks: steps must be a positive integer, got ${steps}`);
  if (!Number.isInteger(warmup) || warmup < 0) throw new RangeError(`measureTensorLeaks: warmup must be a non-negative integer, got ${warmup}`);
  for (let i = 0; i < warmup; i++) await step();
  const start = tf.memory().numTensors;
  const counts: number[] = [];
  for (let i = 0; i < steps; i++) {
    await step();
    counts.push(tf.memory().numTensors);
  }
  return { counts, leakedPerStep: ((counts.at(-1) ?? start) - start) / steps };
}

/** Throws when `step` leaves tensors behind, naming how many per step. */
export async function assertNoTensorLeaks(step: () => unknown, options: LeakOptions = {}): Promise<void> {
  const report = await measureTensorLeaks(step, options);
  if (report.leakedPerStep !== 0) {
    throw new Error(`tensor leak: ${report.leakedPerStep} tensors per step (live tensors after each step: ${report.counts.join(', ')})`);
  }
}
