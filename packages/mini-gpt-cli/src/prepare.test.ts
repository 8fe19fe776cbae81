import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TokenDataset } from '@embedlab/mini-gpt';
import { openTokenDirectory } from '@embedlab/mini-gpt/node';
import { CharTokenizer } from '@embedlab/tokenizer';
import { describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'minigpt-prepare-'));
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
const text = Array.from({ length: 3000 }, (_, i) => `${['anna', 'bob', 'carla', 'dmitri', 'élodie'][i % 5]}${i % 13}`).join('\n');
const textFile = join(dir, 'names.txt');
writeFileSync(textFile, text);

describe('minigpt prepare', { timeout: 180_000 }, () => {
  it('writes a token directory that eval reads, equal to the text tokenized at once', () => {
    const out = join(dir, 'tokens');
    const prepared = run('prepare', textFile, '--out', out, '--workers', '2', '--json');
    expect(prepared.status, prepared.stderr).toBe(0);
    const meta = JSON.parse(prepared.stdout);
    expect(meta).toMatchObject({ out, dtype: 'uint16', train: { file: 'train.bin' }, val: { file: 'val.bin' } });
    expect(readdirSync(out).sort()).toEqual(['.minigpt-record.json', 'meta.json', 'tokenizer.json', 'train.bin', 'val.bin']);
    const opened = openTokenDirectory(out);
    const expected = new TokenDataset(CharTokenizer.fromCorpus(text).encode(text));
    const validation = opened.dataset.validation as { read(start: number, count: number): Int32Array; length: number };
    expect(Array.from(validation.read(0, validation.length))).toEqual(Array.from(expected.validation as Int32Array));
    opened.close();

    const again = run('prepare', textFile, '--out', out);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain(`${out} already holds a token directory of minigpt prepare; replace it with --force`);
    expect(run('prepare', '/dev/zero', '--out', join(dir, 'zero')).stderr).toContain('minigpt: /dev/zero is not a regular file');
    const loop = join(dir, 'loop.txt');
    symlinkSync(`${loop}.other`, loop);
    symlinkSync(loop, `${loop}.other`);
    expect(run('prepare', loop, '--out', join(dir, 'loop')).stderr.trim()).toBe(
      `minigpt: ${loop} is a loop of symbolic links (each leads to another, never to a file)`,
    );
    expect(run('prepare', textFile, '--out', join(dir, 'x'), '--val-fraction', '1').stderr).toContain('--val-fraction must be in (0, 1)');
    expect(run('prepare', textFile, '--out', join(dir, 'x'), '--tokenizer', 'nope.json').stderr).toContain('nope.json does not exist');
    // 8 MB with no place the pattern splits: the regex engine's stack gave out ("Maximum call stack
    // size exceeded") on Node 20 and 22; the run is named instead, and nothing is written. Node 24's
    // engine matches it, and the directory is written.
    const oneRun = join(dir, 'one-run.txt');
    writeFileSync(oneRun, 'a'.repeat(8_000_000));
    const longRun = run('prepare', oneRun, '--out', join(dir, 'one-run'), '--tokenizer', 'bpe:300');
    expect(longRun.stderr).not.toContain('Maximum call stack size exceeded');
    if (longRun.status !== 0) {
      expect(longRun.stderr).toMatch(
        /^minigpt: the pre-tokenisation pattern .* reads the text from index 0 .* as one piece longer than the regex engine can match/,
      );
      expect(existsSync(join(dir, 'one-run'))).toBe(false);
    } else expect(existsSync(join(dir, 'one-run', 'meta.json'))).toBe(true);
  });

  it('evaluates a checkpoint on the val.bin of a directory its tokenizer made, and refuses another tokenizer', () => {
    const checkpoint = join(dir, 'checkpoint');
    const trained = run('train', '--data', textFile, '--steps', '2', '--samples', '0', '--out', checkpoint, '--preset', 'names');
    expect(trained.status, trained.stderr).toBe(0);
    const tokens = join(dir, 'same-tokenizer');
    // The checkpoint's own tokenizer, given as the directory.
    expect(run('prepare', textFile, '--out', tokens, '--tokenizer', checkpoint).status).toBe(0);
    const fromText = run('eval', '--checkpoint', checkpoint, '--data', textFile, '--json');
    const fromTokens = run('eval', '--checkpoint', checkpoint, '--data', tokens, '--json');
    expect(fromTokens.status, fromTokens.stderr).toBe(0);
    const [a, b] = [JSON.parse(fromText.stdout), JSON.parse(fromTokens.stdout)];
    expect(b.tokens).toBeGreaterThan(0);
    expect(Number.isFinite(b.loss)).toBe(true);
    // The text is scored from its start, the directory on its val.bin: different tokens, same scale.
    expect(Math.abs(a.loss - b.loss)).toBeLessThan(1);

    const other = join(dir, 'other-tokenizer');
    writeFileSync(join(dir, 'other.txt'), `${text}\nxyz`);
    expect(run('prepare', join(dir, 'other.txt'), '--out', other).status).toBe(0);
    const refused = run('eval', '--checkpoint', checkpoint, '--data', other);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('was tokenized by another tokenizer than the model');
  });

  it('trains on a token directory with the losses of its text, resumes on it, and refuses another tokenizer', () => {
    const tokens = join(dir, 'train-tokens');
    expect(run('prepare', textFile, '--out', tokens).status).toBe(0);
    const tiny = ['--n-layer', '1', '--n-head', '2', '--n-embd', '16', '--block-size', '16', '--samples', '0', '--json', '--workers', '1'];
    const losses = (result: ReturnType<typeof run>) => {
      expect(result.status, result.stderr).toBe(0);
      const events = result.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      return { events, losses: events.filter((e) => e.event === 'step').map((e) => e.loss) };
    };
    const fromText = losses(run('train', '--data', textFile, '--steps', '3', ...tiny, '--out', join(dir, 'from-text')));
    const out = join(dir, 'from-tokens');
    const fromTokens = losses(run('train', '--data', tokens, '--steps', '3', ...tiny, '--out', out));
    expect(fromTokens.losses).toHaveLength(3);
    expect(fromTokens.losses).toEqual(fromText.losses);
    const resumed = losses(run('train', '--resume', '--out', out, '--steps', '5', '--json', '--samples', '0'));
    expect(resumed.events.filter((e) => e.event === 'step').map((e) => e.step)).toEqual([3, 4]);

    expect(run('train', '--data', tokens, '--tokenizer', 'bpe:300', ...tiny, '--out', join(dir, 'x')).stderr).toContain(
      'minigpt: --tokenizer cannot be chosen for',
    );
    // nanoGPT's own directories (no meta.json) need the tokenizer file that made them.
    const nano = join(dir, 'nano');
    mkdirSync(nano);
    for (const name of ['train.bin', 'val.bin']) copyFileSync(join(tokens, name), join(nano, name));
    for (const flags of [[], ['--tokenizer', 'bpe:300']])
      expect(run('train', '--data', nano, ...flags, ...tiny, '--out', join(dir, 'y')).stderr).toContain(
        'has train.bin but no meta.json to say which tokenizer made it',
      );
    const other = join(dir, 'bpe-tokens');
    expect(run('prepare', textFile, '--out', other, '--tokenizer', 'bpe:280').status).toBe(0);
    expect(run('train', '--resume', '--out', out, '--data', other, '--steps', '6').stderr).toContain('was tokenized by another tokenizer than the checkpoint');
  });

  it('removes its partial output when interrupted', async () => {
    const big = join(dir, 'big.txt');
    writeFileSync(big, `${text}\n`.repeat(2500));
    const out = join(dir, 'interrupted');
    const child = spawn(process.execPath, [cli, 'prepare', big, '--out', out, '--workers', '1']);
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    // Interrupted once tokens are being written (the staging directory inside --out exists).
    const poll = setInterval(() => {
      if (existsSync(out) && readdirSync(out).some((name) => name.startsWith('.partial-'))) {
        clearInterval(poll);
        child.kill('SIGINT');
      }
    }, 10);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearInterval(poll);
    expect(code, stderr).toBe(1);
    expect(stderr).toContain('interrupted; nothing was written');
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((name) => name.includes('partial'))).toEqual([]);
  });
});
