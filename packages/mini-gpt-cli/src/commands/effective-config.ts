// The settings a run uses, every field, as a table or JSON: `minigpt inspect` and `train --dry-run`.
import type { GPTConfig, MiniGPT, ResolvedTrainOptions } from '@embedlab/mini-gpt';
import { KNOBS, shown } from './run-config.js';

type Rope = NonNullable<GPTConfig['rope']>;

/** The model config with RoPE's settings as the built model holds them (defaults included), when it has RoPE. */
export function modelSettings(model: MiniGPT): GPTConfig {
  const positions = model.positional;
  const config = { embeddingScale: 'none' as const, ...model.config };
  if (!positions || !('rotaryDim' in positions)) return config;
  const { base, layout, rotaryDim, scaling } = positions;
  return { ...config, rope: { base, layout, rotaryDim, ...(scaling ? { scaling } : {}) } };
}

const ORDER = {
  model: ['vocabSize', ...KNOBS.filter((k) => k.section === 'model').map((k) => k.field)],
  training: [...KNOBS.filter((k) => k.section === 'training').map((k) => k.field), 'seed'],
};

/** Fields in the order of the flags' table. */
function ordered(section: keyof typeof ORDER, object: object): [string, unknown][] {
  const order = ORDER[section];
  const rank = (field: string) => (order.includes(field) ? order.indexOf(field) : order.length);
  return Object.entries(object).sort(([a], [b]) => rank(a) - rank(b));
}

/** Rows of (field, value, flag), RoPE's as `rope.base` etc., model then training; `sourceOf` adds where each value came from. */
export function settingsTable(
  model: GPTConfig | Omit<GPTConfig, 'vocabSize'>,
  training: ResolvedTrainOptions | undefined,
  sourceOf?: (field: string) => string,
): string[] {
  const flagOf = new Map(KNOBS.map((k) => [k.field, k.flag]));
  flagOf.set('seed', '--seed').set('vocabSize', '--tokenizer');
  const { rope, ...plain } = model as GPTConfig;
  const modelRows = ordered('model', plain);
  if (model.position === 'rope')
    for (const field of ['base', 'layout', 'rotaryDim', 'scaling'] as (keyof Rope)[])
      modelRows.push([`rope.${field}`, rope?.[field] ?? (field === 'scaling' ? 'none' : undefined)]);
  const lines: string[] = [];
  for (const [title, rows] of [
    ['model', modelRows],
    ['training', training ? ordered('training', training) : []],
  ] as const) {
    if (rows.length === 0) continue;
    lines.push(title);
    for (const [field, value] of rows) {
      const cells = [`  ${field.padEnd(22)}`, shown(value).padEnd(14), (flagOf.get(field) ?? '').padEnd(26)];
      if (sourceOf) cells.push(sourceOf(field));
      lines.push(cells.join(' ').trimEnd());
    }
  }
  return lines;
}
