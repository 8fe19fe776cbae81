import { describe, expect, it } from 'vitest';
import { ready } from './backend.js';
import { assertNoTensorLeaks, measureTensorLeaks } from './memory.js';
import { embeddingLookup } from './ops/embedding.js';
import { linear } from './ops/linear.js';
import { tf } from './tf.js';

describe('tensor leak checks', () => {
  it('pass for a forward + backward + update step built from the runtime ops', async () => {
    await ready();
    const table = tf.variable(tf.randomNormal([10, 8])) as tf.Variable<tf.Rank.R2>;
    const weight = tf.variable(tf.randomNormal([8, 10])) as tf.Variable<tf.Rank.R2>;
    const ids = tf.tensor2d(
      [
        [1, 2, 3],
        [4, 5, 5],
      ],
      [2, 3],
      'int32',
    );
    const optimizer = tf.train.adam(1e-2);
    const step = () =>
      tf.tidy(() => {
        optimizer.minimize(() => tf.mean(tf.square(linear(embeddingLookup(table, ids), weight))) as tf.Scalar, false, [table, weight]);
      });
    await expect(assertNoTensorLeaks(step, { steps: 10 })).resolves.toBeUndefined();
  });

  it('catch a step that keeps a tensor', async () => {
    const kept: tf.Tensor[] = [];
    const report = await measureTensorLeaks(() => kept.push(tf.ones([2])), { steps: 4 });
    expect(report.leakedPerStep).toBe(1);
    await expect(assertNoTensorLeaks(() => kept.push(tf.ones([2])))).rejects.toThrow(/tensor leak: 1 tensors per step/);
  });
});
