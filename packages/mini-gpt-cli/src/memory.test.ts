// Sizes bounded before anything is allocated (issue 22, items 6 and 7), as the built CLI runs them:
// each refusal is one line, and comes in seconds, where these commands took gigabytes before.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { namesCorpus } from '@embedlab/mini-gpt';
import { describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'minigpt-memory-'));
/** A modest timeout: a refusal is at once; what the issue found ran for a minute and took gigabytes. */
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 30_000 });
const quiet = ['--samples', '0', '--workers', '1'];

/** The one line of a refusal, checked to be the whole of stderr and the exit status 1 (not a timeout). */
function refusal(result: ReturnType<typeof run>): string {
  expect(result.signal, 'killed by the timeout').toBeNull();
  expect(result.status, result.stderr).toBe(1);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  return lines[0]!;
}

describe('minigpt: memory bounded before allocation', { timeout: 120_000 }, () => {
  it.each([
    [['--block-size', '30000000'], /the attention weights \[\d+, 4, 30000000, 30000000\] alone would take .*; a blockSize of at most \d+ tokens would fit/],
    [['--n-embd', '20000'], /an MLP weight \[20000, 80000\] alone would take .*use a smaller model/],
    [['--n-layer', '100000'], /use a smaller model \(nLayer, nEmbd, vocabSize\)$/],
    [['--position', 'rope', '--block-size', '100000'], /a blockSize of at most \d+ tokens would fit/],
  ])('train %j --dry-run is refused by the estimate in one line', (flags, message) => {
    const line = refusal(run('train', ...flags, '--dry-run', ...quiet));
    expect(line).toMatch(/^minigpt: train: a training step of .* more than the 3 GiB a wasm heap can use; /);
    expect(line).toMatch(message);
  });

  it('train --dry-run prints the estimate and builds no model', () => {
    const result = run('train', '--dry-run', '--preset', 'names', ...quiet);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /\nmemory ≈ [\d.]+ MiB per worker \(parameters [\d.]+ KiB, gradients .*, AdamW moments .*, activations .*; AdamW's update peaks at .*\) of the 3 GiB a wasm heap can use, for micro-batches of 32 × 16 tokens\n$/,
    );
    const json = JSON.parse(
      run('train', '--dry-run', '--json', ...quiet)
        .stdout.trim()
        .split('\n')[0]!,
    );
    expect(json.memory).toMatchObject({ mode: 'train', batchSize: 32, context: 16, fits: true });
    expect(json.memory.perWorker).toBeGreaterThan(json.memory.parts.parameters);
  });

  it.each([['100000'], ['1000000000']])('train --batch-size %s is refused at once, in one line (no stack trace after it)', (batch) => {
    const line = refusal(run('train', '--batch-size', batch, '--steps', '1', '--out', join(dir, `batch-${batch}`), ...quiet));
    expect(line).toMatch(new RegExp(`^minigpt: TrainingSession: a training step of ${batch} × 16 tokens .*; a batch of at most \\d+ sequences would fit$`));
  });

  it('train --block-size 10000000 on a 115K-token corpus is refused before anything is built; a corpus shorter than a fitting context, by its length', () => {
    const text = join(dir, 'corpus.txt');
    writeFileSync(text, `${namesCorpus()}\n${namesCorpus()}`.slice(0, 115_000));
    const long = refusal(run('train', '--data', text, '--block-size', '10000000', '--steps', '1', '--out', join(dir, 'long-block'), ...quiet));
    expect(long).toMatch(/^minigpt: TrainingSession: .*more than the 3 GiB a wasm heap can use; a blockSize of at most \d+ tokens would fit/);
    const short = join(dir, 'short.txt');
    writeFileSync(short, namesCorpus().slice(0, 2000));
    const line = refusal(
      run('train', '--data', short, '--block-size', '4096', '--batch-size', '1', '--steps', '1', '--out', join(dir, 'short-corpus'), ...quiet),
    );
    expect(line).toMatch(/fewer than blockSize \+ 1 = 4097/);
  });

  it('train --position rope --block-size 100000 is refused by the estimate', () => {
    const line = refusal(run('train', '--position', 'rope', '--block-size', '100000', '--steps', '1', '--out', join(dir, 'rope-long'), ...quiet));
    expect(line).toMatch(/^minigpt: .*more than the 3 GiB a wasm heap can use; a blockSize of at most \d+ tokens would fit/);
  });

  it('eval --context 30000 on a RoPE checkpoint is refused by the estimate, not by "memory access out of bounds"', () => {
    const out = join(dir, 'rope');
    const tiny = ['--position', 'rope', '--n-layer', '1', '--n-head', '2', '--n-embd', '16', '--batch-size', '4', '--eval-batches', '1'];
    const trained = run('train', ...tiny, '--steps', '1', '--out', out, ...quiet);
    expect(trained.status, trained.stderr).toBe(0);
    const text = join(dir, 'names.txt');
    writeFileSync(text, namesCorpus());
    const line = refusal(run('eval', '--checkpoint', out, '--data', text, '--context', '30000'));
    expect(line).toMatch(
      /^minigpt: evaluate: a forward pass of 1 × 30000 tokens needs ≈ .* more than the 3 GiB a wasm heap can use; a context of at most \d+ tokens would fit$/,
    );
  });

  it('train --workers 1000 uses the cores there are, and says so on stderr', () => {
    const cores = availableParallelism();
    const result = run('train', '--workers', '1000', '--dry-run', '--samples', '0');
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toBe(`--workers 1000: using ${cores}, the cores this machine has\n`);
    if (cores > 1) expect(result.stdout).toMatch(new RegExp(`on ${cores} threads\\n$`));
  });
});
