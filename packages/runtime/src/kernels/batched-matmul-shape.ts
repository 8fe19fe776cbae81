/** The sizes of `op(A)·op(B)` over matching batch dimensions; the op front end has checked them. */
export interface BatchedMatMulShape {
  batchShape: number[];
  batch: number;
  m: number;
  k: number;
  n: number;
}

/**
 * The sizes of `op(A)·op(B)` for `EmbedlabMatMul`, which reads each operand of any rank as a matrix
 * `[rows, last]` (its leading dimensions flattened, as they are in memory): no Reshape is needed
 * around a product of activations `[batch, time, features]`. The output keeps A's leading
 * dimensions when A is not transposed (`[..., n]`), else it is `[m, n]`.
 */
export function rowsMatMulShape(
  aShape: readonly number[],
  bShape: readonly number[],
  transposeA: boolean,
  transposeB: boolean,
): { m: number; k: number; n: number; outShape: number[] } {
  const asMatrix = (shape: readonly number[]) => [shape.slice(0, -1).reduce((x, y) => x * y, 1), shape.at(-1)!] as const;
  const [aRows, aCols] = asMatrix(aShape);
  const [bRows, bCols] = asMatrix(bShape);
  const [m, k] = transposeA ? [aCols, aRows] : [aRows, aCols];
  const n = transposeB ? bRows : bCols;
  return { m, k, n, outShape: transposeA || aShape.length <= 2 ? [m, n] : [...aShape.slice(0, -1), n] };
}

export function batchedMatMulShape(aShape: readonly number[], bShape: readonly number[], transposeA: boolean, transposeB: boolean): BatchedMatMulShape {
  const batchShape = aShape.slice(0, -2);
  const [aRows, aCols] = aShape.slice(-2) as [number, number];
  const [bRows, bCols] = bShape.slice(-2) as [number, number];
  const [m, k] = transposeA ? [aCols, aRows] : [aRows, aCols];
  const n = transposeB ? bRows : bCols;
  return { batchShape, batch: batchShape.reduce((x, y) => x * y, 1), m, k, n };
}
