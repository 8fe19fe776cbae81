import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../backend.js';
import { Gelu, LayerNorm, LayerNormGrad } from '../kernel-names.js';
import { assertNoTensorLeaks } from '../memory.js';
import { tf } from '../tf.js';
import { gelu } from './gelu.js';
import { layerNorm } from './layer-norm.js';

/** The references: LayerNorm and GELU written with tfjs's own ops, differentiated by tfjs. */
function referenceLayerNorm(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor | undefined): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  const scaled = tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), weight);
  return bias ? tf.add(scaled, bias) : scaled;
}

function referenceGelu(x: tf.Tensor, approximate: 'exact' | 'tanh'): tf.Tensor {
  if (approximate === 'exact') return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI))), 1));
}

function expectClose(actual: tf.Tensor, expected: tf.Tensor, what: string, tolerance = 2e-5): void {
  expect(actual.shape).toEqual(expected.shape);
  const e = expected.dataSync();
  for (const [i, value] of actual.dataSync().entries())
    expect(Math.abs(value - e[i]!), `${what} element ${i}`).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(e[i]!)));
}

describe.each(['wasm', 'cpu'] as const)('layerNorm and gelu on %s', (backend) => {
  beforeAll(async () => {
    await ready({ backend });
  });

  it.each([[[3, 5]], [[2, 7, 13]], [[1, 1, 4]], [[4, 16, 128]]])('layerNorm matches tfjs ops forward and backward for x %j, with and without bias', (shape) => {
    tf.tidy(() => {
      const width = shape.at(-1)!;
      const x = tf.add(tf.mul(tf.randomNormal(shape, 0, 1, 'float32', 1), 3), 0.5);
      const weight = tf.randomNormal([width], 1, 0.3, 'float32', 2);
      const bias = tf.randomNormal([width], 0, 0.3, 'float32', 3);
      const upstream = tf.randomNormal(shape, 0, 1, 'float32', 4);
      for (const b of [bias, undefined]) {
        const label = b ? 'bias' : 'no bias';
        expectClose(layerNorm(x, weight, b), referenceLayerNorm(x, weight, b), `${label} forward`);
        const inputs = b ? [x, weight, b] : [x, weight];
        const loss =
          (f: typeof layerNorm) =>
          (...args: tf.Tensor[]) =>
            tf.sum(tf.mul(f(args[0]!, args[1]!, args[2]), upstream));
        const ours = tf.grads(loss(layerNorm))(inputs);
        const theirs = tf.grads(loss(referenceLayerNorm as typeof layerNorm))(inputs);
        for (const [i, g] of ours.entries()) expectClose(g, theirs[i]!, `${label} gradient ${i}`, 1e-4);
      }
    });
  });

  it.each([[[3, 5]], [[2, 7, 13]], [[64, 257]]])('gelu matches tfjs ops forward and backward for x %j, exact and tanh', (shape) => {
    tf.tidy(() => {
      const x = tf.mul(tf.randomNormal(shape, 0, 1, 'float32', 5), 3);
      const upstream = tf.randomNormal(shape, 0, 1, 'float32', 6);
      for (const approximate of ['exact', 'tanh'] as const) {
        expectClose(gelu(x, approximate), referenceGelu(x, approximate), `${approximate} forward`);
        const ours = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(gelu(t, approximate), upstream)))(x);
        const theirs = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(referenceGelu(t, approximate), upstream)))(x);
        expectClose(ours, theirs, `${approximate} gradient`, 1e-4);
      }
    });
  });

  it('names the kernels in tf.profile and leaks no tensors', async () => {
    const x = tf.variable(tf.randomNormal([4, 6], 0, 1, 'float32', 7));
    const weight = tf.variable(tf.ones([6]));
    const bias = tf.variable(tf.zeros([6]));
    const names = (await tf.profile(() => gelu(layerNorm(x, weight, bias)))).kernelNames;
    expect(names).toContain(LayerNorm);
    expect(names).toContain(Gelu);
    await assertNoTensorLeaks(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(gelu(layerNorm(x, weight, bias), 'tanh')) as tf.Scalar, [x, weight, bias]);
      tf.dispose([value, ...Object.values(grads)]);
    });
    tf.dispose([x, weight, bias]);
  });

  it('runs the LayerNorm backward kernel once per LayerNorm, and leaks no gradient of an input off the path', async () => {
    const x = tf.variable(tf.randomNormal([4, 6], 0, 1, 'float32', 8));
    const weight = tf.variable(tf.randomNormal([6], 1, 0.1, 'float32', 9));
    const bias = tf.variable(tf.zeros([6]));
    const backward = () => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(layerNorm(x, weight, bias))) as tf.Scalar, [x, weight, bias]);
      tf.dispose([value, ...Object.values(grads)]);
    };
    const calls = (await tf.profile(backward)).kernels.filter((k) => k.name === LayerNormGrad).length;
    expect(calls).toBe(1);
    for (const only of [[x], [weight], [bias], [x, bias]]) {
      await assertNoTensorLeaks(() => {
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(layerNorm(x, weight, bias))) as tf.Scalar, only);
        tf.dispose([value, ...Object.values(grads)]);
      });
    }
    tf.dispose([x, weight, bias]);
  });

  it('names the argument, its shape and what was expected', () => {
    const x = tf.zeros([2, 4]);
    expect(() => layerNorm(x, tf.ones([3]))).toThrow(/weight must be float32 \[4\] \(x is \[2,4\]\), got float32 \[3\]/);
    expect(() => gelu(x, 'erf' as 'exact')).toThrow(/approximate must be 'exact' or 'tanh'/);
    x.dispose();
  });
});
