import * as tf from '@tensorflow/tfjs-core';
import './generated/register-gradients.js';

export interface GradientCheckOptions {
  /** Central-difference step. Default 1e-2 (float32 needs a large step). */
  epsilon?: number;
  /** Coordinates checked per input, spread evenly; default all (up to 64). */
  maxCoordinates?: number;
}

export interface GradientCheckResult {
  /** Largest |analytic - numeric| over the checked coordinates, relative to max(1, |numeric|). */
  maxError: number;
  analytic: number[][];
  numeric: number[][];
}

/**
 * Compares tf's gradients of a scalar function with central finite differences,
 * `(f(x + ε) - f(x - ε)) / 2ε`, on a sample of coordinates of every input.
 */
export function gradientCheck(f: (...inputs: tf.Tensor[]) => tf.Scalar, inputs: tf.Tensor[], options: GradientCheckOptions = {}): GradientCheckResult {
  const { epsilon = 1e-2, maxCoordinates = 64 } = options;
  const grads = tf.tidy(() => tf.grads((...xs: tf.Tensor[]) => f(...xs))(inputs));
  const analytic: number[][] = [];
  const numeric: number[][] = [];
  let maxError = 0;
  inputs.forEach((input, which) => {
    const values = input.dataSync() as Float32Array;
    const gradValues = grads[which]!.dataSync();
    const stride = Math.max(1, Math.floor(values.length / maxCoordinates));
    const a: number[] = [];
    const n: number[] = [];
    for (let i = 0; i < values.length; i += stride) {
      const evalAt = (delta: number) =>
        tf.tidy(() => {
          const shifted = Float32Array.from(values);
          shifted[i]! += delta;
          const args = inputs.map((x, k) => (k === which ? tf.tensor(shifted, x.shape, x.dtype) : x));
          return f(...args).dataSync()[0]!;
        });
      const estimate = (evalAt(epsilon) - evalAt(-epsilon)) / (2 * epsilon);
      a.push(gradValues[i]!);
      n.push(estimate);
      maxError = Math.max(maxError, Math.abs(gradValues[i]! - estimate) / Math.max(1, Math.abs(estimate)));
    }
    analytic.push(a);
    numeric.push(n);
  });
  tf.dispose(grads);
  return { maxError, analytic, numeric };
}
