// Element-wise comparisons of numbers within a tolerance, for arrays and tensors alike (anything
// with `shape` and `dataSync()`, so this package needs no TensorFlow.js). Failures throw, which
// any test runner reports; nothing here imports the runner.

function isTensor(value) {
  return typeof value === 'object' && value !== null && Array.isArray(value.shape) && typeof value.dataSync === 'function';
}

function values(value) {
  return isTensor(value) ? value.dataSync() : value;
}

/** The largest |a[i] - b[i]|; throws when the lengths differ. */
export function maxDifference(a, b) {
  if (a.length !== b.length) throw new Error(`maxDifference: lengths differ, ${a.length} and ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** The largest |a[i] - b[i]| / max(1, |b[i]|): absolute below 1, relative above; throws when the lengths differ. */
export function maxRelativeDifference(a, b) {
  if (a.length !== b.length) throw new Error(`maxRelativeDifference: lengths differ, ${a.length} and ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return worst;
}

/**
 * Asserts that `actual` matches `expected` element by element: the same shape (tensors) or length
 * (arrays), and every |actual[i] - expected[i]| ≤ tolerance · max(1, |expected[i]|), or
 * ≤ tolerance with `absolute: true`. A failure names the first element out of tolerance.
 */
export function expectClose(actual, expected, { tolerance = 1e-4, absolute = false, label } = {}) {
  const prefix = label ? `${label}: ` : '';
  if (isTensor(actual) && isTensor(expected) && JSON.stringify(actual.shape) !== JSON.stringify(expected.shape)) {
    throw new Error(`${prefix}shape [${actual.shape}] differs from the expected [${expected.shape}]`);
  }
  const a = values(actual);
  const e = values(expected);
  if (a.length !== e.length) throw new Error(`${prefix}length ${a.length} differs from the expected ${e.length}`);
  for (let i = 0; i < e.length; i++) {
    const allowed = absolute ? tolerance : tolerance * Math.max(1, Math.abs(e[i]));
    const difference = Math.abs(a[i] - e[i]);
    if (!(difference <= allowed)) throw new Error(`${prefix}element ${i}: ${a[i]} against ${e[i]} differs by ${difference}, more than ${allowed}`);
  }
}
