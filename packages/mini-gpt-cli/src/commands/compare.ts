import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  comparisonVariants,
  namesCorpus,
  POSITION_KINDS,
  type PositionKind,
  type PresetName,
  PRESETS,
  runComparison,
  type VariantResult,
} from '@embedlab/mini-gpt';
import {
  claimDirectory,
  hasCheckpoint,
  loadCheckpoint,
  type OwnedDirectory,
  readCorpus,
  saveCheckpoint,
  startWorkers,
  tokenizerFromSpec,
} from '@embedlab/mini-gpt/node';
import { MultiBar, Presets } from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { integer } from './arguments.js';
import { lossByPositionSvg, resultsCsv, resultsTable } from './compare-report.js';

const POSITIONS: PositionKind[] = [...POSITION_KINDS];

function list<T extends string>(name: string, allowed?: readonly T[]) {
  return (value: string): T[] => {
    const items = value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean) as T[];
    if (items.length === 0) throw new InvalidArgumentError(`${name} needs at least one value`);
    const bad = allowed ? items.filter((item) => !allowed.includes(item)) : [];
    if (bad.length > 0) throw new InvalidArgumentError(`${name}: ${bad.join(', ')} not one of ${allowed!.join(', ')}`);
    return items;
  };
}

function multiples(value: string): number[] {
  const item = integer('--multiples');
  try {
    return value.split(',').map((part) => item(part.trim()));
  } catch {
    throw new InvalidArgumentError(`--multiples must be positive integers in decimal digits separated by commas, got ${JSON.stringify(value)}`);
  }
}

interface CompareFlags {
  out: string;
  data?: string;
  tokenizer: string;
  preset: PresetName;
  positions: PositionKind[];
  tie: 'tied' | 'untied' | 'both';
  ropeScaling: string[];
  steps?: number;
  multiples: number[];
  seed: number;
  workers: number;
  json?: boolean;
}

/** What makes two comparisons the same experiment: a rerun with the same settings resumes. */
function settingsOf(flags: CompareFlags) {
  return {
    data: flags.data ? resolve(flags.data) : 'built-in names corpus',
    tokenizer: flags.tokenizer,
    preset: flags.preset,
    steps: flags.steps ?? PRESETS[flags.preset].training.steps,
    seed: flags.seed,
    multiples: flags.multiples,
  };
}

async function compareAction(flags: CompareFlags): Promise<void> {
  const settings = settingsOf(flags);
  const corpus = flags.data ? readCorpus(flags.data) : namesCorpus();
  const tokenizer = tokenizerFromSpec(flags.tokenizer, corpus);
  // A new or empty directory, or a comparison written before (then resumed): never anyone else's files.
  const owned = claimDirectory(flags.out, 'comparison');
  const resultsPath = join(flags.out, 'results.json');
  const finished = new Map<string, VariantResult>();
  const variants = comparisonVariants(flags.positions, flags.tie, flags.ropeScaling);
  try {
    const previous = owned.owns('results.json') && existsSync(resultsPath) ? JSON.parse(readFileSync(resultsPath, 'utf8')) : undefined;
    if (previous && JSON.stringify(previous.settings) !== JSON.stringify(settings))
      throw new Error(`${flags.out} holds a comparison with other settings (${JSON.stringify(previous.settings)}); use another --out`);
    for (const result of (previous?.variants ?? []) as VariantResult[]) finished.set(result.name, result);
    owned.record({
      entries: [...REPORTS, 'models', ...variants.map((v) => `models/${v.name}`)],
      temporary: REPORTS.map((report) => `${report}.next`),
    });
  } catch (error) {
    owned.abandon();
    throw error;
  }
  const skipped = variants.filter((v) => finished.has(v.name)).map((v) => v.name);
  const say = (line: string) => (flags.json ? undefined : console.log(line));
  if (skipped.length > 0) say(`resuming ${flags.out}: ${skipped.join(', ')} already done`);
  const modelDir = (name: string) => join(flags.out, 'models', name);
  const results = new Map(finished);
  const writeReports = () => {
    const rows = variants.flatMap((v) => results.get(v.name) ?? []);
    writeText(owned, 'results.json', `${JSON.stringify({ settings, variants: rows }, null, 2)}\n`);
    writeText(owned, 'results.csv', resultsCsv(rows));
    writeText(owned, 'loss-vs-position.svg', lossByPositionSvg(rows, PRESETS[flags.preset].model.blockSize, settings.data));
    return rows;
  };
  const bars =
    !flags.json && process.stderr.isTTY
      ? new MultiBar({ format: '{variant} [{bar}] step {value}/{total} loss {loss}', hideCursor: true, clearOnComplete: false }, Presets.shades_classic)
      : undefined;
  const barOf = new Map<string, ReturnType<MultiBar['create']>>();
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let pool: Awaited<ReturnType<typeof startWorkers>> | undefined;
  let rows: VariantResult[];
  try {
    pool = flags.workers > 1 ? await startWorkers(flags.workers) : undefined;
    await runComparison({ corpus, tokenizer, preset: flags.preset, training: { steps: flags.steps }, seed: flags.seed, multiples: flags.multiples }, variants, {
      finished,
      signal: controller.signal,
      ...(pool ? { workers: pool } : {}),
      checkpointOf: (variant) => (hasCheckpoint(modelDir(variant.name)) ? loadCheckpoint(modelDir(variant.name), { optimizer: true }) : undefined),
      onCheckpoint: (variant, files) => saveCheckpoint(modelDir(variant.name), files),
      onStep: (variant, event, steps) => {
        if (flags.json) return void console.log(JSON.stringify({ event: 'step', variant: variant.name, step: event.step, loss: event.loss }));
        if (!bars) return;
        const bar = barOf.get(variant.name) ?? bars.create(steps, event.step, { variant: variant.name.padEnd(16), loss: '-' });
        barOf.set(variant.name, bar);
        bar.update(event.step + 1, { loss: event.loss.toFixed(3) });
      },
      onVariant: (result) => {
        results.set(result.name, result);
        writeReports();
        if (flags.json) console.log(JSON.stringify({ event: 'variant', ...result, contexts: result.contexts.map(({ byPosition: _, ...c }) => c) }));
        else if (!bars)
          console.log(`${result.name}: ${result.contexts.map((c) => `${c.multiple}x ${c.loss === null ? 'n/a' : c.loss.toFixed(3)}`).join(', ')}`);
      },
    });
    rows = writeReports();
  } finally {
    bars?.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    pool?.close();
    owned.release();
  }
  if (controller.signal.aborted) {
    say(`interrupted; ${rows.length} of ${variants.length} rows done in ${flags.out} (run the same command to continue)`);
    process.exitCode = 130;
    return;
  }
  if (flags.json) console.log(JSON.stringify({ event: 'done', out: flags.out }));
  else console.log(`\n${resultsTable(rows)}\n\nwrote ${join(flags.out, 'results.json')}, results.csv and loss-vs-position.svg`);
}

const REPORTS = ['results.json', 'results.csv', 'loss-vs-position.svg'];

/** Replaces a report in one rename, so an interrupted run never leaves a torn results.json; both names were recorded as ours. */
function writeText(owned: OwnedDirectory, name: string, text: string): void {
  const temporary = join(owned.dir, `${name}.next`);
  writeFileSync(temporary, text);
  renameSync(temporary, join(owned.dir, name));
}

export const compareCommand = new Command('compare')
  .description('train position-encoding variants on the same data, seed and budget, and compare their loss at 1x-8x the training length')
  .requiredOption('--out <dir>', 'directory for results.json, results.csv, loss-vs-position.svg and the models (rerun to resume)')
  .option('--data <path>', 'a text file or a directory of .txt files (default: the built-in names corpus)')
  .option('--tokenizer <spec>', 'char or bpe:SIZE', 'char')
  .addOption(new Option('--preset <name>', 'model and training shape').choices(Object.keys(PRESETS)).default('names'))
  .option('--positions <list>', 'comma-separated: learned, sinusoidal, rope, alibi, none', list('--positions', POSITIONS), POSITIONS)
  .addOption(new Option('--tie <which>', 'tied heads, untied, or both').choices(['tied', 'untied', 'both']).default('tied'))
  .option('--rope-scaling <list>', 'evaluate each rope model also with these scalings, e.g. linear:4,yarn:4', list<string>('--rope-scaling'), [])
  .option('--steps <n>', 'training steps per variant', integer('--steps'))
  .option('--multiples <list>', 'evaluation contexts as multiples of the training length', multiples, [1, 2, 4, 8])
  .option('--seed <n>', 'the same seed for every variant', integer('--seed', 0), 1337)
  .option('--workers <n>', 'threads sharing each batch', integer('--workers'), 1)
  .option('--json', 'one JSON object per event on stdout')
  .action(compareAction);
