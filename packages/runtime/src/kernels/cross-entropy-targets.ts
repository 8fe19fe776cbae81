// Shared by both backends' SoftmaxCrossEntropy kernels: a target outside [0, n) would read memory
// past its row (wasm) or give a silently wrong loss, so the ids are checked before any is used.

/** Throws a RangeError naming the first target id outside [0, n). */
export function checkTargets(targets: Int32Array, n: number): void {
  for (const [row, id] of targets.entries()) {
    if (id < 0 || id >= n) throw new RangeError(`softmaxCrossEntropy: targets must be ids in [0, ${n}), got ${id} at row ${row}`);
  }
}
