// RoPE scaling at evaluation time: a spec such as `yarn:4` read into a scaling, and a model's
// weights under it (how far a RoPE model reaches past the length it was trained on).
import type { RopeScaling } from '@embedlab/positional-encodings';
import { createModel, type MiniGPT } from '../model/model.js';

/**
 * The same weights with RoPE scaled for longer contexts (`linear`, `dynamic`, `yarn`, `llama3`),
 * applied at evaluation time without retraining. A new model: dispose it when done.
 */
export function withRopeScaling(model: MiniGPT, scaling: RopeScaling): MiniGPT {
  if (model.config.position !== 'rope') throw new Error(`withRopeScaling: the model has ${model.config.position} positions; RoPE scaling needs rope`);
  const scaled = createModel({ ...model.config, rope: { ...model.config.rope, scaling } });
  const weights = model.stateDict();
  for (const [name, variable] of scaled.stateDict()) variable.assign(weights.get(name)!);
  return scaled;
}

/**
 * `linear:F`, `dynamic:F`, `yarn:F` or `llama3:F` as a RoPE scaling for a model trained on
 * `trainedLength` positions (the original length the scaled variants need).
 */
export function parseRopeScaling(spec: string, trainedLength: number): RopeScaling {
  const match = /^(linear|dynamic|yarn|llama3):(\d+(?:\.\d+)?)$/.exec(spec);
  if (!match) throw new Error(`RoPE scaling must be linear:F, dynamic:F, yarn:F or llama3:F with a factor F >= 1, got ${JSON.stringify(spec)}`);
  const factor = Number(match[2]);
  if (!(factor >= 1)) throw new RangeError(`RoPE scaling factor must be at least 1, got ${factor}`);
  const type = match[1] as RopeScaling['type'];
  return type === 'linear' ? { type, factor } : { type, factor, originalMaxPositions: trainedLength };
}
