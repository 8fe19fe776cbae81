import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromHuggingFace, isHuggingFaceCharLevel } from '@embedlab/tokenizer';
import { describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'minigpt-export-'));
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
const text = join(dir, 'text.txt');
writeFileSync(text, Array.from({ length: 2000 }, (_, i) => `the ${['cat', 'dog', 'bird'][i % 3]} number ${i} sat.`).join('\n'));
const tiny = ['--n-layer', '1', '--n-head', '2', '--n-embd', '16', '--block-size', '16', '--steps', '3', '--samples', '0', '--data', text];

function trained(name: string, ...flags: string[]): string {
  const out = join(dir, name);
  const result = run('train', ...tiny, ...flags, '--out', out);
  expect(result.status, result.stderr).toBe(0);
  return out;
}

const evalJson = (...source: string[]) => {
  const result = run('eval', ...source, '--data', text, '--json');
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout);
};

describe('minigpt export --format hf', { timeout: 180_000 }, () => {
  it('writes a Hugging Face directory that evaluates and samples as the checkpoint did (BPE, untied)', () => {
    const checkpoint = trained('bpe', '--tokenizer', 'bpe:300', '--untied');
    const hf = join(dir, 'bpe-hf');
    const exported = run('export', '--checkpoint', checkpoint, '--format', 'hf', '--out', hf);
    expect(exported.status, exported.stderr).toBe(0);
    expect(exported.stdout).toContain('note: the output head is not tied to wte');
    expect(readdirSync(hf).sort()).toEqual(['.minigpt-record.json', 'config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    expect(fromHuggingFace(readFileSync(join(hf, 'tokenizer.json'), 'utf8')).vocabSize).toBe(300);
    expect(evalJson('--hf', hf).loss).toBe(evalJson('--checkpoint', checkpoint).loss);
    const sample = (...source: string[]) => run('sample', ...source, '--prompt', 'the ', '--tokens', '12', '--seed', '5').stdout;
    expect(sample('--hf', hf)).toBe(sample('--checkpoint', checkpoint));
  });

  it('exports a char tokenizer and sinusoidal positions, with a note', () => {
    const checkpoint = trained('char', '--position', 'sinusoidal');
    const hf = join(dir, 'char-hf');
    const exported = run('export', '--checkpoint', checkpoint, '--format', 'hf', '--out', hf, '--json');
    expect(exported.status, exported.stderr).toBe(0);
    const { notes } = JSON.parse(exported.stdout);
    expect(notes.join(' ')).toContain('sinusoidal positions are exported as their values');
    expect(isHuggingFaceCharLevel(readFileSync(join(hf, 'tokenizer.json'), 'utf8'))).toBe(true);
    expect(evalJson('--hf', hf).loss).toBe(evalJson('--checkpoint', checkpoint).loss);
    const again = run('export', '--checkpoint', checkpoint, '--format', 'hf', '--out', hf);
    expect(again.stderr).toContain(`${hf} already holds a Hugging Face directory of minigpt export; replace it with --force`);
    expect(run('export', '--checkpoint', checkpoint, '--format', 'hf', '--out', hf, '--force').status).toBe(0);
    // --force never replaces the checkpoint itself, nor a directory that is not an export.
    expect(run('export', '--checkpoint', checkpoint, '--format', 'hf', '--out', checkpoint, '--force').stderr).toContain(
      `${checkpoint} would replace ${checkpoint}, which it is written from`,
    );
    expect(run('export', '--checkpoint', checkpoint, '--format', 'hf', '--out', dir, '--force').stderr).toContain('which it is written from');
    expect(existsSync(join(checkpoint, 'optimizer.safetensors'))).toBe(true);
  });

  it('refuses what GPT-2 cannot hold, writing nothing', () => {
    const checkpoint = trained('rope', '--position', 'rope');
    const hf = join(dir, 'rope-hf');
    const refused = run('export', '--checkpoint', checkpoint, '--format', 'hf', '--out', hf);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('minigpt: cannot export as Hugging Face GPT-2: rope positions act inside attention');
    expect(existsSync(hf)).toBe(false);
    expect(run('export', '--checkpoint', checkpoint, '--format', 'onnx', '--out', hf).stderr).toContain('Allowed choices are hf');
  });
});
