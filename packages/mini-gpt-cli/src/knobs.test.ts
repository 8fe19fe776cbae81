// Every model and training knob from the command line and a --config file, as the built CLI runs them.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'minigpt-knobs-'));
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
// A tiny model and a 1-2 step run: what is checked is where the settings land, not the training.
const tiny = ['--block-size', '8', '--n-layer', '1', '--n-head', '2', '--n-embd', '16', '--batch-size', '4', '--eval-batches', '1', '--warmup-steps', '0'];
const quiet = ['--samples', '0', '--workers', '1'];

/** The metadata of a safetensors file, read from its JSON header as the format defines it. */
function metadata(path: string): Record<string, string> {
  const bytes = readFileSync(path);
  const length = Number(bytes.readBigUInt64LE(0));
  return JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')).__metadata__;
}

/** What a checkpoint directory saved: the model config, the training options, AdamW's settings. */
function saved(out: string) {
  const optimizer = metadata(join(out, 'optimizer.safetensors'));
  return {
    config: JSON.parse(metadata(join(out, 'model.safetensors')).config!),
    training: JSON.parse(optimizer.training!),
    adamw: JSON.parse(optimizer.adamw!),
  };
}

function config(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const events = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));

describe('minigpt train: every knob', { timeout: 180_000 }, () => {
  it('takes every GPTConfig and TrainOptions field as a flag, and saves each in the checkpoint', () => {
    const out = join(dir, 'every-flag');
    const trained = run(
      'train',
      ...quiet,
      '--out',
      out,
      ...['--block-size', '8', '--n-layer', '1', '--n-head', '2', '--n-embd', '16', '--dropout', '0.05', '--no-bias', '--position', 'rope'],
      ...['--no-tie-weights', '--gelu', 'exact', '--embedding-scale', '2', '--rope-base', '500', '--rope-layout', 'interleaved'],
      ...['--rope-scaling', 'yarn:2', '--rope-rotary-dim', '4', '--steps', '2', '--lr', '0.002', '--min-lr', '0.0001', '--batch-size', '4'],
      ...['--gradient-accumulation', '2', '--warmup-steps', '1', '--decay-steps', '3', '--weight-decay', '0.05', '--beta1', '0.8', '--beta2', '0.9'],
      ...['--grad-clip', '0.5', '--eval-interval', '1', '--eval-batches', '1', '--seed', '7', '--train', 'blocks,norms'],
    );
    expect(trained.status, trained.stderr).toBe(0);
    const { config: model, training, adamw } = saved(out);
    expect(model).toEqual({
      vocabSize: 28,
      blockSize: 8,
      nLayer: 1,
      nHead: 2,
      nEmbd: 16,
      dropout: 0.05,
      bias: false,
      position: 'rope',
      tieWeights: false,
      gelu: 'exact',
      embeddingScale: 2,
      rope: { base: 500, layout: 'interleaved', scaling: { type: 'yarn', factor: 2, originalMaxPositions: 8 }, rotaryDim: 4 },
    });
    expect(training).toEqual({
      steps: 2,
      learningRate: 0.002,
      minLearningRate: 0.0001,
      batchSize: 4,
      gradientAccumulation: 2,
      warmupSteps: 1,
      decaySteps: 3,
      weightDecay: 0.05,
      beta1: 0.8,
      beta2: 0.9,
      gradClip: 0.5,
      evalInterval: 1,
      evalBatches: 1,
      seed: 7,
      train: 'blocks,norms',
    });
    expect(adamw).toMatchObject({ beta1: 0.8, beta2: 0.9, weightDecay: 0.05 });

    // inspect: every field, defaults filled in (RoPE's as the model holds them), as a table and as JSON.
    const inspected = run('inspect', out, '--json');
    expect(inspected.status, inspected.stderr).toBe(0);
    const about = JSON.parse(inspected.stdout);
    expect(about.model).toEqual(model);
    expect(about.training).toEqual(training);
    expect(about.step).toBe(2);
    const table = run('inspect', '--checkpoint', out).stdout;
    expect(table).toMatch(/^ {2}rope\.rotaryDim +4 +--rope-rotary-dim$/m);
    expect(table).toMatch(/^ {2}bias +false +--bias$/m);
    expect(table).toMatch(/^ {2}minLearningRate +0\.0001 +--min-lr$/m);
    expect(run('inspect', out, '--checkpoint', out).stderr).toMatch(/give the checkpoint directory once/);
  });

  it('fills in the defaults of an older run in inspect, and --untied is --no-tie-weights', () => {
    const out = join(dir, 'defaults');
    expect(run('train', ...quiet, ...tiny, '--steps', '1', '--untied', '--position', 'rope', '--out', out).status).toBe(0);
    const { model, training } = JSON.parse(run('inspect', out, '--json').stdout);
    expect(model).toMatchObject({ tieWeights: false, embeddingScale: 'none', rope: { base: 10000, layout: 'half', rotaryDim: 8 } });
    // Neither given nor in the names preset: train()'s defaults (nanoGPT's betas, clip 1, 10 eval batches).
    expect(training).toMatchObject({ beta1: 0.9, beta2: 0.95, gradClip: 1, gradientAccumulation: 1, seed: 1337, minLearningRate: 0.003 / 10 });
    expect(run('train', '--untied', '--tie-weights', '--dry-run').stderr).toMatch(/option '--untied' cannot be used with option '--tie-weights'/);
  });

  it('reads --config FILE.json: preset < file < flags, into the checkpoint and in --dry-run with where each came from', () => {
    const file = config('run.json', {
      preset: 'names',
      seed: 5,
      model: { nLayer: 3, nEmbd: 16, nHead: 2, blockSize: 8, position: 'rope', rope: { base: 100, scaling: 'linear:2' } },
      training: { steps: 7, warmupSteps: 0, beta2: 0.9, batchSize: 4, evalBatches: 1 },
    });
    const out = join(dir, 'from-config');
    const trained = run('train', ...quiet, '--config', file, '--n-layer', '1', '--steps', '1', '--out', out);
    expect(trained.status, trained.stderr).toBe(0);
    const { config: model, training } = saved(out);
    expect(model).toMatchObject({
      nLayer: 1,
      nEmbd: 16,
      nHead: 2,
      blockSize: 8,
      position: 'rope',
      rope: { base: 100, scaling: { type: 'linear', factor: 2 } },
    });
    expect(training).toMatchObject({ steps: 1, beta2: 0.9, batchSize: 4, warmupSteps: 0, seed: 5, learningRate: 0.003 });

    const dry = run('train', '--dry-run', '--config', file, '--n-layer', '1', '--steps', '3');
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^ {2}nLayer +1 +--n-layer +--n-layer$/m);
    expect(dry.stdout).toMatch(new RegExp(`^ {2}nEmbd +16 +--n-embd +${file.replaceAll('/', '\\/')}: model\\.nEmbd$`, 'm'));
    expect(dry.stdout).toMatch(/^ {2}gelu +tanh +--gelu +the names preset$/m);
    expect(dry.stdout).toMatch(/^ {2}rope\.layout +half +--rope-layout +default$/m);
    expect(dry.stdout).toMatch(/^ {2}steps +3 +--steps +--steps$/m);
    expect(dry.stdout).toMatch(/^ {2}seed +5 +--seed +.*run\.json: seed$/m);
    expect(dry.stdout).toMatch(/^ {2}decaySteps +3 +--decay-steps +steps$/m);
    expect(dry.stdout).toMatch(/^ {2}minLearningRate +0\.0003 +--min-lr +learningRate \/ 10$/m);
    expect(dry.stdout).toMatch(/^parameters \d/m);
    const json = events(run('train', '--dry-run', '--json', '--config', file, '--seed', '9').stdout)[0];
    expect(json).toMatchObject({ event: 'config', model: { nLayer: 3, vocabSize: 28 }, training: { steps: 7, seed: 9, gradClip: 1 } });
    // A dry run writes nothing, --out or not.
    const untouched = join(dir, 'dry-out');
    expect(run('train', '--dry-run', '--out', untouched).status).toBe(0);
    expect(existsSync(untouched)).toBe(false);
  });

  it("runs the README's --config example", () => {
    const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
    const example = /```json\n([\s\S]*?)```/.exec(readme)![1]!;
    const dry = run('train', '--dry-run', '--json', '--config', config('readme.json', example));
    expect(dry.status, dry.stderr).toBe(0);
    expect(events(dry.stdout)[0]).toMatchObject({
      model: { nLayer: 4, nEmbd: 128, position: 'rope', rope: { base: 500, scaling: { type: 'yarn', factor: 2, originalMaxPositions: 16 } } },
      training: { steps: 2000, learningRate: 0.001, minLearningRate: 0.0001, warmupSteps: 100, beta2: 0.99, seed: 7 },
    });
  });

  it("has a flag for every field of the library's schemas (a --config key without one would be read and ignored)", async () => {
    const { GPTConfigSchema, TrainSettingsSchema } = await import('@embedlab/mini-gpt');
    const { KNOBS } = await import('./commands/run-config.js');
    const fields = new Set(KNOBS.map((knob) => knob.field));
    const model = GPTConfigSchema.pipe[0].entries;
    const expected = [
      ...Object.keys(model).filter((key) => key !== 'vocabSize' && key !== 'rope'),
      ...Object.keys(model.rope.wrapped.entries).map((key) => `rope.${key}`),
      ...Object.keys(TrainSettingsSchema.pipe[0].entries).filter((key) => key !== 'seed'),
    ];
    expect(expected.filter((field) => !fields.has(field))).toEqual([]);
  });

  it('refuses a config file with an unknown key, not JSON, too large, or a bad preset, naming the file and the key', () => {
    const cases: [unknown, RegExp][] = [
      [{ modle: {} }, /run\.json: unknown key modle \(allowed: preset, tokenizer, seed, model, training\)$/],
      [{ model: { nLayers: 2 } }, /run\.json: unknown key model\.nLayers \(allowed: blockSize, nLayer, .*\)$/],
      [{ model: { rope: { bse: 2 } } }, /run\.json: unknown key model\.rope\.bse \(allowed: base, layout, scaling, rotaryDim\)$/],
      [{ training: { lr: 0.1 } }, /run\.json: unknown key training\.lr \(allowed: steps, batchSize, learningRate, /],
      [{ model: { vocabSize: 9 } }, /run\.json: unknown key model\.vocabSize \(the vocabulary comes from the tokenizer\)$/],
      [{ training: { seed: 1 } }, /unknown key training\.seed \(give the seed at the top level: it seeds the model too\)$/],
      [{ preset: 'huge' }, /run\.json: preset must be one of names, baby, gpt2-small, got "huge"$/],
      [[1, 2], /must hold a JSON object/],
      ['{ "model": { nLayer: 2 } }', /^minigpt: --config .*run\.json is not JSON: /],
      [`{"model":{}, "pad": "${' '.repeat(1024 * 1024)}"}`, /^minigpt: --config .*run\.json is \d+ bytes; a config file is at most 1048576 bytes \(1 MiB\)$/],
    ];
    for (const [content, message] of cases) {
      const result = run('train', '--dry-run', '--config', config('run.json', content));
      expect(result.status, String(message)).toBe(1);
      expect(result.stderr.trim(), String(message)).toMatch(message);
    }
    expect(run('train', '--dry-run', '--config', join(dir, 'nowhere.json')).stderr.trim()).toMatch(/^minigpt: --config .*nowhere\.json: no such file$/);
  });

  it("gives the library's named-field errors, with where each value came from, before any model is built", () => {
    const file = config('bad.json', { model: { nLayer: '4' } });
    const cases: [string[], string][] = [
      [['--n-head', '3'], 'GPT config: nEmbd must be a multiple of nHead (3), got 64 (nEmbd 64 from the names preset, nHead 3 from --n-head)'],
      [['--dropout', '1'], 'GPT config: dropout must be a number in [0, 1), got 1 (dropout 1 from --dropout)'],
      [
        ['--position', 'rope', '--n-embd', '30', '--n-head', '6'],
        'GPT config: nEmbd must be nHead × an even head size for RoPE (dimensions rotate in pairs; nEmbd / nHead is 5), got 30 (nEmbd 30 from --n-embd, nHead 6 from --n-head)',
      ],
      [['--config', file], `GPT config: nLayer must be a positive integer, got "4" (nLayer "4" from ${file}: model.nLayer)`],
      [['--beta1', '1'], 'train: beta1 must be a number in [0, 1), got 1 (beta1 1 from --beta1)'],
      [
        ['--min-lr', '0.01'],
        'train: minLearningRate must be a number in [0, learningRate = 0.003], got 0.01 (minLearningRate 0.01 from --min-lr, learningRate 0.003 from the names preset)',
      ],
      [['--grad-clip', '-1'], 'train: gradClip must be a non-negative number (0 disables clipping), got -1 (gradClip -1 from --grad-clip)'],
      [['--rope-base', '500'], '--rope-base set RoPE, but the position encoding is learned (from the names preset); add --position rope'],
      // RoPE's own settings are checked with the config too.
      [
        ['--position', 'rope', '--rope-rotary-dim', '5'],
        'GPT config: rope.rotaryDim must be an even integer in [2, headDim = 16], got 5 (rope.rotaryDim 5 from --rope-rotary-dim)',
      ],
    ];
    for (const [flags, message] of cases) {
      const out = join(dir, `bad-${flags.join('')}`);
      const result = run('train', ...flags, '--out', out);
      expect(result.stderr.trim(), flags.join(' ')).toBe(`minigpt: ${message}`);
      expect(result.status).toBe(1);
      expect(existsSync(out), 'nothing is created before the settings are checked').toBe(false);
    }
    expect(run('train', '--dry-run', '--rope-scaling', 'yarn').stderr).toMatch(
      /option '--rope-scaling <kind:f>' argument 'yarn' is invalid. RoPE scaling must be linear:F, dynamic:F, yarn:F or llama3:F/,
    );
    expect(run('train', '--dry-run', '--gelu', 'relu').stderr).toMatch(/Allowed choices are exact, tanh/);
  });

  it('on --resume refuses what the checkpoint fixes and applies, announces and checks the training recipe', () => {
    const out = join(dir, 'resumed');
    expect(run('train', ...quiet, ...tiny, '--steps', '2', '--eval-interval', '2', '--out', out).status).toBe(0);
    const refused = (...flags: string[]) => run('train', '--resume', '--out', out, ...flags).stderr.trim();
    expect(refused('--n-layer', '2', '--no-bias')).toBe(
      `minigpt: --n-layer, --no-bias cannot change when resuming: the checkpoint in ${out} fixes the model, tokenizer and seed`,
    );
    expect(refused('--beta2', '0.9')).toBe(`minigpt: --beta2 cannot change when resuming: the optimizer state in ${out} holds AdamW's betas and weight decay`);
    const file = config('resume.json', { model: { dropout: 0.1 }, training: { evalBatches: 2 } });
    expect(refused('--config', file)).toMatch(/model\.dropout cannot change when resuming/);
    expect(refused('--min-lr', '0.1')).toBe(
      'minigpt: train: minLearningRate must be a number in [0, learningRate = 0.003], got 0.1 (minLearningRate 0.1 from --min-lr, learningRate 0.003 from the checkpoint)',
    );

    const recipe = ['--steps', '3', '--min-lr', '0.0001', '--warmup-steps', '1', '--grad-clip', '0.25', '--gradient-accumulation', '2'];
    const dry = events(run('train', '--resume', '--dry-run', '--json', '--out', out, ...recipe).stdout)[0];
    expect(dry.training).toMatchObject({ steps: 3, decaySteps: 3, minLearningRate: 0.0001, gradClip: 0.25, warmupSteps: 1, gradientAccumulation: 2 });
    expect(saved(out).training.steps).toBe(2);

    const resumed = run('train', '--resume', '--json', '--out', out, ...quiet, ...recipe, '--config', config('recipe.json', { training: { evalBatches: 2 } }));
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(
      events(resumed.stdout)
        .filter((e) => e.event === 'info')
        .map((e) => e.message),
    ).toEqual([
      'applying --steps 3 (was 2)',
      'the learning-rate decay now ends at step 3 (was 2)',
      'applying --min-lr 0.0001 (was 0.0003)',
      'applying --gradient-accumulation 2 (was 1)',
      'applying --warmup-steps 1 (was 0)',
      'applying --grad-clip 0.25 (was 1)',
      `applying ${join(dir, 'recipe.json')}: training.evalBatches 2 (was 1)`,
    ]);
    expect(saved(out).training).toMatchObject({
      steps: 3,
      decaySteps: 3,
      minLearningRate: 0.0001,
      warmupSteps: 1,
      gradClip: 0.25,
      gradientAccumulation: 2,
      evalBatches: 2,
    });
  });
});
