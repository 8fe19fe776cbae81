// AssemblyScript, compiled with SIMD to the wasm module behind the wasm backend's Transpose when
// it swaps the last two axes (a 2-D transpose per batch): 4x4 blocks transposed in registers with
// shuffles, inside 32x32 tiles so the rows read and the columns written stay in L1. tfjs-backend-
// wasm's generic transpose moves one element at a time. Works on any 4-byte element.

import { transpose4x4 } from './shared/transpose4';

const TILE = 32;

/** out[b, c, r] = x[b, r, c] for `batch` matrices of `rows` x `columns` 4-byte elements. */
export function transpose(x: usize, out: usize, batch: i32, rows: i32, columns: i32): void {
  const matrixBytes = (<usize>rows * columns) << 2;
  for (let b = 0; b < batch; b++) {
    const xb = x + <usize>b * matrixBytes;
    const ob = out + <usize>b * matrixBytes;
    for (let r0 = 0; r0 < rows; r0 += TILE) {
      const rEnd = min(r0 + TILE, rows);
      for (let c0 = 0; c0 < columns; c0 += TILE) {
        const cEnd = min(c0 + TILE, columns);
        tile(xb, ob, rows, columns, r0, rEnd, c0, cEnd);
      }
    }
  }
}

function tile(x: usize, out: usize, rows: i32, columns: i32, r0: i32, rEnd: i32, c0: i32, cEnd: i32): void {
  const inRow = (<usize>columns) << 2;
  const outRow = (<usize>rows) << 2;
  const rBlocks = r0 + ((rEnd - r0) & ~3);
  const cBlocks = c0 + ((cEnd - c0) & ~3);
  for (let r = r0; r < rBlocks; r += 4) {
    for (let c = c0; c < cBlocks; c += 4) {
      transpose4x4(x + <usize>r * inRow + ((<usize>c) << 2), inRow, out + <usize>c * outRow + ((<usize>r) << 2), outRow);
    }
    for (let c = cBlocks; c < cEnd; c++) for (let i = 0; i < 4; i++) copy(x, out, inRow, outRow, r + i, c);
  }
  for (let r = rBlocks; r < rEnd; r++) for (let c = c0; c < cEnd; c++) copy(x, out, inRow, outRow, r, c);
}

function copy(x: usize, out: usize, inRow: usize, outRow: usize, r: i32, c: i32): void {
  store<i32>(out + <usize>c * outRow + ((<usize>r) << 2), load<i32>(x + <usize>r * inRow + ((<usize>c) << 2)));
}
