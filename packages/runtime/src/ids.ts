import { type Tensor, tf } from './tf.js';

export type TokenIds = Tensor | ArrayLike<number> | ArrayLike<ArrayLike<number>>;

function coordinates(flatIndex: number, shape: number[]): string {
  const coords: number[] = [];
  let rest = flatIndex;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    coords.unshift(rest % shape[axis]!);
    rest = Math.floor(rest / shape[axis]!);
  }
  return shape.length <= 1 ? `position ${flatIndex}` : `position [${coords.join(', ')}]`;
}

/**
 * Turns ids (an int32 tensor, or plain arrays) into an int32 tensor after checking every id is
 * an integer in [0, vocabSize). Errors name the offending id and where it is.
 */
export function checkedIds(owner: string, ids: TokenIds, vocabSize: number): Tensor {
  let values: ArrayLike<number>;
  let shape: number[];
  if (ids instanceof tf.Tensor) {
    if (ids.dtype !== 'int32') throw new TypeError(`${owner}: ids must be an int32 tensor, got ${ids.dtype} (use tf.tensor(ids, shape, 'int32'))`);
    values = ids.dataSync();
    shape = ids.shape;
  } else {
    const nested = ids.length > 0 && typeof ids[0] === 'object';
    const rows = nested ? Array.from(ids as ArrayLike<ArrayLike<number>>, (row) => Array.from(row)) : [Array.from(ids as ArrayLike<number>)];
    const width = rows[0]?.length ?? 0;
    const ragged = rows.findIndex((row) => row.length !== width);
    if (ragged >= 0) throw new Error(`${owner}: ids row ${ragged} has ${rows[ragged]!.length} ids, but row 0 has ${width}`);
    values = rows.flat();
    shape = nested ? [rows.length, width] : [width];
  }
  for (let i = 0; i < values.length; i++) {
    const id = values[i]!;
    if (!Number.isInteger(id)) throw new TypeError(`${owner}: id ${id} at ${coordinates(i, shape)} is not an integer`);
    if (id < 0 || id >= vocabSize) throw new RangeError(`${owner}: id ${id} at ${coordinates(i, shape)} is outside [0, ${vocabSize})`);
  }
  return ids instanceof tf.Tensor ? ids : tf.tensor(values as number[], shape, 'int32');
}
