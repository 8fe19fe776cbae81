// Ctrl-C and kills stop a training session cleanly (after its step, so it saves). Node only.
import type { TrainingSession } from './session.js';

/** Stops `session` after its current step on SIGINT or SIGTERM (so it saves); returns the undo. */
export function stopOnSignals(session: TrainingSession): () => void {
  const stop = () => session.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  };
}
