/** The sizes of `op(A)·op(B)` over matching batch dimensions; the op front end has checked them. */
export interface BatchedMatMulShape {
  batchShape: number[];
  batch: number;
  m: number;
  k: number;
  n: number;
}

export function batchedMatMulShape(aShape: readonly number[], bShape: readonly number[], transposeA: boolean, transposeB: boolean): BatchedMatMulShape {
  const batchShape = aShape.slice(0, -2);
  const [aRows, aCols] = aShape.slice(-2) as [number, number];
  const [bRows, bCols] = bShape.slice(-2) as [number, number];
  const [m, k] = transposeA ? [aCols, aRows] : [aRows, aCols];
  const n = transposeB ? bRows : bCols;
  return { batchShape, batch: batchShape.reduce((x, y) => x * y, 1), m, k, n };
}
