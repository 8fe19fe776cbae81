import { beforeAll, describe, expect, it } from 'vitest';
import { ready } from './backend.js';
import { checkedIds } from './ids.js';
import { tf } from './tf.js';

describe.each(['wasm', 'cpu'] as const)('checkedIds on %s', (backend) => {
  beforeAll(async () => {
    await ready({ backend });
  });

  it('turns arrays of any nesting into an int32 tensor, and passes an int32 tensor through', () => {
    const flat = checkedIds('test', [3, 0, 2], 4);
    expect(flat.dtype).toBe('int32');
    expect(flat.shape).toEqual([3]);
    expect(Array.from(flat.dataSync())).toEqual([3, 0, 2]);
    const nested = checkedIds('test', [Int32Array.from([1, 2]), [3, 0]], 4);
    expect(nested.shape).toEqual([2, 2]);
    expect(nested.arraySync()).toEqual([
      [1, 2],
      [3, 0],
    ]);
    const tensor = tf.tensor2d([[1, 3]], [1, 2], 'int32');
    expect(checkedIds('test', tensor, 4)).toBe(tensor);
  });

  it('names a bad id, where it is and the owner, and allocates nothing', () => {
    const before = tf.memory().numTensors;
    const rows = [
      [0, 1],
      [2, 4],
    ];
    expect(() => checkedIds('Owner.apply', rows, 4)).toThrow('Owner.apply: id 4 at position [1, 1] is outside [0, 4)');
    expect(() => checkedIds('Owner.apply', [0, -1], 4)).toThrow('Owner.apply: id -1 at position 1 is outside [0, 4)');
    expect(() => checkedIds('Owner.apply', [0.5], 4)).toThrow('Owner.apply: id 0.5 at position 0 is not an integer');
    expect(() => checkedIds('Owner.apply', [[0, 1], [2]], 4)).toThrow('Owner.apply: ids row 1 has 1 ids, but row 0 has 2');
    expect(tf.memory().numTensors).toBe(before);
    const floats = tf.tensor1d([1, 2]);
    expect(() => checkedIds('Owner.apply', floats, 4)).toThrow(/Owner.apply: ids must be an int32 tensor, got float32/);
    expect(() => checkedIds('Owner.apply', tf.tensor3d([0, 1, 2, 5], [1, 2, 2], 'int32'), 4)).toThrow('id 5 at position [0, 1, 1] is outside [0, 4)');
  });
});
