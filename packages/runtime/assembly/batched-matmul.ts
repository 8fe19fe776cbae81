// AssemblyScript, compiled with SIMD to the wasm module behind `batchedMatMul`.
// tfjs-backend-wasm sends every batched or transposed product to a scalar loop; attention's
// products ([batch·heads, seq, seq] by [batch·heads, seq, headDim]) are all of that kind.
//
// The module has no memory of its own: it is instantiated on the wasm backend's memory (imported
// as env.memory), so the operands and the output are tfjs's own tensors on its heap, and the caller
// passes their addresses. Scratch space comes from the backend's allocator too. Each matrix is
// row-major; a transposed operand is first copied upright into scratch so the inner loop always
// walks contiguous rows of B and C four floats at a time. The module must carry no data segment
// (it would overwrite the backend's memory when instantiated): scripts/build-kernels.mjs checks.

function transposeInto(source: usize, rows: i32, cols: i32, target: usize): void {
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      store<f32>(target + ((<usize>c * rows + r) << 2), load<f32>(source + ((<usize>r * cols + c) << 2)));
    }
  }
}

/** C[m, n] = A[m, k] · B[k, n], all row-major: 4×8 tiles of C held in eight SIMD registers. */
function product(a: usize, b: usize, c: usize, m: i32, k: i32, n: i32): void {
  const tileRows = m & ~3;
  const tileCols = n & ~7;
  const rowBytes = (<usize>n) << 2;
  for (let i = 0; i < tileRows; i += 4) {
    const a0 = a + ((<usize>i * k) << 2);
    const a1 = a0 + ((<usize>k) << 2);
    const a2 = a1 + ((<usize>k) << 2);
    const a3 = a2 + ((<usize>k) << 2);
    for (let j = 0; j < tileCols; j += 8) {
      let c00 = f32x4.splat(0),
        c01 = f32x4.splat(0),
        c10 = f32x4.splat(0),
        c11 = f32x4.splat(0);
      let c20 = f32x4.splat(0),
        c21 = f32x4.splat(0),
        c30 = f32x4.splat(0),
        c31 = f32x4.splat(0);
      let bp = b + ((<usize>j) << 2);
      for (let p = 0; p < k; p++) {
        const b0 = v128.load(bp);
        const b1 = v128.load(bp, 16);
        const offset = (<usize>p) << 2;
        const x0 = f32x4.splat(load<f32>(a0 + offset));
        const x1 = f32x4.splat(load<f32>(a1 + offset));
        const x2 = f32x4.splat(load<f32>(a2 + offset));
        const x3 = f32x4.splat(load<f32>(a3 + offset));
        c00 = f32x4.add(c00, f32x4.mul(x0, b0));
        c01 = f32x4.add(c01, f32x4.mul(x0, b1));
        c10 = f32x4.add(c10, f32x4.mul(x1, b0));
        c11 = f32x4.add(c11, f32x4.mul(x1, b1));
        c20 = f32x4.add(c20, f32x4.mul(x2, b0));
        c21 = f32x4.add(c21, f32x4.mul(x2, b1));
        c30 = f32x4.add(c30, f32x4.mul(x3, b0));
        c31 = f32x4.add(c31, f32x4.mul(x3, b1));
        bp += rowBytes;
      }
      const out = c + ((<usize>i * n + j) << 2);
      v128.store(out, c00);
      v128.store(out, c01, 16);
      v128.store(out + rowBytes, c10);
      v128.store(out + rowBytes, c11, 16);
      v128.store(out + 2 * rowBytes, c20);
      v128.store(out + 2 * rowBytes, c21, 16);
      v128.store(out + 3 * rowBytes, c30);
      v128.store(out + 3 * rowBytes, c31, 16);
    }
    scalarBlock(a, b, c, i, i + 4, tileCols, n, k, n);
  }
  scalarBlock(a, b, c, tileRows, m, 0, n, k, n);
}

/** The rows and columns the tiles leave over, one dot product at a time. */
function scalarBlock(a: usize, b: usize, c: usize, rowStart: i32, rowEnd: i32, colStart: i32, colEnd: i32, k: i32, n: i32): void {
  for (let i = rowStart; i < rowEnd; i++) {
    for (let j = colStart; j < colEnd; j++) {
      let sum: f32 = 0;
      for (let p = 0; p < k; p++) {
        sum += load<f32>(a + ((<usize>i * k + p) << 2)) * load<f32>(b + ((<usize>p * n + j) << 2));
      }
      store<f32>(c + ((<usize>i * n + j) << 2), sum);
    }
  }
}

/**
 * For each of `batch` pairs: C = op(A) · op(B) with op(A) `[m, k]` and op(B) `[k, n]`, where op
 * transposes when asked (A stored `[k, m]`, B stored `[n, k]`). A transposed A is copied upright
 * to `uprightA` (m·k floats), a transposed B to `uprightB` (k·n floats); unused otherwise.
 */
export function batchedMatMul(
  a: usize,
  b: usize,
  c: usize,
  uprightA: usize,
  uprightB: usize,
  batch: i32,
  m: i32,
  k: i32,
  n: i32,
  transposeA: bool,
  transposeB: bool,
): void {
  const aSize = (<usize>m * k) << 2;
  const bSize = (<usize>k * n) << 2;
  const cSize = (<usize>m * n) << 2;
  for (let index = 0; index < batch; index++) {
    const aIn = a + <usize>index * aSize;
    const bIn = b + <usize>index * bSize;
    if (transposeA) transposeInto(aIn, k, m, uprightA);
    if (transposeB) transposeInto(bIn, n, k, uprightB);
    product(transposeA ? uprightA : aIn, transposeB ? uprightB : bIn, c + <usize>index * cSize, m, k, n);
  }
}
