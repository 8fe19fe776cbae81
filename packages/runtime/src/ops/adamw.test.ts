import { expectClose } from '@embedlab/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../backend.js';
import { AdamW, GlobalNorm } from '../kernel-names.js';
import { assertNoTensorLeaks } from '../memory.js';
import { tf } from '../tf.js';
import { adamwUpdate, globalNorm } from './adamw.js';

// The fused ops against the chain of tfjs ops they replace: PyTorch's clip_grad_norm_ and
// torch.optim.AdamW written with tfjs kernels (mini-gpt's optimizer until now), step after step.

/** clip_grad_norm_ and AdamW (decoupled decay on rank ≥ 2) with tfjs ops: the reference. */
function referenceStep(params: tf.Variable[], grads: tf.Tensor[], m: tf.Variable[], v: tf.Variable[], step: number, o: Options): number {
  const norm = tf.tidy(() => Math.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g)))).dataSync()[0]!));
  const scale = o.maxNorm / (norm + 1e-6);
  const [c1, c2] = [1 - o.beta1 ** step, 1 - o.beta2 ** step];
  tf.tidy(() => {
    for (const [i, p] of params.entries()) {
      const g = o.maxNorm > 0 && scale < 1 ? tf.mul(grads[i]!, scale) : grads[i]!;
      m[i]!.assign(tf.add(tf.mul(m[i]!, o.beta1), tf.mul(g, 1 - o.beta1)));
      v[i]!.assign(tf.add(tf.mul(v[i]!, o.beta2), tf.mul(tf.square(g), 1 - o.beta2)));
      const decayed = p.rank >= 2 && o.weightDecay > 0 ? tf.mul(p, 1 - o.lr * o.weightDecay) : p;
      const update = tf.div(tf.div(m[i]!, c1), tf.add(tf.sqrt(tf.div(v[i]!, c2)), o.epsilon));
      p.assign(tf.sub(decayed, tf.mul(update, o.lr)));
    }
  });
  return norm;
}

interface Options {
  lr: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  maxNorm: number;
}

describe.each(['wasm', 'cpu'] as const)('globalNorm and adamwUpdate on %s', (backend) => {
  beforeAll(async () => {
    await ready({ backend });
  });

  const shapes = [[7, 13], [13], [3, 4, 5], [1], [64, 65]];
  const setup = (seed: number) => {
    const params = shapes.map((shape, i) => tf.variable(tf.randomNormal(shape, 0, 1, 'float32', seed + i)));
    const moments = () => shapes.map((shape) => tf.variable(tf.zeros(shape), false));
    return { params, m: moments(), v: moments() };
  };

  it.each([
    ['clipping (norm above 1)', { lr: 0.01, beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1, maxNorm: 1 }, 3],
    ['no clipping (norm below the limit), no decay', { lr: 3e-4, beta1: 0.8, beta2: 0.999, epsilon: 1e-6, weightDecay: 0, maxNorm: 1000 }, 0.5],
  ] as const)('give the numbers of the tfjs ops step after step: %s', (_, o, gradStd) => {
    const ours = setup(1);
    const theirs = setup(1);
    for (let step = 1; step <= 3; step++) {
      const grads = shapes.map((shape, i) => tf.randomNormal(shape, 0, gradStd, 'float32', 100 * step + i));
      const expectedNorm = referenceStep(theirs.params, grads, theirs.m, theirs.v, step, o);
      const norm = globalNorm(grads);
      // The reference sums in float32 kernels, ours in float64 over float32 blocks: a few ulps apart.
      expectClose(norm.dataSync(), [expectedNorm], { label: `step ${step} norm`, tolerance: 1e-5 });
      const scale = o.maxNorm / (norm.dataSync()[0]! + 1e-6);
      adamwUpdate(ours.params, grads, ours, {
        learningRate: o.lr,
        beta1: o.beta1,
        beta2: o.beta2,
        epsilon: o.epsilon,
        weightDecay: o.weightDecay,
        step,
        gradScale: Math.min(scale, 1),
      });
      for (const [i, p] of ours.params.entries()) {
        expectClose(p, theirs.params[i]!, { label: `step ${step} param ${i}`, tolerance: 1e-6 });
        expectClose(ours.m[i]!, theirs.m[i]!, { label: `step ${step} m ${i}`, tolerance: 1e-6 });
        expectClose(ours.v[i]!, theirs.v[i]!, { label: `step ${step} v ${i}`, tolerance: 1e-6 });
      }
      tf.dispose([norm, ...grads]);
    }
    tf.dispose([...ours.params, ...ours.m, ...ours.v, ...theirs.params, ...theirs.m, ...theirs.v]);
  });

  it('runs one kernel each, leaks no tensors, and names what is wrong', async () => {
    const { params, m, v } = setup(7);
    const grads = shapes.map((shape) => tf.ones(shape));
    const options = { learningRate: 0.1, beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1, step: 1 };
    const profile = await tf.profile(() => {
      tf.dispose(globalNorm(grads));
      adamwUpdate(params, grads, { m, v }, options);
    });
    expect(profile.kernelNames).toEqual([GlobalNorm, AdamW]);
    let step = 1;
    await assertNoTensorLeaks(() => {
      tf.dispose(globalNorm(grads));
      adamwUpdate(params, grads, { m, v }, { ...options, step: ++step });
    });
    expect(() => adamwUpdate(params, grads.slice(1), { m, v }, options)).toThrow(/grads has 4 entries for 5 parameters/);
    expect(() => adamwUpdate(params, [...grads.slice(1), grads[0]!], { m, v }, options)).toThrow(/grads\[0\] must be float32 \[7,13\], got float32 \[13\]/);
    expect(() => adamwUpdate(params, grads, { m, v }, { ...options, beta2: 1 })).toThrow(/beta2 is out of range, got 1/);
    tf.dispose([...params, ...m, ...v, ...grads]);
  });
});
