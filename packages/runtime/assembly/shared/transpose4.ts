// The 4x4 block transpose shared by the transpose kernel and the product's packing (gemm.ts).

/** Reads four rows of four floats (`inRow` bytes apart) at `from`; writes them as four columns (rows of the result `outRow` bytes apart) at `to`. */
export function transpose4x4(from: usize, inRow: usize, to: usize, outRow: usize): void {
  const a = v128.load(from);
  const b = v128.load(from + inRow);
  const c = v128.load(from + 2 * inRow);
  const d = v128.load(from + 3 * inRow);
  const ab01 = v128.shuffle<i32>(a, b, 0, 4, 1, 5);
  const ab23 = v128.shuffle<i32>(a, b, 2, 6, 3, 7);
  const cd01 = v128.shuffle<i32>(c, d, 0, 4, 1, 5);
  const cd23 = v128.shuffle<i32>(c, d, 2, 6, 3, 7);
  v128.store(to, v128.shuffle<i32>(ab01, cd01, 0, 1, 4, 5));
  v128.store(to + outRow, v128.shuffle<i32>(ab01, cd01, 2, 3, 6, 7));
  v128.store(to + 2 * outRow, v128.shuffle<i32>(ab23, cd23, 0, 1, 4, 5));
  v128.store(to + 3 * outRow, v128.shuffle<i32>(ab23, cd23, 2, 3, 6, 7));
}
