// AssemblyScript, compiled with SIMD to the wasm module behind `sumRows`: the column sums of a
// row-major [rows, n] matrix (a bias's gradient), on the wasm backend's memory. Each row is added
// into the output four floats at a time; the output (n floats) stays in L1 throughout.

/** out[j] = Σᵢ x[i, j] for x `[rows, n]`. */
export function sumRows(x: usize, out: usize, rows: i32, n: i32): void {
  const vectorEnd = n & ~3;
  for (let j = 0; j < n; j++) store<f32>(out + ((<usize>j) << 2), 0);
  for (let i = 0; i < rows; i++) {
    const row = x + ((<usize>i * n) << 2);
    for (let j = 0; j < vectorEnd; j += 4) {
      const at = (<usize>j) << 2;
      v128.store(out + at, f32x4.add(v128.load(out + at), v128.load(row + at)));
    }
    for (let j = vectorEnd; j < n; j++) {
      const at = (<usize>j) << 2;
      store<f32>(out + at, load<f32>(out + at) + load<f32>(row + at));
    }
  }
}
