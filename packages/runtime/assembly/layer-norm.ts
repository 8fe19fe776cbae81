// AssemblyScript, compiled with SIMD to the wasm module behind `layerNorm`: LayerNorm over the
// last axis forward and backward in one pass over the rows each, four floats at a time, on the
// wasm backend's memory (see gemm.ts). The backward pass is the closed form mini-gpt's layers.ts
// used: dx = rstd·(g − mean(g) − x̂·mean(g·x̂)), g = dy·weight; dweight = Σ dy·x̂; dbias = Σ dy.

/** The four lanes' sum. */
function laneSum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/** y = (x − mean)·rstd·weight + bias per row of `width`; saves each row's mean and rstd. `bias` 0: none. */
export function forward(x: usize, weight: usize, bias: usize, y: usize, means: usize, rstds: usize, rows: i32, width: i32, epsilon: f32): void {
  const rowBytes = (<usize>width) << 2;
  const vectorEnd = width & ~3;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    let sums = f32x4.splat(0);
    for (let i = 0; i < vectorEnd; i += 4) sums = f32x4.add(sums, v128.load(xr + ((<usize>i) << 2)));
    let sum = laneSum(sums);
    for (let i = vectorEnd; i < width; i++) sum += load<f32>(xr + ((<usize>i) << 2));
    const mean = sum / <f32>width;
    const meanLanes = f32x4.splat(mean);
    let squareLanes = f32x4.splat(0);
    for (let i = 0; i < vectorEnd; i += 4) {
      const centred = f32x4.sub(v128.load(xr + ((<usize>i) << 2)), meanLanes);
      squareLanes = f32x4.add(squareLanes, f32x4.mul(centred, centred));
    }
    let squares = laneSum(squareLanes);
    for (let i = vectorEnd; i < width; i++) {
      const centred = load<f32>(xr + ((<usize>i) << 2)) - mean;
      squares += centred * centred;
    }
    const rstd = <f32>1 / Mathf.sqrt(squares / <f32>width + epsilon);
    store<f32>(means + ((<usize>r) << 2), mean);
    store<f32>(rstds + ((<usize>r) << 2), rstd);
    const rstdLanes = f32x4.splat(rstd);
    const yr = y + <usize>r * rowBytes;
    for (let i = 0; i < vectorEnd; i += 4) {
      const at = (<usize>i) << 2;
      const scaled = f32x4.mul(f32x4.mul(f32x4.sub(v128.load(xr + at), meanLanes), rstdLanes), v128.load(weight + at));
      v128.store(yr + at, bias !== 0 ? f32x4.add(scaled, v128.load(bias + at)) : scaled);
    }
    for (let i = vectorEnd; i < width; i++) {
      const at = (<usize>i) << 2;
      const scaled = (load<f32>(xr + at) - mean) * rstd * load<f32>(weight + at);
      store<f32>(yr + at, bias !== 0 ? scaled + load<f32>(bias + at) : scaled);
    }
  }
}

/** dx, dweight and dbias (each `width`, summed over rows) from dy, x and the saved means and rstds. */
export function backward(dy: usize, x: usize, weight: usize, means: usize, rstds: usize, dx: usize, dWeight: usize, dBias: usize, rows: i32, width: i32): void {
  const rowBytes = (<usize>width) << 2;
  const vectorEnd = width & ~3;
  memory.fill(dWeight, 0, rowBytes);
  memory.fill(dBias, 0, rowBytes);
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    const dyr = dy + <usize>r * rowBytes;
    const mean = load<f32>(means + ((<usize>r) << 2));
    const rstd = load<f32>(rstds + ((<usize>r) << 2));
    const meanLanes = f32x4.splat(mean);
    const rstdLanes = f32x4.splat(rstd);
    let gLanes = f32x4.splat(0);
    let gxLanes = f32x4.splat(0);
    for (let i = 0; i < vectorEnd; i += 4) {
      const at = (<usize>i) << 2;
      const normalised = f32x4.mul(f32x4.sub(v128.load(xr + at), meanLanes), rstdLanes);
      const d = v128.load(dyr + at);
      const g = f32x4.mul(d, v128.load(weight + at));
      gLanes = f32x4.add(gLanes, g);
      gxLanes = f32x4.add(gxLanes, f32x4.mul(g, normalised));
      v128.store(dWeight + at, f32x4.add(v128.load(dWeight + at), f32x4.mul(d, normalised)));
      v128.store(dBias + at, f32x4.add(v128.load(dBias + at), d));
    }
    let gSum = laneSum(gLanes);
    let gxSum = laneSum(gxLanes);
    for (let i = vectorEnd; i < width; i++) {
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
    const gMeanLanes = f32x4.splat(gMean);
    const gxMeanLanes = f32x4.splat(gxMean);
    const dxr = dx + <usize>r * rowBytes;
    for (let i = 0; i < vectorEnd; i += 4) {
      const at = (<usize>i) << 2;
      const normalised = f32x4.mul(f32x4.sub(v128.load(xr + at), meanLanes), rstdLanes);
      const g = f32x4.mul(v128.load(dyr + at), v128.load(weight + at));
      v128.store(dxr + at, f32x4.mul(f32x4.sub(f32x4.sub(g, gMeanLanes), f32x4.mul(normalised, gxMeanLanes)), rstdLanes));
    }
    for (let i = vectorEnd; i < width; i++) {
      const at = (<usize>i) << 2;
      const normalised = (load<f32>(xr + at) - mean) * rstd;
      store<f32>(dxr + at, (load<f32>(dyr + at) * load<f32>(weight + at) - gMean - normalised * gxMean) * rstd);
    }
  }
}
