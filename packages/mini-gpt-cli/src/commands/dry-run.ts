import {
  checkMemory,
  describeMemory,
  effectiveConfig,
  type GPTConfig,
  type MemoryRun,
  PRESETS,
  type SessionTrainOptions,
  trainedSizes,
  validateTrainOptions,
} from '@embedlab/mini-gpt';
import { loadCheckpoint } from '@embedlab/mini-gpt/node';
import { settingsTable } from './effective-config.js';
import { buildExplained, type checkRun, type RunSetup, refuseOnResume, resumeOverrides } from './run-config.js';

/** A new run's checked settings, its tokenizer's vocabulary and the threads its batch is split for, or the checkpoint a resumed run continues. */
export type DryRunOf = { checked: ReturnType<typeof checkRun>; vocabSize: number; workers: number; initFrom?: string } | { out: string };

/** The sizes of a step as a session makes them: a batch split into `workers` micro-batches (when it divides), times the accumulation. */
function stepSizes(options: SessionTrainOptions, workers: number): MemoryRun {
  const share = options.batchSize % workers === 0 ? workers : 1;
  return { mode: 'train', batchSize: options.batchSize / share, microBatches: options.gradientAccumulation * share, workers: share };
}

/**
 * `train --dry-run`: the settings a run would use, every field with its default and where it came
 * from, its parameter count and its memory estimate. A new run's model is not built (the library's
 * checks and the estimate run on the config alone), so nothing large is allocated; nothing trains
 * and nothing is written.
 */
export function dryRun(setup: RunSetup, of: DryRunOf, say: (event: Record<string, unknown>, line: string) => void): void {
  let config: GPTConfig;
  let options: SessionTrainOptions;
  let run: MemoryRun;
  let sourceOf: (field: string) => string;
  if ('out' in of) {
    refuseOnResume(setup, of.out);
    const checkpoint = loadCheckpoint(of.out, { optimizer: true });
    checkpoint.optimizer?.dispose();
    config = checkpoint.model.config;
    checkpoint.model.dispose();
    const saved = checkpoint.training?.options;
    if (!saved) throw new Error(`the checkpoint in ${of.out} has no optimizer state to resume from (optimizer.safetensors)`);
    options = validateTrainOptions({ ...saved, ...resumeOverrides(setup, saved, () => {}) });
    // A resumed run keeps the micro-batches it was saved with.
    run = { mode: 'train', batchSize: options.batchSize, microBatches: options.gradientAccumulation };
    sourceOf = (field) => setup.sources.get(field) ?? 'the checkpoint';
  } else {
    config = buildExplained(setup, of.checked.model, () => effectiveConfig({ ...of.checked.model, vocabSize: of.vocabSize }));
    options = of.checked.training;
    run = stepSizes(options, of.workers);
    const preset = PRESETS[setup.preset];
    // A fine-tune's model fields not given are the initial model's.
    const fromInitial = (field: string) => of.initFrom !== undefined && field in config;
    const fromPreset = (field: string) => field in preset.model || field in preset.training;
    // What a session derives when not given (trainingOptions): the decay follows the run and the peak.
    const derived: Record<string, string> = { vocabSize: 'the tokenizer', minLearningRate: 'learningRate / 10', decaySteps: 'steps' };
    sourceOf = (field) =>
      setup.sources.get(field) ??
      (fromInitial(field) ? `--init-from ${of.initFrom}` : (derived[field] ?? (fromPreset(field) ? `the ${setup.preset} preset` : 'default')));
  }
  const settings = effectiveConfig(config);
  // What the run would need (gradients and moments for what trains), refused here as the run itself would refuse it.
  const memory = checkMemory(config, { ...run, ...trainedSizes(config, options.train) }, { label: 'train' });
  const parameters = memory.parameterCount;
  const training = options;
  say(
    { event: 'config', model: settings, training, parameters, memory },
    `${settingsTable(settings, training, sourceOf).join('\n')}\nparameters ${parameters.toLocaleString('en-US')}\nmemory ${describeMemory(memory)}, for micro-batches of ${run.batchSize} × ${config.blockSize} tokens${(run.workers ?? 1) > 1 ? ` on ${run.workers} threads` : ''}`,
  );
}
