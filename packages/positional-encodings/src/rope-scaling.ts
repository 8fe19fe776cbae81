/**
 * RoPE frequency schedules for longer contexts, with the formulas and defaults of Hugging Face
 * transformers' `modeling_rope_utils.py` (where each comes from is noted per variant). All work
 * on the inverse frequencies θ_i = base^(-2i/d), i < d/2, with d the rotary dimension.
 */
export type RopeScaling =
  /** Position interpolation (kaiokendev; Chen et al. 2023): θ_i / factor, i.e. positions / factor. */
  | { type: 'linear'; factor: number }
  /**
   * Dynamic NTK (bloc97, emozilla): past the original length L, the base grows to
   * base · (factor · n / L - (factor - 1))^(d / (d - 2)) for a sequence of n positions; up to L,
   * plain RoPE.
   */
  | { type: 'dynamic'; factor: number; originalMaxPositions: number }
  /**
   * YaRN (Peng et al. 2023): per frequency, a ramp between interpolation (θ_i / factor) and
   * extrapolation (θ_i), by how many rotations it completes over the original length
   * (full interpolation below betaSlow = 1, none above betaFast = 32); cos and sin are scaled by
   * attentionFactor = 0.1 · ln(factor) + 1.
   */
  | { type: 'yarn'; factor: number; originalMaxPositions: number; betaFast?: number; betaSlow?: number; attentionFactor?: number }
  /**
   * Llama 3.1: wavelengths (2π / θ_i) longer than L / lowFreqFactor are interpolated (÷ factor),
   * shorter than L / highFreqFactor kept, and smoothly blended between.
   */
  | { type: 'llama3'; factor: number; originalMaxPositions: number; lowFreqFactor?: number; highFreqFactor?: number };

export interface RopeFrequencies {
  inverseFrequencies: Float64Array;
  /** Multiplies cos and sin (YaRN's attention factor; 1 otherwise). */
  attentionFactor: number;
}

export function defaultInverseFrequencies(rotaryDim: number, base: number): Float64Array {
  return Float64Array.from({ length: rotaryDim / 2 }, (_, i) => 1 / base ** ((2 * i) / rotaryDim));
}

function positive(name: string, value: number | undefined): number {
  if (value === undefined || !(Number.isFinite(value) && value > 0))
    throw new RangeError(`RotaryEmbedding: scaling.${name} must be a positive number, got ${value}`);
  return value;
}

/** Checks a scaling configuration, naming the field at fault. */
export function validateScaling(scaling: RopeScaling): void {
  const types = ['linear', 'dynamic', 'yarn', 'llama3'];
  if (!types.includes(scaling.type)) throw new Error(`RotaryEmbedding: scaling.type must be one of ${types.join(', ')}, got ${JSON.stringify(scaling.type)}`);
  if (positive('factor', scaling.factor) < 1) throw new RangeError(`RotaryEmbedding: scaling.factor must be at least 1, got ${scaling.factor}`);
  if (scaling.type === 'linear') return;
  if (!Number.isInteger(scaling.originalMaxPositions) || scaling.originalMaxPositions < 1) {
    throw new RangeError(`RotaryEmbedding: scaling.originalMaxPositions must be a positive integer, got ${scaling.originalMaxPositions}`);
  }
  if (scaling.type === 'yarn') {
    const fast = positive('betaFast', scaling.betaFast ?? 32);
    const slow = positive('betaSlow', scaling.betaSlow ?? 1);
    if (fast <= slow) throw new RangeError(`RotaryEmbedding: scaling.betaFast (${fast}) must exceed scaling.betaSlow (${slow})`);
    if (scaling.attentionFactor !== undefined) positive('attentionFactor', scaling.attentionFactor);
  }
  if (scaling.type === 'llama3') {
    const low = positive('lowFreqFactor', scaling.lowFreqFactor ?? 1);
    const high = positive('highFreqFactor', scaling.highFreqFactor ?? 4);
    if (high <= low) throw new RangeError(`RotaryEmbedding: scaling.highFreqFactor (${high}) must exceed scaling.lowFreqFactor (${low})`);
  }
}

/** The inverse frequencies for a sequence of `length` positions (only dynamic NTK depends on it). */
export function scaledFrequencies(rotaryDim: number, base: number, scaling: RopeScaling | undefined, length: number): RopeFrequencies {
  if (scaling === undefined) return { inverseFrequencies: defaultInverseFrequencies(rotaryDim, base), attentionFactor: 1 };
  const { factor } = scaling;
  switch (scaling.type) {
    case 'linear':
      return { inverseFrequencies: defaultInverseFrequencies(rotaryDim, base).map((f) => f / factor), attentionFactor: 1 };
    case 'dynamic': {
      const original = scaling.originalMaxPositions;
      const n = Math.max(length, original);
      const grown = base * ((factor * n) / original - (factor - 1)) ** (rotaryDim / (rotaryDim - 2));
      return { inverseFrequencies: defaultInverseFrequencies(rotaryDim, grown), attentionFactor: 1 };
    }
    case 'yarn': {
      const { originalMaxPositions, betaFast = 32, betaSlow = 1 } = scaling;
      const correctionDim = (rotations: number) => (rotaryDim * Math.log(originalMaxPositions / (rotations * 2 * Math.PI))) / (2 * Math.log(base));
      const low = Math.max(Math.floor(correctionDim(betaFast)), 0);
      let high = Math.min(Math.ceil(correctionDim(betaSlow)), rotaryDim - 1);
      if (low === high) high += 0.001;
      const inverseFrequencies = defaultInverseFrequencies(rotaryDim, base).map((extrapolated, i) => {
        const ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
        const extrapolationShare = 1 - ramp;
        return (extrapolated / factor) * (1 - extrapolationShare) + extrapolated * extrapolationShare;
      });
      return { inverseFrequencies, attentionFactor: scaling.attentionFactor ?? 0.1 * Math.log(factor) + 1 };
    }
    case 'llama3': {
      const { originalMaxPositions, lowFreqFactor = 1, highFreqFactor = 4 } = scaling;
      const lowFreqWavelength = originalMaxPositions / lowFreqFactor;
      const highFreqWavelength = originalMaxPositions / highFreqFactor;
      const inverseFrequencies = defaultInverseFrequencies(rotaryDim, base).map((frequency) => {
        const wavelength = (2 * Math.PI) / frequency;
        if (wavelength < highFreqWavelength) return frequency;
        if (wavelength > lowFreqWavelength) return frequency / factor;
        const smooth = (originalMaxPositions / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
        return (1 - smooth) * (frequency / factor) + smooth * frequency;
      });
      return { inverseFrequencies, attentionFactor: 1 };
    }
  }
}
