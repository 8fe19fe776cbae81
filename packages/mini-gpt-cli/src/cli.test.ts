import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BYTE_TO_UNICODE, fromGpt2Files } from '@embedlab/tokenizer';
import { describe, expect, it } from 'vitest';
import { NANOGPT_REFERENCE, runTorch } from '@embedlab/test-utils';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'minigpt-cli-'));
const out = join(dir, 'names');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

describe('minigpt CLI', { timeout: 180_000 }, () => {
  it('trains the names preset, then resumes, samples, evaluates and inspects the checkpoint', () => {
    const trained = run('train', '--preset', 'names', '--steps', '40', '--eval-interval', '20', '--samples', '2', '--out', out);
    expect(trained.status, trained.stderr).toBe(0);
    expect(trained.stdout).toMatch(/model: 0\.103M parameters, 2 layers, 4 heads, 64 dims, vocabulary 28/);
    expect(trained.stdout).toMatch(/samples before training: ".*" ".*"/);
    expect(trained.stdout).toMatch(/eval at step 40: train loss \d\.\d+, validation loss \d\.\d+, perplexity \d+\.\d+/);
    expect(trained.stdout).toMatch(/samples after training/);
    for (const file of ['model.safetensors', 'tokenizer.json', 'optimizer.safetensors']) expect(existsSync(join(out, file))).toBe(true);

    const resumed = run('train', '--out', out, '--resume', '--steps', '50', '--json', '--samples', '0');
    expect(resumed.status, resumed.stderr).toBe(0);
    const events = resumed.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(events.slice(0, 3)).toEqual([
      { event: 'info', message: 'applying --steps 50 (was 40)' },
      { event: 'info', message: 'the learning-rate decay now ends at step 50 (was 40)' },
      { event: 'resume', step: 40, out },
    ]);
    expect(events.filter((e) => e.event === 'step').map((e) => e.step)).toEqual([40, 41, 42, 43, 44, 45, 46, 47, 48, 49]);
    expect(events.at(-1)).toMatchObject({ event: 'done', step: 50 });

    const sampled = run('sample', '--checkpoint', out, '--prompt', 'an', '--tokens', '20', '--seed', '3');
    expect(sampled.status, sampled.stderr).toBe(0);
    expect(sampled.stdout.startsWith('an')).toBe(true);
    expect([...sampled.stdout.trimEnd()].length).toBeGreaterThanOrEqual(3);

    const data = join(dir, 'names.txt');
    writeFileSync(data, 'anna\nbob\ncarla\ndavid\nemma\nfrank\n'.repeat(20));
    const evaluated = run('eval', '--checkpoint', out, '--data', data);
    expect(evaluated.stdout).toMatch(/^loss \d\.\d{4} {2}perplexity \d+\.\d{2} {2}\(\d+ tokens of /);

    const inspected = run('inspect', '--checkpoint', out);
    expect(inspected.stdout).toMatch(/step 50/);
    expect(inspected.stdout).toMatch(/total\s+102,912/);
    expect(inspected.stdout).toMatch(/saved by weight tying\s+1,792/);
  });

  it.each(['SIGINT', 'SIGTERM'] as const)('saves a checkpoint and exits cleanly on %s', async (signal) => {
    const target = join(dir, `interrupted-${signal}`);
    const child = spawn(process.execPath, [cli, 'train', '--preset', 'names', '--steps', '100000', '--samples', '0', '--out', target, '--json']);
    let stdout = '';
    let interrupted = false;
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk;
        // One signal (a second one would end the process at once, as it should).
        if (!interrupted && stdout.includes('"event":"step","step":5,')) {
          interrupted = true;
          child.kill(signal);
        }
      });
      child.on('exit', resolve);
    });
    expect(code).toBe(130);
    expect(stdout).toMatch(/"event":"interrupted"/);
    expect(existsSync(join(target, 'model.safetensors'))).toBe(true);
    const inspected = run('inspect', '--checkpoint', target);
    expect(inspected.stdout).toMatch(/step \d+/);
  });

  it('runs a Hugging Face GPT-2 directory: prompt in, the same greedy text out as PyTorch', () => {
    const hf = join(dir, 'hf-gpt2');
    // A GPT-2-style byte-level vocabulary: the 256 bytes, three merges, <|endoftext|>.
    const vocab: Record<string, number> = Object.fromEntries(BYTE_TO_UNICODE.map((c, id) => [c, id]));
    Object.assign(vocab, { Ġt: 256, he: 257, Ġthe: 258, '<|endoftext|>': 259 });
    const merges = '#version: 0.2\nĠ t\nh e\nĠt he\n';
    mkdirSync(hf, { recursive: true });
    writeFileSync(join(hf, 'vocab.json'), JSON.stringify(vocab));
    writeFileSync(join(hf, 'merges.txt'), merges);
    writeFileSync(
      join(hf, 'config.json'),
      JSON.stringify({ vocab_size: 260, n_positions: 32, n_embd: 16, n_layer: 2, n_head: 2, activation_function: 'gelu_new' }),
    );
    const tokenizer = fromGpt2Files(JSON.stringify(vocab), merges);
    const prompt = 'on the hill';
    const ids = tokenizer.encode(prompt);
    expect(ids).toContain(258);
    const config = {
      vocabSize: 260,
      blockSize: 32,
      nLayer: 2,
      nHead: 2,
      nEmbd: 16,
      dropout: 0,
      bias: true,
      position: 'learned',
      tieWeights: true,
      gelu: 'tanh',
    };
    const reference = runTorch<{ greedy: number[] }>(NANOGPT_REFERENCE, {
      config,
      seed: 11,
      ids: [ids],
      targets: [ids],
      save_hf: join(hf, 'model.safetensors'),
      greedy: 8,
    });
    const sampled = run('sample', '--hf', hf, '--prompt', prompt, '--tokens', '8', '--temperature', '0');
    expect(sampled.status, sampled.stderr).toBe(0);
    expect(sampled.stdout).toBe(`${prompt}${tokenizer.decode(reference.greedy)}\n`);
    expect(run('inspect', '--hf', hf).stdout).toMatch(/Hugging Face model .*hf-gpt2, step 0/);
    expect(run('sample', '--hf', hf, '--checkpoint', out).stderr).toMatch(/give either --checkpoint DIR or --hf DIR/);
  });

  it('answers bad flags and files with one line and a non-zero exit', () => {
    const cases: [string[], RegExp][] = [
      [['train', '--data', join(dir, 'missing.txt'), '--out', join(dir, 'x')], /^minigpt: no such file or directory: .*missing.txt$/],
      [
        ['train', '--steps', 'many', '--out', join(dir, 'x')],
        /^minigpt: option '--steps <n>' argument 'many' is invalid. --steps must be an integer >= 1 in decimal digits, got "many" \(see --help\)$/,
      ],
      [
        ['train', '--preset', 'huge', '--out', join(dir, 'x')],
        /^minigpt: option '--preset <name>' argument 'huge' is invalid. Allowed choices are names, baby, gpt2-small. \(see --help\)$/,
      ],
      [['train', '--preset', 'baby', '--out', join(dir, 'x')], /^minigpt: --data FILE\|DIR is required for the baby preset/],
      [['sample', '--checkpoint', join(dir, 'nowhere')], /^minigpt: .*nowhere is not a checkpoint directory: model.safetensors is missing$/],
      [['frobnicate'], /^minigpt: unknown command 'frobnicate' \(see --help\)$/],
      [['sample', '--checkpoint', out, '--top-p', '3'], /top-p must be in \(0, 1\], got "3"/],
    ];
    for (const [args, message] of cases) {
      const result = run(...args);
      expect(result.status, args.join(' ')).not.toBe(0);
      expect(result.stderr.trim(), args.join(' ')).toMatch(message);
    }
  });

  it('never saves a diverging run: the last finite checkpoint stays, and the message says which step it holds', () => {
    const target = join(dir, 'diverging');
    const result = run('train', '--steps', '60', '--lr', '1000', '--eval-interval', '1', '--samples', '0', '--out', target);
    expect(result.status).toBe(1);
    const said = /^minigpt: the loss became non-finite at step (\d+); (.*)$/.exec(result.stderr.trim());
    expect(said, result.stderr).not.toBeNull();
    // Seeded, this run's weights overflow around step 20: evaluations before that were finite and saved.
    const kept = /holds step (\d+), the last with finite weights/.exec(said![2]!);
    expect(kept, said![2]).not.toBeNull();
    expect(Number(kept![1])).toBeLessThan(Number(said![1]));
    expect(run('inspect', '--checkpoint', target).stdout).toMatch(new RegExp(`step ${kept![1]}\\b`));
    const data = join(dir, 'few-names.txt');
    writeFileSync(data, 'anna\nbob\ncarla\ndavid\n'.repeat(20));
    const evaluated = run('eval', '--checkpoint', target, '--data', data);
    expect(evaluated.stdout, evaluated.stderr).toMatch(/^loss \d+\.\d{4} /);
  });

  it('keeps the best evaluation with --keep best, and says which step and loss it holds', () => {
    const target = join(dir, 'diverging-best');
    const result = run('train', '--steps', '60', '--lr', '1000', '--eval-interval', '1', '--samples', '0', '--keep', 'best', '--json', '--out', target);
    expect(result.status).toBe(1);
    const evals = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
      .filter((event) => event.event === 'eval' && Number.isFinite(event.validationLoss));
    const best = evals.reduce((a, b) => (b.validationLoss < a.validationLoss ? b : a));
    expect(result.stderr.trim()).toMatch(new RegExp(`holds step ${best.step}, the best validation loss of this run \\(${best.validationLoss.toFixed(4)}\\)`));
    expect(run('inspect', '--checkpoint', target).stdout).toMatch(new RegExp(`step ${best.step}\\b`));
  });

  it('checks --out before training, and never lets two trainings write it', async () => {
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'x');
    const intoFile = run('train', '--steps', '5', '--out', file);
    expect(intoFile.stderr.trim()).toBe(`minigpt: ${file} is a file, not a directory`);
    expect(intoFile.stdout).toBe('');
    expect(run('train', '--steps', '5', '--out', out).stderr.trim()).toBe(
      `minigpt: ${out} already holds a checkpoint; continue it with --resume, or replace it with --force`,
    );

    const shared = join(dir, 'shared');
    const first = spawn(process.execPath, [cli, 'train', '--steps', '100000', '--samples', '0', '--json', '--out', shared]);
    await new Promise<void>((resolve) => first.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('"event":"step"') && resolve()));
    const second = run('train', '--steps', '5', '--force', '--out', shared);
    first.kill('SIGINT');
    await new Promise((resolve) => first.on('exit', resolve));
    expect(second.stderr.trim()).toMatch(new RegExp(`^minigpt: ${shared} is in use by another minigpt command \\(pid ${first.pid} on `));
  });

  it("trains and samples a corpus without a newline (the default prompt is the tokenizer's separator)", () => {
    const target = join(dir, 'one-line');
    const text = join(dir, 'one-line.txt');
    writeFileSync(text, 'the cat sat on the mat and the dog sat on the log '.repeat(30));
    const trained = run('train', '--data', text, '--steps', '2', '--samples', '2', '--out', target);
    expect(trained.status, trained.stderr).toBe(0);
    expect(trained.stdout).toMatch(/samples before training: "[a-z ]*" "[a-z ]*"/);
    const sampled = run('sample', '--checkpoint', target, '--tokens', '10');
    expect(sampled.status, sampled.stderr).toBe(0);
    expect(sampled.stdout).toMatch(/^ [a-z ]+\n$/);
  });

  it('evaluates past the training length by position bucket, with RoPE scaling applied at evaluation', () => {
    const target = join(dir, 'rope');
    expect(run('train', '--position', 'rope', '--steps', '3', '--samples', '0', '--out', target).status).toBe(0);
    const data = join(dir, 'names-eval.txt');
    writeFileSync(data, 'anna\nbob\ncarla\ndavid\nemma\nfrank\n'.repeat(40));
    const evaluate = (...extra: string[]) => {
      const result = run('eval', '--checkpoint', target, '--data', data, '--json', ...extra);
      expect(result.status, result.stderr).toBe(0);
      return JSON.parse(result.stdout) as { context: number; loss: number; buckets: { from: number; to: number; loss: number; tokens: number }[] };
    };
    const long = evaluate('--context', '64');
    expect(long.context).toBe(64);
    expect(long.buckets.map((b) => [b.from, b.to])).toEqual([
      [0, 16],
      [16, 32],
      [32, 64],
    ]);
    for (const bucket of long.buckets) expect(Number.isFinite(bucket.loss) && bucket.tokens > 0).toBe(true);
    expect(evaluate('--context', '64', '--rope-scaling', 'linear:4').loss).not.toBe(long.loss);
    const text = run('eval', '--checkpoint', target, '--data', data, '--context', '32');
    expect(text.stdout).toMatch(/^loss \d\.\d{4} {2}perplexity [\d.]+ {2}\(\d+ tokens of .*, context 32\)\n {2}positions 0-16 +loss \d\.\d{4}/);
    const learnedModel = join(dir, 'learned');
    expect(run('train', '--steps', '1', '--samples', '0', '--out', learnedModel).status).toBe(0);
    const learned = run('eval', '--checkpoint', learnedModel, '--data', data, '--context', '32');
    expect(learned.stderr.trim()).toBe(
      'minigpt: evaluate: context 32 exceeds blockSize 16; learned positions have no row past the length they were trained with (sinusoidal, rope, alibi and none can read further)',
    );
    expect(run('eval', '--checkpoint', learnedModel, '--data', data, '--rope-scaling', 'yarn:2').stderr).toMatch(
      /the model has learned positions; RoPE scaling needs rope/,
    );
  });

  it('compares an untied RoPE model under several scalings (the second freed the model it was copied from)', () => {
    const target = join(dir, 'compare-scalings');
    const args = [
      'compare',
      '--out',
      target,
      '--positions',
      'rope',
      '--tie',
      'untied',
      '--rope-scaling',
      'linear:4,yarn:4',
      '--steps',
      '10',
      '--multiples',
      '1,2',
    ];
    const result = run(...args);
    expect(result.status, result.stderr).toBe(0);
    for (const name of ['rope-untied', 'rope-untied+linear:4', 'rope-untied+yarn:4'])
      expect(result.stdout).toMatch(new RegExp(`\\| ${name.replace('+', '\\+')} +\\| +[\\d,]+ \\| +\\d\\.\\d{3} \\| +\\d\\.\\d{3} \\|`));
  });

  it('compares position encodings: a table, results.json/.csv, an SVG chart, and a rerun that resumes', () => {
    const target = join(dir, 'compare');
    const args = ['compare', '--out', target, '--positions', 'learned,rope', '--rope-scaling', 'linear:2', '--steps', '3', '--multiples', '1,2'];
    const first = run(...args);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/\| variant +\| parameters \| loss @1x \| loss @2x \|/);
    expect(first.stdout).toMatch(/\| learned-tied +\| +102,912 \| +\d\.\d{3} \| +n\/a \|/);
    const results = JSON.parse(readFileSync(join(target, 'results.json'), 'utf8'));
    expect(results.variants.map((v: { name: string }) => v.name)).toEqual(['learned-tied', 'rope-tied', 'rope-tied+linear:2']);
    expect(results.variants[1].contexts.map((c: { context: number }) => c.context)).toEqual([16, 32]);
    expect(readFileSync(join(target, 'results.csv'), 'utf8').split('\n')[0]).toBe(
      'variant,position,tied,rope_scaling,parameters,loss_1x,perplexity_1x,loss_2x,perplexity_2x',
    );
    const svg = readFileSync(join(target, 'loss-vs-position.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    for (const label of [
      'rope-tied+linear:2',
      'loss (nats per token)',
      'position in the window',
      'trained length 16',
      '<title>Loss by position for learned-tied, rope-tied, rope-tied+linear:2</title>',
      '<desc>learned-tied: 1x ',
    ])
      expect(svg).toContain(label);
    const again = run(...args);
    expect(again.stdout).toMatch(/^resuming .*: learned-tied, rope-tied, rope-tied\+linear:2 already done/);
    expect(run('compare', '--out', target, '--steps', '4').stderr).toMatch(/holds a comparison with other settings/);
  });

  it("continues an interrupted comparison where it stopped, inside a model's training too", async () => {
    const target = join(dir, 'compare-interrupted');
    const args = ['compare', '--out', target, '--positions', 'none,alibi', '--steps', '400', '--multiples', '1', '--json'];
    const child = spawn(process.execPath, [cli, ...args]);
    let stdout = '';
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk;
        if (/"variant":"alibi-tied","step":5,/.test(stdout) && !child.killed) child.kill('SIGINT');
      });
      child.on('exit', () => resolve());
    });
    expect(child.exitCode).toBe(130);
    const again = run(...args);
    expect(again.status, again.stderr).toBe(0);
    const events = again.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    // none-tied was finished; alibi-tied continues from the step it had saved, not from 0.
    expect(events.filter((e) => e.event === 'step').every((e) => e.variant === 'alibi-tied')).toBe(true);
    expect(events.find((e) => e.event === 'step').step).toBeGreaterThanOrEqual(6);
    expect(events.filter((e) => e.event === 'variant').map((e) => e.name)).toEqual(['alibi-tied']);
  });

  it('resumes on the text it was trained on, refuses flags the checkpoint fixes, and says which it applies', () => {
    const target = join(dir, 'own-data');
    const text = join(dir, 'letters.txt');
    writeFileSync(text, 'abc abd abe\nbcd bce\n'.repeat(50));
    expect(run('train', '--data', text, '--steps', '4', '--eval-interval', '2', '--samples', '0', '--out', target).status).toBe(0);
    const refused = run('train', '--resume', '--position', 'rope', '--tokenizer', 'bpe:300', '--out', target);
    expect(refused.stderr.trim()).toBe(
      `minigpt: --tokenizer, --position cannot change when resuming: the checkpoint in ${target} fixes the model, tokenizer and seed`,
    );
    // No --data: the checkpoint's own text, not the built-in names (whose letters this tokenizer lacks).
    const resumed = run('train', '--resume', '--steps', '6', '--lr', '0.001', '--samples', '0', '--json', '--out', target);
    expect(resumed.status, resumed.stderr).toBe(0);
    const messages = resumed.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
      .filter((e) => e.event === 'info')
      .map((e) => e.message);
    expect(messages).toEqual(['applying --steps 6 (was 4)', 'the learning-rate decay now ends at step 6 (was 4)', 'applying --lr 0.001 (was 0.003)']);
    expect(run('inspect', '--checkpoint', target).stdout).toMatch(/step 6/);
  });
});
