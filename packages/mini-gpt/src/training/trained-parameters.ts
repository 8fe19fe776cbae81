// Which parameters a run trains (nanoGPT fine-tunes everything; freezing some is how one sees what
// a layer contributes): a spec of comma-separated parts, resolved against a model's architecture
// table before anything is built. The other parameters are frozen: no gradient is computed for
// them, AdamW keeps no moments for them, and they leave a run bit for bit as they came in.
import { parameterSpecs } from '../model/architecture.js';
import type { GPTConfig } from '../model/config.js';
import { OptionsError } from '../schema.js';

/**
 * `'all'` (the default) or parts joined by commas, unioned:
 * - `embeddings`: the token table `wte` (with tied weights also the output head, which is the
 *   same matrix: training one trains the other);
 * - `positions`: the learned position table `wpe`;
 * - `head`: the output head (`lm_head`; with tied weights the token table, as above);
 * - `norms`: every LayerNorm's weight and bias;
 * - `blocks`, `blocks:A`, `blocks:A-B`: every parameter of the blocks, or of blocks A to B (from 0);
 * - a state_dict name, where `*` stands for any characters (`transformer.h.*.mlp.*`).
 */
export type TrainSpec = string;

export const TRAIN_SPEC_HELP =
  'all, or a comma-separated list of embeddings, positions, head, norms, blocks, blocks:A-B and parameter names (* matches anything)';

/** What a part of the spec names, for people. */
function describePart(part: string, config: GPTConfig): string {
  if (part === 'embeddings' || part === 'head')
    return config.tieWeights ? 'the token table (the tied head is the same matrix)' : part === 'head' ? 'the output head' : 'the token table';
  if (part === 'positions') return 'the position table';
  if (part === 'norms') return 'the LayerNorms';
  if (part.startsWith('blocks')) return part === 'blocks' ? 'every block' : `block${part.includes('-') ? 's' : ''} ${part.slice('blocks:'.length)}`;
  return part;
}

function fail(rule: string, value: unknown): never {
  throw new OptionsError('train', [{ path: 'train', rule, value }]);
}

/** The state_dict names `spec` trains, in state order; an error names the part that is wrong. */
export function trainedNames(config: GPTConfig, spec: TrainSpec = 'all'): string[] {
  const specs = parameterSpecs(config);
  if (typeof spec !== 'string' || spec.trim() === '') fail(TRAIN_SPEC_HELP, spec);
  const parts = spec.split(',').map((part) => part.trim());
  const chosen = new Set<string>();
  for (const part of parts) {
    let names: string[];
    if (part === 'all') names = specs.map((s) => s.name);
    else if (part === 'embeddings') names = specs.filter((s) => s.role === 'token-embedding').map((s) => s.name);
    else if (part === 'head') names = specs.filter((s) => s.role === (config.tieWeights ? 'token-embedding' : 'head')).map((s) => s.name);
    else if (part === 'positions') {
      names = specs.filter((s) => s.role === 'position-embedding').map((s) => s.name);
      if (names.length === 0) fail(`a part this model has (it has no learned position table: position ${config.position})`, part);
    } else if (part === 'norms') names = specs.filter((s) => s.role === 'norm').map((s) => s.name);
    else if (part === 'blocks' || part.startsWith('blocks:')) {
      const range = /^blocks(?::(\d+)(?:-(\d+))?)?$/.exec(part);
      if (!range) fail('blocks, blocks:A or blocks:A-B (block numbers from 0)', part);
      const last = config.nLayer - 1;
      const from = range[1] === undefined ? 0 : Number(range[1]);
      const to = range[2] === undefined ? (range[1] === undefined ? last : from) : Number(range[2]);
      if (from > to || to > last) fail(`blocks within 0-${last} (this model has ${config.nLayer}), the first no later than the last`, part);
      names = specs.filter((s) => s.layer !== undefined && s.layer >= from && s.layer <= to).map((s) => s.name);
    } else {
      const pattern = new RegExp(`^${part.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`);
      names = specs.filter((s) => pattern.test(s.name)).map((s) => s.name);
      if (names.length === 0) fail(`${TRAIN_SPEC_HELP}; "${part}" names no parameter of this model`, part);
    }
    for (const name of names) chosen.add(name);
  }
  return specs.map((s) => s.name).filter((name) => chosen.has(name));
}

/** How much of the model `spec` trains, as the memory estimate takes it (`MemoryRun`'s fields). */
export function trainedSizes(config: GPTConfig, spec: TrainSpec = 'all'): { trainedParameters: number; tokenTableTrains: boolean } {
  const names = new Set(trainedNames(config, spec));
  const specs = parameterSpecs(config).filter((s) => names.has(s.name));
  return {
    trainedParameters: specs.reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1), 0),
    tokenTableTrains: specs.some((s) => s.role === 'token-embedding'),
  };
}

/** One line on what a run trains: `all 28 parameter tensors`, or what is trained and how much of the model it is. */
export function describeTrained(config: GPTConfig, spec: TrainSpec = 'all'): string {
  const specs = parameterSpecs(config);
  const names = new Set(trainedNames(config, spec));
  const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  const total = specs.reduce((sum, s) => sum + size(s.shape), 0);
  const trained = specs.filter((s) => names.has(s.name)).reduce((sum, s) => sum + size(s.shape), 0);
  if (names.size === specs.length) return `all ${specs.length} parameter tensors`;
  const parts = spec.split(',').map((part) => describePart(part.trim(), config));
  return `${parts.join(', ')}: ${names.size} of ${specs.length} parameter tensors (${trained.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} numbers), the rest frozen`;
}
