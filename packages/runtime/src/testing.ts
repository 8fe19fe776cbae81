import * as tf from '@tensorflow/tfjs-core';
import './generated/register-gradients.js';
import './register-kernels.js';

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
  inputs.forEach((input, which) => {
    const values = input.dataSync() as Float32Array;
    const gradValues = grads[which]!.dataSync();
    const evalAt = (i: number, delta: number) =>
      tf.tidy(() => {
        const shifted = Float32Array.from(values);
        shifted[i]! += delta;
        const args = inputs.map((x, k) => (k === which ? tf.tensor(shifted, x.shape, x.dtype) : x));
        return f(...args).dataSync()[0]!;
      });
    const [a, n] = compareCoordinates(values.length, gradValues, evalAt, epsilon, maxCoordinates);
    analytic.push(a);
    numeric.push(n);
  });
  tf.dispose(grads);
  return summarise(analytic, numeric);
}

/** Central differences on evenly spread coordinates: [analytic, numeric] values. */
function compareCoordinates(
  size: number,
  gradValues: ArrayLike<number>,
  evalAt: (i: number, delta: number) => number,
  epsilon: number,
  maxCoordinates: number,
): [number[], number[]] {
  const stride = Math.max(1, Math.floor(size / maxCoordinates));
  const analytic: number[] = [];
  const numeric: number[] = [];
  for (let i = 0; i < size; i += stride) {
    analytic.push(gradValues[i]!);
    numeric.push((evalAt(i, epsilon) - evalAt(i, -epsilon)) / (2 * epsilon));
  }
  return [analytic, numeric];
}

function summarise(analytic: number[][], numeric: number[][]): GradientCheckResult {
  let maxError = 0;
  analytic.forEach((a, k) => {
    a.forEach((value, i) => {
      const estimate = numeric[k]![i]!;
      maxError = Math.max(maxError, Math.abs(value - estimate) / Math.max(1, Math.abs(estimate)));
    });
  });
  return { maxError, analytic, numeric };
}

/**
 * `gradientCheck` for a loss that reads `tf.Variable`s (a layer's weights): the analytic
 * gradient from `tf.variableGrads`, the numeric one by nudging each sampled entry of each
 * variable in place (restored afterwards).
 */
export function variableGradientCheck(loss: () => tf.Scalar, variables: tf.Variable[], options: GradientCheckOptions = {}): GradientCheckResult {
  const { epsilon = 1e-2, maxCoordinates = 64 } = options;
  const { grads } = tf.variableGrads(loss, variables);
  const analytic: number[][] = [];
  const numeric: number[][] = [];
  for (const variable of variables) {
    const original = tf.clone(variable);
    const values = original.dataSync() as Float32Array;
    const evalAt = (i: number, delta: number) => {
      const shifted = Float32Array.from(values);
      shifted[i]! += delta;
      tf.tidy(() => variable.assign(tf.tensor(shifted, variable.shape, variable.dtype)));
      return tf.tidy(() => loss().dataSync()[0]!);
    };
    const [a, n] = compareCoordinates(values.length, grads[variable.name]!.dataSync(), evalAt, epsilon, maxCoordinates);
    variable.assign(original);
    original.dispose();
    analytic.push(a);
    numeric.push(n);
  }
  tf.dispose(grads);
  return summarise(analytic, numeric);
}

/** Forces the product kernel's build (`'relaxed-simd'` or `'simd'`; `undefined` returns to the detected one), to compare the two in one process. */
export { forceKernelBuild, kernelBuild } from './kernels/wasm/kernel-build.js';

/** Leak checks for a training loop or an op: run a step repeatedly, report (or throw on) growth of `tf.memory().numTensors`. */
export { assertNoTensorLeaks, measureTensorLeaks } from './memory.js';
export type { LeakOptions, LeakReport } from './memory.js';
