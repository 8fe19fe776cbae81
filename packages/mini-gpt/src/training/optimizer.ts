import { adamwUpdate, globalNorm, type Tensor, tf, type Variable } from '@embedlab/runtime';
import * as v from 'valibot';
import { field, nonNegativeNumber, parseWith } from '../schema.js';

const belowOne = field<number>((x) => typeof x === 'number' && x >= 0 && x < 1, 'a number in [0, 1)');

/** AdamW's hyperparameters with nanoGPT's defaults: what `train` takes and a checkpoint's optimizer state records. */
export const AdamWOptionsSchema = v.strictObject({
  beta1: v.optional(belowOne, 0.9),
  beta2: v.optional(belowOne, 0.95),
  epsilon: v.optional(
    field<number>((x) => typeof x === 'number' && Number.isFinite(x) && x > 0, 'a positive number'),
    1e-8,
  ),
  // Decoupled weight decay (Loshchilov & Hutter), applied to matrices only. Default 0.1.
  weightDecay: v.optional(nonNegativeNumber, 0.1),
});

export type AdamWOptions = v.InferInput<typeof AdamWOptionsSchema>;

/**
 * Floats AdamW updates per kernel call. The kernel writes the new weights and moments beside the
 * old ones, so updating everything at once would hold 3·P more floats (GPT-2 small: 1.5 GB);
 * in consecutive groups of this size (a larger tensor alone) the extra is three groups.
 */
export const UPDATE_GROUP_FLOATS = 4 * 2 ** 20;

/** Consecutive groups of indexes into `sizes`, each at most UPDATE_GROUP_FLOATS floats unless one tensor is larger. */
export function updateGroups(sizes: readonly number[]): number[][] {
  const groups: number[][] = [];
  let floats = Infinity;
  for (const [i, size] of sizes.entries()) {
    if (floats + size > UPDATE_GROUP_FLOATS) {
      groups.push([]);
      floats = 0;
    }
    groups.at(-1)!.push(i);
    floats += size;
  }
  return groups;
}

/**
 * AdamW as PyTorch's `torch.optim.AdamW`: p ← p - lr·wd·p, then the Adam step with bias-corrected
 * moments. Weight decay goes to parameters of rank ≥ 2 (matrices and embeddings), not to biases
 * and LayerNorm gains, as nanoGPT's `configure_optimizers` groups them.
 */
export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  /** Steps taken (the bias-correction exponent). */
  step = 0;
  private readonly moments = new Map<string, { m: Variable; v: Variable }>();

  constructor(options: AdamWOptions = {}) {
    ({ beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, weightDecay: this.weightDecay } = parseWith(AdamWOptionsSchema, options, 'AdamW'));
  }

  private slots(variable: Variable): { m: Variable; v: Variable } {
    let slot = this.moments.get(variable.name);
    if (!slot) {
      // A variable shares its initial tensor's data: that tensor is freed, or the zeros stayed
      // allocated beside the moments forever (2·P floats: 950 MB for GPT-2 small).
      slot = tf.tidy(() => ({ m: tf.variable(tf.zerosLike(variable), false), v: tf.variable(tf.zerosLike(variable), false) }));
      this.moments.set(variable.name, slot);
    }
    return slot;
  }

  /**
   * One update of every variable that has a gradient, at learning rate `lr`, with the gradients
   * multiplied by `gradScale` first (a clipping factor): one runtime kernel per update group.
   */
  apply(grads: Map<Variable, Tensor>, lr: number, gradScale = 1): void {
    this.step++;
    const entries = [...grads];
    for (const group of updateGroups(entries.map(([variable]) => variable.size))) {
      const params = group.map((i) => entries[i]![0]);
      const slots = params.map((variable) => this.slots(variable));
      adamwUpdate(
        params,
        group.map((i) => entries[i]![1]),
        { m: slots.map((slot) => slot.m), v: slots.map((slot) => slot.v) },
        { learningRate: lr, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, weightDecay: this.weightDecay, step: this.step, gradScale },
      );
    }
  }

  /** The moments by parameter name (`<name>.exp_avg`, `<name>.exp_avg_sq`), for saving. */
  state(names: Map<Variable, string>): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [variable, name] of names) {
      const slot = this.moments.get(variable.name);
      if (!slot) continue;
      out.set(`${name}.exp_avg`, slot.m);
      out.set(`${name}.exp_avg_sq`, slot.v);
    }
    return out;
  }

  /** Restores moments saved by `state`; shapes are checked against the parameters. */
  loadState(step: number, tensors: Map<string, Tensor>, names: Map<Variable, string>): void {
    if (!Number.isInteger(step) || step < 0) throw new Error(`AdamW: saved step must be a non-negative integer, got ${step}`);
    for (const [variable, name] of names) {
      const m = tensors.get(`${name}.exp_avg`);
      const v = tensors.get(`${name}.exp_avg_sq`);
      if (!m || !v) {
        if (step > 0) throw new Error(`AdamW: the optimizer state has no moments for ${name}`);
        continue;
      }
      for (const [label, t] of [
        ['exp_avg', m],
        ['exp_avg_sq', v],
      ] as const) {
        if (t.shape.join() !== variable.shape.join())
          throw new Error(`AdamW: ${name}.${label} has shape [${t.shape}], but the parameter is [${variable.shape}]`);
      }
      const slot = this.slots(variable);
      slot.m.assign(m);
      slot.v.assign(v);
    }
    this.step = step;
  }

  dispose(): void {
    for (const { m, v } of this.moments.values()) tf.dispose([m, v]);
    this.moments.clear();
  }
}

/**
 * The gradients' global L2 norm, and the factor PyTorch's `clip_grad_norm_` multiplies them by to
 * bring it to `maxNorm` (1 when it is below, or `maxNorm` is 0): one runtime kernel.
 */
export function clipScale(grads: Map<Variable, Tensor>, maxNorm: number): { norm: number; scale: number } {
  const total = globalNorm([...grads.values()]);
  const norm = total.dataSync()[0]!;
  total.dispose();
  const scale = maxNorm / (norm + 1e-6);
  return { norm, scale: maxNorm > 0 && scale < 1 ? scale : 1 };
}

/** Scales gradients so their global L2 norm is at most `maxNorm` (PyTorch's `clip_grad_norm_`); returns the norm before clipping. */
export function clipByGlobalNorm(grads: Map<Variable, Tensor>, maxNorm: number): number {
  const { norm, scale } = clipScale(grads, maxNorm);
  if (scale < 1) {
    for (const [variable, grad] of grads) {
      grads.set(variable, tf.mul(grad, scale));
      grad.dispose();
    }
  }
  return norm;
}
