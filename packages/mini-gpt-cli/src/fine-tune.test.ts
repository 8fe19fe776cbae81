// minigpt train --init-from: fine-tuning from a checkpoint or a Hugging Face GPT-2 directory.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCheckpoint } from '@embedlab/mini-gpt/node';
import { ready } from '@embedlab/runtime';
import { beforeAll, describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'minigpt-fine-tune-'));
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
const text = join(dir, 'text.txt');
writeFileSync(text, Array.from({ length: 1500 }, (_, i) => `the ${['cat', 'dog', 'bird'][i % 3]} number ${i} sat.`).join('\n'));
const tiny = ['--n-layer', '1', '--n-head', '2', '--n-embd', '16', '--block-size', '16', '--samples', '0', '--data', text];

describe('minigpt train --init-from', { timeout: 180_000 }, () => {
  beforeAll(async () => {
    await ready();
  });

  it('fine-tunes a checkpoint or a Hugging Face directory: its weights and tokenizer, step 0, a cropped context', () => {
    const base = join(dir, 'base');
    expect(run('train', ...tiny, '--steps', '4', '--out', base).status).toBe(0);
    const hf = join(dir, 'base-hf');
    expect(run('export', '--checkpoint', base, '--format', 'hf', '--out', hf).status).toBe(0);
    for (const [name, from] of [
      ['from-checkpoint', base],
      ['from-hf', hf],
    ] as const) {
      const out = join(dir, name);
      const tuned = run('train', '--init-from', from, '--data', text, '--steps', '3', '--block-size', '8', '--samples', '0', '--out', out);
      expect(tuned.status, tuned.stderr).toBe(0);
      expect(tuned.stdout).toMatch(/starting from .* \(step \d+\): its weights and tokenizer, a fresh optimizer, step 0/);
      const saved = loadCheckpoint(out);
      const source = from === base ? loadCheckpoint(base) : undefined;
      expect(saved.step).toBe(3);
      expect(saved.model.config.blockSize).toBe(8);
      if (source) {
        expect(saved.model.config).toEqual({ ...source.model.config, blockSize: 8 });
        expect(saved.tokenizer.encode('the cat')).toEqual(source.tokenizer.encode('the cat'));
        source.model.dispose();
      }
      saved.model.dispose();
    }
  });

  it('refuses in one line what contradicts the initial model, or what is not a model', () => {
    const base = join(dir, 'base');
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const cases: [string[], string][] = [
      [['--n-layer', '2'], "initFrom: nLayer must be the initial model's 1 (only dropout may change, and blockSize shrink), got 2 (nLayer 2 from --n-layer)"],
      [
        ['--block-size', '32'],
        "initFrom: blockSize must be at most the initial model's 16 (its learned positions end there), got 32 (blockSize 32 from --block-size)",
      ],
      [['--tokenizer', 'char'], "--tokenizer cannot be given with --init-from: the initial model's tokenizer reads the data"],
      [['--resume'], "option '--init-from <dir>' cannot be used with option '--resume'"],
    ];
    for (const [flags, message] of cases) {
      const result = run('train', '--init-from', base, '--data', text, '--steps', '2', '--out', join(dir, 'refused'), ...flags);
      expect(result.status, flags.join(' ')).not.toBe(0);
      expect(result.stderr.trim(), flags.join(' ')).toContain(message);
    }
    const neither = run('train', '--init-from', empty, '--data', text, '--out', join(dir, 'refused'));
    expect(neither.stderr.trim()).toBe(
      `minigpt: --init-from ${empty} is neither a minigpt checkpoint nor a Hugging Face GPT-2 directory (no model.safetensors with config.json)`,
    );
  });

  it('--train trains what it names: the rest leaves the run bit for bit, inspect says what trained, a resume keeps it', () => {
    const base = join(dir, 'base');
    const out = join(dir, 'frozen');
    const tuned = run('train', '--init-from', base, '--data', text, '--steps', '3', '--samples', '0', '--train', 'embeddings', '--out', out);
    expect(tuned.status, tuned.stderr).toBe(0);
    expect(tuned.stdout).toMatch(
      /^training the token table \(the tied head is the same matrix\): 1 of \d+ parameter tensors \([\d,]+ of [\d,]+ numbers\), the rest frozen$/m,
    );
    const [before, after] = [loadCheckpoint(base), loadCheckpoint(out)];
    for (const [name, variable] of after.model.stateDict()) {
      const same = Array.from(variable.dataSync()).every((value, i) => Object.is(value, before.model.stateDict().get(name)!.dataSync()[i]));
      expect(same, name).toBe(name !== 'transformer.wte.weight');
    }
    before.model.dispose();
    after.model.dispose();
    expect(run('inspect', out).stdout).toMatch(/^trained the token table/m);
    const other = run('train', '--out', out, '--resume', '--steps', '5', '--train', 'all');
    expect(other.status).toBe(1);
    expect(other.stderr.trim()).toContain(`resume: train must be the checkpoint's "embeddings"`);
    expect(other.stderr.trim()).toContain('start a new run from it with --init-from to train something else');
    const resumed = run('train', '--out', out, '--resume', '--steps', '5', '--samples', '0');
    expect(resumed.status, resumed.stderr).toBe(0);
  });

  it('refuses a --train that names nothing of the model, in one line, writing nothing', () => {
    const base = join(dir, 'base');
    for (const [spec, message] of [
      ['blocks:1-3', 'train must be blocks within 0-0 (this model has 1), the first no later than the last, got "blocks:1-3"'],
      ['weights', '"weights" names no parameter of this model'],
      ['positions,blocks:9', 'train must be blocks within 0-0'],
    ]) {
      const out = join(dir, `refused-${spec}`);
      const result = run('train', '--init-from', base, '--data', text, '--steps', '2', '--train', spec!, '--out', out);
      expect(result.status, spec).toBe(1);
      expect(result.stderr.trim().split('\n'), spec).toHaveLength(1);
      expect(result.stderr, spec).toContain(message);
      expect(existsSync(out), spec).toBe(false);
    }
  });

  it("plans a fine-tune from the initial model's config alone: --dry-run shows it, refusals come before any weight is read", () => {
    const hf = join(dir, 'base-hf');
    const dry = run('train', '--init-from', hf, '--data', text, '--block-size', '8', '--train', 'blocks', '--dry-run');
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(new RegExp(`^  nLayer +1 +--n-layer +--init-from ${hf.replace(/[/.]/g, '\\$&')}$`, 'm'));
    expect(dry.stdout).toMatch(/^ {2}blockSize +8 +--block-size +--block-size$/m);
    expect(dry.stdout).toMatch(/^ {2}train +blocks +--train +--train$/m);
    expect(dry.stdout).toMatch(/^memory ≈ /m);
    // Refused with nothing printed before: the weights were never loaded.
    const refused = run('train', '--init-from', hf, '--data', text, '--train', 'blocks:3', '--out', join(dir, 'never'));
    expect(refused.status).toBe(1);
    expect(refused.stdout).toBe('');
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });
});
