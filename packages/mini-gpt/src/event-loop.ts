// Long loops (training steps, sampled tokens) hand the event loop a turn between iterations, so
// that signals, worker messages and a page's input are served.

const turn: (resolve: () => void) => void =
  // setTimeout(0) waits at least a millisecond, longer than a token takes to decode; setImmediate (Node) does not.
  typeof globalThis.setImmediate === 'function' ? (resolve) => globalThis.setImmediate(resolve) : (resolve) => setTimeout(resolve, 0);

/** Resolves once the event loop has had a turn. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise<void>(turn);
}
