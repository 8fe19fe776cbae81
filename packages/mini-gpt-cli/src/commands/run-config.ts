// Every knob of a training run from the command line or a --config file: the flags, the file's
// schema, precedence (preset < file < flags), and errors that say where a bad value came from.
import { readFileSync, statSync } from 'node:fs';
import {
  type GPTConfig,
  GPTConfigSchema,
  OptionsError,
  POSITION_KINDS,
  parseWith,
  type Overrides,
  PRESETS,
  type PresetName,
  parseRopeScaling,
  type SessionTrainOptions,
  type TrainSettings,
  TRAIN_SPEC_HELP,
  TrainSettingsSchema,
  trainingOptions,
  validateConfig,
  validateTrainOptions,
} from '@embedlab/mini-gpt';
import { type Command, InvalidArgumentError, Option } from 'commander';
import * as v from 'valibot';
import { decimal, integer, number } from './arguments.js';

type Section = 'model' | 'training';
type ModelFields = Omit<GPTConfig, 'vocabSize'>;
type Value = unknown;

/** One setting reachable as a flag and as a --config field. */
export interface Knob {
  section: Section;
  /** The field of GPTConfig (`rope.*` for RoPE's) or of TrainOptions, as the file names it. */
  field: string;
  /** The flag (the `--no-` form of a boolean sets false). */
  flag: string;
  /** commander's attribute for the flag. */
  attribute: string;
  options: Option[];
  /** A resumed run cannot change it: the checkpoint's model or optimizer state holds it. */
  fixedOnResume: 'model' | 'optimizer' | false;
}

/** A value for people: 3e-3 / 10 is 0.00030000000000000003 in binary, shown as 0.0003 (JSON output keeps it exact). */
export function shown(value: unknown): string {
  if (value === undefined) return '-';
  if (typeof value === 'number') return String(Number(value.toPrecision(12)));
  return typeof value === 'string' ? value : JSON.stringify(value);
}

const anyNumber = (flag: string) => number(flag, () => true, 'a number');

function embeddingScale(value: string): 'none' | 'sqrt-dim' | number {
  if (value === 'none' || value === 'sqrt-dim') return value;
  const n = decimal(value);
  if (n === undefined || !Number.isFinite(n))
    throw new InvalidArgumentError(`--embedding-scale must be none, sqrt-dim or a number in decimal notation, got ${JSON.stringify(value)}`);
  return n;
}

function ropeScalingSpec(value: string): string {
  try {
    parseRopeScaling(value, 1);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  return value;
}

function knob(section: Section, field: string, flags: string, description: string, parse?: (value: string) => Value, choices?: string[]): Knob {
  const option = new Option(flags, description);
  if (parse) option.argParser(parse);
  if (choices) option.choices(choices);
  const fixedOnResume = section === 'model' ? 'model' : ['beta1', 'beta2', 'weightDecay'].includes(field) ? 'optimizer' : false;
  return { section, field, flag: option.long!, attribute: option.attributeName(), options: [option], fixedOnResume };
}

/** A boolean field: `--name` sets true, `--no-name` false, neither keeps the preset's. */
function toggle(field: string, name: string, yes: string, no: string): Knob {
  return { ...knob('model', field, `--${name}`, yes), options: [new Option(`--${name}`, yes), new Option(`--no-${name}`, no)] };
}

const untied = new Option('--untied', 'same as --no-tie-weights').conflicts('tieWeights');

/** Flags are the fields in kebab-case (`--n-layer` for nLayer), but for --lr and --min-lr. */
export const KNOBS: readonly Knob[] = [
  knob('model', 'blockSize', '--block-size <n>', 'context length in tokens', integer('--block-size')),
  knob('model', 'nLayer', '--n-layer <n>', 'transformer blocks', integer('--n-layer')),
  knob('model', 'nHead', '--n-head <n>', 'attention heads (must divide --n-embd)', integer('--n-head')),
  knob('model', 'nEmbd', '--n-embd <n>', 'embedding width', integer('--n-embd')),
  knob('model', 'dropout', '--dropout <rate>', 'dropout rate in [0, 1)', anyNumber('--dropout')),
  toggle('bias', 'bias', 'biases in Linear layers and LayerNorms', 'no biases (nanoGPT bias=False)'),
  knob('model', 'position', '--position <kind>', 'position encoding', undefined, [...POSITION_KINDS]),
  {
    ...toggle('tieWeights', 'tie-weights', 'share the token embedding with the output head', 'give the output head its own matrix'),
    options: [
      new Option('--tie-weights', 'share the token embedding with the output head'),
      new Option('--no-tie-weights', 'give the output head its own matrix'),
      untied,
    ],
  },
  knob('model', 'gelu', '--gelu <kind>', "GELU: exact (erf) or tanh (GPT-2's approximation)", undefined, ['exact', 'tanh']),
  knob('model', 'embeddingScale', '--embedding-scale <s>', 'multiply token embeddings by none, sqrt-dim (√nEmbd) or a number', embeddingScale),
  knob('model', 'rope.base', '--rope-base <b>', 'RoPE frequency base (library default 10000)', anyNumber('--rope-base')),
  knob('model', 'rope.layout', '--rope-layout <layout>', 'RoPE pairs: half (GPT-NeoX, Llama) or interleaved (GPT-J)', undefined, ['half', 'interleaved']),
  knob('model', 'rope.scaling', '--rope-scaling <kind:f>', 'RoPE scaling while training: linear:F, dynamic:F, yarn:F or llama3:F', ropeScalingSpec),
  knob('model', 'rope.rotaryDim', '--rope-rotary-dim <n>', 'dimensions rotated per head, even (default all)', integer('--rope-rotary-dim')),
  knob('training', 'steps', '--steps <n>', 'total optimizer steps', integer('--steps')),
  knob(
    'training',
    'learningRate',
    '--lr <rate>',
    'peak learning rate',
    number('--lr', (n) => n > 0, 'a positive number'),
  ),
  knob('training', 'minLearningRate', '--min-lr <rate>', 'floor of the cosine decay (default --lr / 10)', anyNumber('--min-lr')),
  knob('training', 'batchSize', '--batch-size <n>', 'sequences per step', integer('--batch-size')),
  knob('training', 'gradientAccumulation', '--gradient-accumulation <n>', 'micro-batches averaged into one step', integer('--gradient-accumulation')),
  knob('training', 'warmupSteps', '--warmup-steps <n>', 'steps of linear warmup', integer('--warmup-steps', 0)),
  knob('training', 'decaySteps', '--decay-steps <n>', 'step where the cosine decay reaches the floor (default --steps)', integer('--decay-steps')),
  knob('training', 'weightDecay', '--weight-decay <w>', 'AdamW weight decay', anyNumber('--weight-decay')),
  knob('training', 'beta1', '--beta1 <b>', 'AdamW beta1, in [0, 1)', anyNumber('--beta1')),
  knob('training', 'beta2', '--beta2 <b>', 'AdamW beta2, in [0, 1)', anyNumber('--beta2')),
  knob('training', 'gradClip', '--grad-clip <norm>', 'clip gradients to this global norm (0: no clipping)', anyNumber('--grad-clip')),
  knob('training', 'evalInterval', '--eval-interval <n>', 'steps between validation and checkpoint saves', integer('--eval-interval')),
  knob('training', 'evalBatches', '--eval-batches <n>', 'batches averaged per validation estimate', integer('--eval-batches')),
  knob('training', 'train', '--train <parts>', `what trains, the rest frozen: ${TRAIN_SPEC_HELP}`),
];

/** Adds every knob's flags to `command`. */
export function addKnobOptions(command: Command): Command {
  for (const { options } of KNOBS) for (const option of options) command.addOption(option);
  return command;
}

/** The largest --config file read: a settings file, never a data file. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** What a --config file holds: the preset and run settings, and fields of `model` and `training`. */
export interface ConfigFile {
  path: string;
  preset?: PresetName;
  tokenizer?: string;
  seed?: number;
  model: Record<string, Value>;
  training: Record<string, Value>;
}

/** Settings nested in settings (`model.rope`). */
const anObject = v.record(v.string(), v.unknown());

/** A strict object of `keys` whose values the library checks later (so that errors say where each came from). */
const keysOf = (keys: string[]) => v.strictObject(Object.fromEntries(keys.map((key) => [key, v.optional(v.unknown())])));
const modelEntries = GPTConfigSchema.pipe[0].entries;
const described = (check: (x: unknown) => boolean, rule: string) => v.custom(check, rule);

/**
 * A --config file: the keys are the library's own (GPTConfig's but the vocabulary, which the
 * tokenizer gives; the training settings but the seed, given at the top level for the model too).
 */
const ConfigFileSchema = v.strictObject({
  preset: v.optional(described((x) => typeof x === 'string' && x in PRESETS, `one of ${Object.keys(PRESETS).join(', ')}`)),
  tokenizer: v.optional(described((x) => typeof x === 'string', 'a string (char, bpe:SIZE or gpt2:FILE)')),
  seed: v.optional(described((x) => Number.isSafeInteger(x) && (x as number) >= 0, 'an integer >= 0')),
  model: v.optional(
    v.strictObject({
      ...keysOf(Object.keys(modelEntries).filter((key) => key !== 'vocabSize' && key !== 'rope')).entries,
      rope: v.optional(keysOf(Object.keys(modelEntries.rope.wrapped.entries))),
    }),
  ),
  training: v.optional(keysOf(Object.keys(TrainSettingsSchema.pipe[0].entries).filter((key) => key !== 'seed'))),
});

const HINTS: Record<string, string> = {
  'model.vocabSize': 'the vocabulary comes from the tokenizer',
  'training.seed': 'give the seed at the top level: it seeds the model too',
};

/** The keys allowed where `path` is (`model.rope.bse` → RoPE's). */
function allowedAt(path: string): string[] {
  const parent = path.split('.').slice(0, -1);
  let schema: v.GenericSchema = ConfigFileSchema;
  for (const key of parent) {
    const entries = (schema as v.StrictObjectSchema<v.ObjectEntries, undefined>).entries;
    const entry = entries[key] as v.OptionalSchema<v.GenericSchema, undefined>;
    schema = entry.wrapped;
  }
  return Object.keys((schema as v.StrictObjectSchema<v.ObjectEntries, undefined>).entries);
}

/** Reads and checks a --config file: JSON, at most 1 MiB, and only keys this version knows (a typo is an error, not ignored). */
export function readConfigFile(path: string): ConfigFile {
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new Error(`--config ${path} is not a file`);
    size = stat.size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`--config ${path}: no such file`);
    throw error;
  }
  if (size > MAX_CONFIG_BYTES) throw new Error(`--config ${path} is ${size} bytes; a config file is at most ${MAX_CONFIG_BYTES} bytes (1 MiB)`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`--config ${path} is not JSON: ${(error as Error).message}`);
  }
  // valibot's objects take arrays as objects with numbered keys: a list is said as such.
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new Error(`--config ${path} must hold a JSON object { "model": {...}, "training": {...}, "preset", "tokenizer", "seed" }`);
  let checked: v.InferOutput<typeof ConfigFileSchema>;
  try {
    checked = parseWith(ConfigFileSchema, json, path);
  } catch (error) {
    if (!(error instanceof OptionsError) || error.problems[0]!.rule !== 'unknown key') throw error;
    const key = error.problems[0]!.path;
    throw new Error(`${error.message} (${HINTS[key] ?? `allowed: ${allowedAt(key).join(', ')}`})`);
  }
  const { preset, tokenizer, seed } = checked;
  const model = (checked.model ?? {}) as Record<string, Value>;
  const training = (checked.training ?? {}) as Record<string, Value>;
  return {
    path,
    model,
    training,
    ...(preset === undefined ? {} : { preset: preset as PresetName }),
    ...(tokenizer === undefined ? {} : { tokenizer: tokenizer as string }),
    ...(seed === undefined ? {} : { seed: seed as number }),
  };
}

/** A run's settings after precedence, and where each came from. */
export interface RunSetup {
  preset: PresetName;
  tokenizer: string;
  seed: number;
  /** The model fields given (file or flags), on top of the preset's. */
  model: Overrides<ModelFields>;
  /** The training fields given (file or flags), on top of the preset's recipe. */
  training: Overrides<SessionTrainOptions>;
  /** Where each given setting came from, by name (`nLayer`, `rope.base`, `steps`, `preset`): a flag, or the file's key. */
  sources: Map<string, string>;
  /** The settings given that a resumed run cannot change, by where they came from. */
  fixed: { model: string[]; optimizer: string[] };
}

export type Given = (attribute: string) => boolean;

function fileValue(file: ConfigFile | undefined, k: Knob): Value {
  if (!file) return undefined;
  const [first, second] = k.field.split('.') as [string, string | undefined];
  const object = file[k.section][first];
  return second === undefined ? object : v.is(anObject, object) ? object[second] : undefined;
}

/** Precedence: the preset, then the --config file, then the flags given on the command line. */
export function resolveRun(flags: Record<string, unknown>, given: Given, file: ConfigFile | undefined): RunSetup {
  const sources = new Map<string, string>();
  const fixed: RunSetup['fixed'] = { model: [], optimizer: [] };
  const top = <T>(name: 'preset' | 'tokenizer' | 'seed'): T => {
    if (given(name)) {
      sources.set(name, `--${name}`);
      fixed.model.push(`--${name}`);
    } else if (file?.[name] !== undefined) {
      sources.set(name, `${file.path}: ${name}`);
      fixed.model.push(`${file.path}: ${name}`);
      return file[name] as T;
    }
    return flags[name] as T;
  };
  const preset = top<PresetName>('preset');
  const tokenizer = top<string>('tokenizer');
  const seed = top<number>('seed');
  const model: Record<string, Value> = {};
  const rope: Record<string, Value> = {};
  const training: Record<string, Value> = {};
  for (const k of KNOBS) {
    let value: Value;
    let source: string;
    if (given(k.attribute)) {
      value = flags[k.attribute];
      source = value === false ? `--no-${k.flag.slice(2)}` : k.flag;
    } else if (k.field === 'tieWeights' && given('untied')) {
      value = false;
      source = '--untied';
    } else {
      value = fileValue(file, k);
      source = `${file?.path}: ${k.section}.${k.field}`;
    }
    if (value === undefined) continue;
    sources.set(k.field, source);
    if (k.fixedOnResume) fixed[k.fixedOnResume].push(source);
    if (k.field.startsWith('rope.')) rope[k.field.slice(5)] = value;
    else (k.section === 'model' ? model : training)[k.field] = value;
  }
  if (Object.keys(rope).length > 0) {
    // KIND:F scales from the length trained on, which is known once the preset and overrides are.
    if (typeof rope.scaling === 'string') {
      const spec = rope.scaling;
      try {
        rope.scaling = parseRopeScaling(spec, (model.blockSize as number) ?? PRESETS[preset].model.blockSize);
      } catch (error) {
        throw new Error(`${(error as Error).message} (rope.scaling ${shown(spec)} from ${sources.get('rope.scaling')})`);
      }
    }
    model.rope = rope;
  }
  return { preset, tokenizer, seed, model: model as Overrides<ModelFields>, training: training as Overrides<SessionTrainOptions>, sources, fixed };
}

/** The value at a dotted path (`rope.base`) of nested settings. */
function valueAt(values: Record<string, Value>, path: string): Value {
  return path.split('.').reduce<Value>((object, key) => (v.is(anObject, object) ? object[key] : undefined), values);
}

/** Says where the fields a library error names came from: `(nEmbd 64 from the names preset, nHead 3 from --n-head)`. */
function explained<T>(sources: Map<string, string>, values: Record<string, Value>, check: () => T, fallback = 'the default'): T {
  try {
    return check();
  } catch (error) {
    if (!(error instanceof OptionsError)) throw error;
    const shownValue = (field: string) => {
      const value = valueAt(values, field);
      return typeof value === 'string' ? JSON.stringify(value) : shown(value);
    };
    const from = error.fields.map((field) => `${field} ${shownValue(field)} from ${sources.get(field) ?? fallback}`);
    throw new Error(from.length > 0 ? `${error.message} (${from.join(', ')})` : error.message);
  }
}

/**
 * The model (less the vocabulary) and training options a new run would use, each checked by the
 * library's own validation before any data is read or model built.
 */
export function checkRun(setup: RunSetup): { model: ModelFields; training: SessionTrainOptions } {
  const presetSource = `the ${setup.preset} preset`;
  const model = { ...PRESETS[setup.preset].model, ...setup.model } as ModelFields;
  // The vocabulary comes from the tokenizer, later; 1 stands in for it here.
  explained(setup.sources, model, () => validateConfig({ ...model, vocabSize: 1 }), presetSource);
  const rope = Object.keys(model.rope ?? {});
  if (rope.length > 0 && model.position !== 'rope') {
    const names = rope.map((field) => setup.sources.get(`rope.${field}`)).join(', ');
    throw new Error(
      `${names} set RoPE, but the position encoding is ${model.position} (from ${setup.sources.get('position') ?? presetSource}); add --position rope`,
    );
  }
  const sources = new Map(setup.sources);
  for (const field of Object.keys(PRESETS[setup.preset].training)) if (!sources.has(field)) sources.set(field, presetSource);
  const given = { ...PRESETS[setup.preset].training, seed: setup.seed, ...setup.training } as Record<string, Value>;
  const training = explained(sources, given, () => trainingOptions(setup.preset, setup.training, setup.seed));
  return { model, training };
}

/** Refuses, before the checkpoint is read, what a resumed run cannot change. */
export function refuseOnResume(setup: RunSetup, out: string): void {
  const { model, optimizer } = setup.fixed;
  if (model.length > 0) throw new Error(`${model.join(', ')} cannot change when resuming: the checkpoint in ${out} fixes the model, tokenizer and seed`);
  if (optimizer.length > 0)
    throw new Error(`${optimizer.join(', ')} cannot change when resuming: the optimizer state in ${out} holds AdamW's betas and weight decay`);
}

/**
 * The training fields a resumed run changes, each said as it is applied (`applying --lr 0.001
 * (was 0.003)`): a new --steps also moves the end of the decay, a new --lr the floor (to a tenth),
 * unless they are given too. The merged options are checked before anything trains.
 */
export function resumeOverrides(setup: RunSetup, saved: TrainSettings | undefined, say: (line: string) => void): Partial<TrainSettings> {
  const given = setup.training as Record<string, Value>;
  const before = (saved ?? {}) as Record<string, Value>;
  const overrides: Record<string, Value> = {};
  for (const k of KNOBS) {
    const value = given[k.field];
    if (k.section !== 'training' || value === undefined || value === before[k.field]) continue;
    say(`applying ${setup.sources.get(k.field)} ${shown(value)} (was ${before[k.field] === undefined ? 'unset' : shown(before[k.field])})`);
    overrides[k.field] = value;
    if (k.field === 'steps' && given.decaySteps === undefined) {
      say(`the learning-rate decay now ends at step ${value} (was ${shown(before.decaySteps ?? before.steps)})`);
      overrides.decaySteps = value;
    }
    if (k.field === 'learningRate' && given.minLearningRate === undefined) overrides.minLearningRate = (value as number) / 10;
  }
  const merged = { ...before, ...overrides } as unknown as TrainSettings;
  explained(setup.sources, merged as unknown as Record<string, Value>, () => validateTrainOptions(merged), 'the checkpoint');
  return overrides as Partial<TrainSettings>;
}

/** Runs `build` (the model's construction), naming where the fields its error names came from. */
export function buildExplained<T>(setup: RunSetup, values: ModelFields | (ModelFields & Partial<SessionTrainOptions>), build: () => T): T {
  return explained(setup.sources, values as unknown as Record<string, Value>, build, `the ${setup.preset} preset`);
}
