// AssemblyScript, compiled with SIMD to the wasm module behind `layerNorm`: LayerNorm over the
// last axis forward and backward in one pass over the rows each, on the wasm backend's memory
// (see gemm.ts). The backward pass is the closed form mini-gpt's layers.ts used:
// dx = rstd·(g − mean(g) − x̂·mean(g·x̂)), g = dy·weight; dweight = Σ dy·x̂; dbias = Σ dy.

/** y = (x − mean)·rstd·weight + bias per row of `width`; saves each row's mean and rstd. `bias` 0: none. */
export function forward(x: usize, weight: usize, bias: usize, y: usize, means: usize, rstds: usize, rows: i32, width: i32, epsilon: f32): void {
  const rowBytes = (<usize>width) << 2;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    let sum: f32 = 0;
    for (let i = 0; i < width; i++) sum += load<f32>(xr + ((<usize>i) << 2));
    const mean = sum / <f32>width;
    let squares: f32 = 0;
    for (let i = 0; i < width; i++) {
      const centred = load<f32>(xr + ((<usize>i) << 2)) - mean;
      squares += centred * centred;
    }
    const rstd = <f32>1 / Mathf.sqrt(squares / <f32>width + epsilon);
    store<f32>(means + ((<usize>r) << 2), mean);
    store<f32>(rstds + ((<usize>r) << 2), rstd);
    const yr = y + <usize>r * rowBytes;
    for (let i = 0; i < width; i++) {
      const at = (<usize>i) << 2;
      const scaled = (load<f32>(xr + at) - mean) * rstd * load<f32>(weight + at);
      store<f32>(yr + at, bias !== 0 ? scaled + load<f32>(bias + at) : scaled);
    }
  }
}

/** dx, dweight and dbias (each `width`, summed over rows) from dy, x and the saved means and rstds. */
export function backward(dy: usize, x: usize, weight: usize, means: usize, rstds: usize, dx: usize, dWeight: usize, dBias: usize, rows: i32, width: i32): void {
  const rowBytes = (<usize>width) << 2;
  memory.fill(dWeight, 0, rowBytes);
  memory.fill(dBias, 0, rowBytes);
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    const dyr = dy + <usize>r * rowBytes;
    const mean = load<f32>(means + ((<usize>r) << 2));
    const rstd = load<f32>(rstds + ((<usize>r) << 2));
    let gSum: f32 = 0;
    let gxSum: f32 = 0;
    for (let i = 0; i < width; i++) {
      const at = (<usize>i) << 2;
      const normalised = (load<f32>(xr + at) - mean) * rstd;
      const d = load<f32>(dyr + at);
      const g = d * load<f32>(weight + at);
      gSum += g;
      gxSum += g * normalised;
      store<f32>(dWeight + at, load<f32>(dWeight + at) + d * normalised);
      store<f32>(dBias + at, load<f32>(dBias + at) + d);
    }
    const gMean = gSum / <f32>width;
    const gxMean = gxSum / <f32>width;
    const dxr = dx + <usize>r * rowBytes;
    for (let i = 0; i < width; i++) {
      const at = (<usize>i) << 2;
      const normalised = (load<f32>(xr + at) - mean) * rstd;
      store<f32>(dxr + at, (load<f32>(dyr + at) * load<f32>(weight + at) - gMean - normalised * gxMean) * rstd);
    }
  }
}
