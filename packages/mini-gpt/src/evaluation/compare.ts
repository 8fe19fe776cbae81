import type { Checkpoint, CheckpointFiles } from '../io/checkpoint.js';
import type { PositionKind, PresetName } from '../model/config.js';
import { readTokens } from '../data/data.js';
import type { ReplicaPool } from '../training/data-parallel.js';
import { evaluate } from './evaluate.js';
import { parseRopeScaling, withRopeScaling } from './rope-scaling.js';
import type { MiniGPT } from '../model/model.js';
import { type Overrides, type SessionTrainOptions, type TokenizerChoice, TrainingSession } from '../training/session.js';
import type { StepEvent } from '../training/train.js';

/** One trained model of a comparison: its position encoding and whether its head is tied. */
export interface TrainedVariant {
  /** `rope-tied`, `alibi-untied`, ...: also the name of its checkpoint. */
  name: string;
  position: PositionKind;
  tieWeights: boolean;
}

/** A row of the comparison: a trained variant, evaluated as trained or with a RoPE scaling. */
export interface EvaluatedVariant {
  /** `rope-tied`, or `rope-tied+yarn:4` for a scaling applied at evaluation. */
  name: string;
  trained: TrainedVariant;
  ropeScaling?: string;
}

export interface ContextResult {
  /** Multiple of the training length (1, 2, 4, 8). */
  multiple: number;
  context: number;
  /** Loss over every position of the windows; null where the variant cannot read this far (learned). */
  loss: number | null;
  perplexity: number | null;
  /** The loss at each position of the window (the curve of the chart); empty when refused. */
  byPosition: number[];
  /** Why there is no number. */
  refused?: string;
}

export interface VariantResult {
  name: string;
  position: PositionKind;
  tieWeights: boolean;
  ropeScaling: string | null;
  parameters: number;
  contexts: ContextResult[];
}

export interface ComparisonOptions {
  corpus: string;
  tokenizer?: TokenizerChoice;
  preset?: PresetName;
  /** Model fields over the preset's (not the positions or tying: the variants set those). */
  model?: Overrides<{ blockSize: number; nLayer: number; nHead: number; nEmbd: number; dropout: number }>;
  training?: Overrides<SessionTrainOptions>;
  seed?: number;
  /** Evaluation contexts as multiples of the training length. Default 1, 2, 4, 8. */
  multiples?: number[];
}

export interface ComparisonHooks {
  /** Results of variants finished earlier: they are neither trained nor evaluated again. */
  finished?: ReadonlyMap<string, VariantResult>;
  /** The saved checkpoint of a trained variant, to continue its training (or evaluate it) instead of starting over. */
  checkpointOf?: (variant: TrainedVariant) => Checkpoint | undefined;
  onCheckpoint?: (variant: TrainedVariant, files: CheckpointFiles, step: number) => void | Promise<void>;
  onStep?: (variant: TrainedVariant, event: StepEvent, steps: number) => void | Promise<void>;
  onVariant?: (result: VariantResult) => void | Promise<void>;
  workers?: ReplicaPool;
  /** Stops after the current step; what is finished stays finished. */
  signal?: AbortSignal;
}

/** The variants of `positions` x ties, with each RoPE scaling as an extra row of every rope model. */
export function comparisonVariants(positions: PositionKind[], tie: 'tied' | 'untied' | 'both', ropeScalings: string[] = []): EvaluatedVariant[] {
  const ties = tie === 'both' ? [true, false] : [tie === 'tied'];
  const rows: EvaluatedVariant[] = [];
  for (const position of positions) {
    for (const tieWeights of ties) {
      const trained = { name: `${position}-${tieWeights ? 'tied' : 'untied'}`, position, tieWeights };
      rows.push({ name: trained.name, trained });
      if (position === 'rope') for (const scaling of ropeScalings) rows.push({ name: `${trained.name}+${scaling}`, trained, ropeScaling: scaling });
    }
  }
  return rows;
}

function evaluateAt(model: MiniGPT, ids: Int32Array, multiples: number[]): ContextResult[] {
  const { blockSize } = model.config;
  return multiples.map((multiple) => {
    const context = multiple * blockSize;
    try {
      const result = evaluate(model, ids, { context });
      return { multiple, context, loss: result.loss, perplexity: result.perplexity, byPosition: result.byPosition };
    } catch (error) {
      return { multiple, context, loss: null, perplexity: null, byPosition: [], refused: (error as Error).message };
    }
  });
}

/**
 * Trains each variant on the same text, seed and budget, then evaluates it on the held-out
 * text at several multiples of the training length: how far each position encoding extrapolates.
 * Resumable through `hooks.finished` and `hooks.checkpointOf`.
 */
export async function runComparison(options: ComparisonOptions, variants: EvaluatedVariant[], hooks: ComparisonHooks = {}): Promise<VariantResult[]> {
  const { multiples = [1, 2, 4, 8] } = options;
  const results: VariantResult[] = [];
  const byTrained = new Map<string, EvaluatedVariant[]>();
  for (const variant of variants) byTrained.set(variant.trained.name, [...(byTrained.get(variant.trained.name) ?? []), variant]);
  for (const rows of byTrained.values()) {
    const pending = rows.filter((row) => !hooks.finished?.has(row.name));
    results.push(...rows.filter((row) => hooks.finished?.has(row.name)).map((row) => hooks.finished!.get(row.name)!));
    if (pending.length === 0) continue;
    if (hooks.signal?.aborted) break;
    const { trained } = rows[0]!;
    const saved = hooks.checkpointOf?.(trained);
    const session = saved?.optimizer
      ? TrainingSession.resume(saved, options.corpus)
      : TrainingSession.create({
          corpus: options.corpus,
          tokenizer: options.tokenizer ?? 'char',
          preset: options.preset ?? 'names',
          model: { ...options.model, position: trained.position, tieWeights: trained.tieWeights },
          training: options.training ?? {},
          seed: options.seed ?? 1337,
          // Each step's batch split into a micro-batch per thread of the pool, so its workers share it.
          workers: hooks.workers?.size ?? 1,
        });
    const stop = () => session.stop();
    hooks.signal?.addEventListener('abort', stop);
    try {
      if (session.step < session.options.steps) {
        const run = await session.run(
          {
            onStep: (event) => hooks.onStep?.(trained, event, session.options.steps),
            onCheckpoint: (files, step) => hooks.onCheckpoint?.(trained, files, step),
          },
          hooks.workers ? { workers: hooks.workers } : {},
        );
        if (run.stoppedBy === 'non-finite-loss')
          throw new Error(`${trained.name}: ${run.message ?? 'the loss became non-finite'}; the comparison stops here (try a lower learning rate)`);
        if (run.stoppedBy !== 'done') break;
      }
      const { validation: split } = session.dataset;
      const validation = readTokens(split, 0, split.length);
      for (const row of pending) {
        const model = row.ropeScaling ? withRopeScaling(session.model, parseRopeScaling(row.ropeScaling, session.model.config.blockSize)) : session.model;
        const result: VariantResult = {
          name: row.name,
          position: trained.position,
          tieWeights: trained.tieWeights,
          ropeScaling: row.ropeScaling ?? null,
          parameters: model.parameterCount().total,
          contexts: evaluateAt(model, validation, multiples),
        };
        if (model !== session.model) model.dispose();
        results.push(result);
        await hooks.onVariant?.(result);
      }
    } finally {
      hooks.signal?.removeEventListener('abort', stop);
      session.dispose();
    }
  }
  return results;
}
