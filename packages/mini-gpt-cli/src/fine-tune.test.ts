// minigpt train --init-from: fine-tuning from a checkpoint or a Hugging Face GPT-2 directory.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
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
});
