import { createModel, type MiniGPT, PRESETS, type SessionTrainOptions, withTrainDefaults } from '@embedlab/mini-gpt';
import { loadCheckpoint } from '@embedlab/mini-gpt/node';
import { modelSettings, settingsTable } from './effective-config.js';
import { buildExplained, type checkRun, type RunSetup, refuseOnResume, resumeOverrides } from './run-config.js';

/** A new run's checked settings and its tokenizer's vocabulary, or the checkpoint a resumed run continues. */
export type DryRunOf = { checked: ReturnType<typeof checkRun>; vocabSize: number } | { out: string };

/**
 * `train --dry-run`: the settings a run would use, every field with its default and where it came
 * from, and its parameter count. The model is built (so that every check the library makes runs)
 * and freed; nothing trains and nothing is written.
 */
export function dryRun(setup: RunSetup, of: DryRunOf, say: (event: Record<string, unknown>, line: string) => void): void {
  let model: MiniGPT;
  let options: SessionTrainOptions;
  let sourceOf: (field: string) => string;
  if ('out' in of) {
    refuseOnResume(setup, of.out);
    const checkpoint = loadCheckpoint(of.out, { optimizer: true });
    checkpoint.optimizer?.dispose();
    model = checkpoint.model;
    const saved = checkpoint.training?.options;
    if (!saved) {
      model.dispose();
      throw new Error(`the checkpoint in ${of.out} has no optimizer state to resume from (optimizer.safetensors)`);
    }
    options = { ...saved, ...resumeOverrides(setup, saved, () => {}) };
    sourceOf = (field) => setup.sources.get(field) ?? 'the checkpoint';
  } else {
    model = buildExplained(setup, of.checked.model, () => createModel({ ...of.checked.model, vocabSize: of.vocabSize }, setup.seed));
    options = of.checked.training;
    const preset = PRESETS[setup.preset];
    const fromPreset = (field: string) => field in preset.model || field in preset.training;
    // What a session derives when not given (trainingOptions): the decay follows the run and the peak.
    const derived: Record<string, string> = { vocabSize: 'the tokenizer', minLearningRate: 'learningRate / 10', decaySteps: 'steps' };
    sourceOf = (field) => setup.sources.get(field) ?? derived[field] ?? (fromPreset(field) ? `the ${setup.preset} preset` : 'default');
  }
  const settings = modelSettings(model);
  const parameters = model.parameterCount().total;
  model.dispose();
  const training = withTrainDefaults(options);
  say(
    { event: 'config', model: settings, training, parameters },
    `${settingsTable(settings, training, sourceOf).join('\n')}\nparameters ${parameters.toLocaleString('en-US')}`,
  );
}
