import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ready } from '../backend.js';
import { assertNoTensorLeaks } from '../memory.js';
import { tf } from '../tf.js';
import { causalAttention } from './causal-attention.js';
import { softmaxCrossEntropy } from './cross-entropy.js';
import { dropoutMask } from './dropout-mask.js';
import { layerNorm } from './layer-norm.js';

// The ops whose kernels return more than their result (kept for the gradient) must leave one
// output on the tape: for an output with no incoming gradient tfjs makes a zero-filled one in
// JavaScript before calling the gradient, which cost ~10 ms of a baby training step.

afterEach(() => {
  vi.restoreAllMocks();
});

/** The sizes of the tensors tfjs builds from JavaScript values while `f` runs. */
function sizesMadeFromValues(f: () => void): number[] {
  const engine = tf.engine();
  const makeTensor = vi.spyOn(engine, 'makeTensor');
  f();
  return makeTensor.mock.calls.map(([values]) => (values as ArrayLike<number>).length);
}

const [batch, seq, heads, width] = [2, 16, 2, 8];
// Built once, so that the only tensors made from values during a gradient are the engine's.
let constants: Record<'keep' | 'ones' | 'zeros' | 'targets', tf.Tensor>;
beforeAll(async () => {
  await ready();
  constants = {
    keep: dropoutMask([batch, heads, seq, seq], 0.1, 7),
    ones: tf.ones([width]),
    zeros: tf.zeros([width]),
    targets: tf.zeros([batch, seq], 'int32'),
  };
});

describe.each([
  {
    op: 'causalAttention',
    hidden: batch * heads * seq * seq,
    loss: (x: tf.Tensor) => tf.sum(causalAttention(tf.concat([x, x, x], 2), { heads, keep: constants.keep })),
  },
  { op: 'layerNorm', hidden: batch * seq, loss: (x: tf.Tensor) => tf.sum(layerNorm(x, constants.ones, constants.zeros)) },
  { op: 'softmaxCrossEntropy', hidden: batch * seq, loss: (x: tf.Tensor) => softmaxCrossEntropy(x, constants.targets) },
])('$op', ({ hidden, loss }) => {
  it('builds no zero-filled gradient for its hidden outputs, and frees what it kept', async () => {
    const x = tf.randomNormal([batch, seq, width], 0, 1, 'float32', 3);
    const grad = tf.grad(loss);
    expect(sizesMadeFromValues(() => tf.dispose(grad(x)))).not.toContain(hidden);
    await assertNoTensorLeaks(() => tf.dispose(grad(x)));
    x.dispose();
  });
});
