export interface ScheduleOptions {
  learningRate: number;
  /** Floor of the cosine decay. */
  minLearningRate: number;
  warmupSteps: number;
  /** Step at which the decay reaches the floor (nanoGPT's `lr_decay_iters`). */
  decaySteps: number;
}

/** nanoGPT's `get_lr`: linear warmup, then cosine decay to a floor, then the floor. */
export function learningRateAt(step: number, { learningRate, minLearningRate, warmupSteps, decaySteps }: ScheduleOptions): number {
  if (step < warmupSteps) return (learningRate * (step + 1)) / (warmupSteps + 1);
  if (step > decaySteps) return minLearningRate;
  const ratio = (step - warmupSteps) / Math.max(1, decaySteps - warmupSteps);
  return minLearningRate + 0.5 * (1 + Math.cos(Math.PI * ratio)) * (learningRate - minLearningRate);
}
