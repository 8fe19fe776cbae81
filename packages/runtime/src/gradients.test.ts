import { describe, expect, it } from 'vitest';
import { ready } from './backend.js';
import { tf } from './tf.js';

// tfjs-core's Node entry registers no gradients; these fail if the runtime's bundled
// registrations go missing or bind to another copy of tfjs-core.
describe.each(['wasm', 'cpu'] as const)('gradients on %s', (backend) => {
  it('registers the gradients of core ops', async () => {
    await ready({ backend });
    const x = tf.tensor1d([1, 2, 4]);
    const dx = tf.grad((v: tf.Tensor) => tf.sum(tf.div(tf.log(v), tf.scalar(2))))(x);
    expect(Array.from(dx.dataSync())).toEqual([0.5, 0.25, 0.125].map((v) => Math.fround(v)));
    for (const kernel of ['RealDiv', 'BatchMatMul', 'Softmax', 'Erf', 'Transpose', 'GatherV2', 'Tanh', 'Pow']) {
      expect(tf.getGradient(kernel), kernel).toBeDefined();
    }
  });
});
