// Flags and messages a user meets first: a flag given twice, contradictory flags, numbers that are
// not decimal, a tokenizer file that is a device, a prompt the vocabulary cannot spell, and a run
// resumed on a text that was edited.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'minigpt-flags-'));
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('minigpt flags and messages', { timeout: 180_000 }, () => {
  it('refuses a flag given twice, both forms of a boolean, --force with --resume, and numbers not written in decimal', () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    const cases: [string[], string][] = [
      [['train', '--out', a, '--out', b], '--out is given twice; give it once'],
      [['train', '--steps', '5', '--steps', '6', '--out', a], '--steps is given twice; give it once'],
      [['train', '--bias', '--no-bias', '--out', a], '--bias and --no-bias contradict each other; give one'],
      [['sample', '--checkpoint', a, '--checkpoint', b], '--checkpoint is given twice; give it once'],
      [['train', '--force', '--resume', '--out', a], "option '--force' cannot be used with option '--resume'"],
      [['train', '--steps', '0x10', '--out', a], '--steps must be an integer >= 1 in decimal digits, got "0x10"'],
      [['compare', '--multiples', '1,0x2', '--out', a], '--multiples must be positive integers in decimal digits separated by commas, got "1,0x2"'],
      [['train', '--steps', '0b11', '--out', a], '--steps must be an integer >= 1 in decimal digits, got "0b11"'],
      [['train', '--steps', '1e3', '--out', a], '--steps must be an integer >= 1 in decimal digits, got "1e3"'],
      [['train', '--steps', ' 5', '--out', a], '--steps must be an integer >= 1 in decimal digits, got " 5"'],
      [['train', '--seed', '', '--out', a], '--seed must be an integer >= 0 in decimal digits, got ""'],
      [['train', '--lr', '0x1', '--out', a], '--lr must be a positive number in decimal notation, got "0x1"'],
      [['train', '--dropout', '', '--out', a], '--dropout must be a number in decimal notation, got ""'],
      [['train', '--embedding-scale', '0o7', '--out', a], '--embedding-scale must be none, sqrt-dim or a number in decimal notation, got "0o7"'],
      [['sample', '--checkpoint', a, '--temperature', 'Infinity'], '--temperature must be a number >= 0 in decimal notation, got "Infinity"'],
    ];
    for (const [args, message] of cases) {
      const result = run(...args);
      expect(result.status, args.join(' ')).not.toBe(0);
      // One line; commander says which argument before a parser's message.
      expect(result.stderr.trim(), args.join(' ')).toMatch(/^minigpt: [^\n]+ \(see --help\)$/);
      expect(result.stderr, args.join(' ')).toContain(`${message} (see --help)`);
    }
    expect(existsSync(a) || existsSync(b)).toBe(false);
    // Decimal notation is fine where a number (not an integer) is asked for.
    const dry = run('train', '--dry-run', '--lr', '3e-4', '--dropout', '.1', '--steps', '007');
    expect(dry.status, dry.stderr).toBe(0);
  });

  it('says the tokenizer file is not a regular file; checks a prompt before printing it; refuses to resume on edited text', () => {
    const text = join(dir, 'letters.txt');
    writeFileSync(text, 'the cat sat on the mat\nthe dog sat on the log\n'.repeat(40));
    const device = run('train', '--data', text, '--tokenizer', 'gpt2:/dev/zero', '--out', join(dir, 'zero'));
    expect(device.stderr.trim()).toBe('minigpt: /dev/zero is not a regular file');

    const checkpoint = join(dir, 'letters');
    const trained = run('train', '--data', text, '--steps', '2', '--eval-interval', '2', '--samples', '0', '--out', checkpoint);
    expect(trained.status, trained.stderr).toBe(0);
    const sampled = run('sample', '--checkpoint', checkpoint, '--prompt', 'the CAT', '--tokens', '3');
    expect(sampled.stdout).toBe('');
    expect(sampled.stderr.trim()).toMatch(/^minigpt: --prompt: character "C" \(U\+0043\) at position 4 is not in the vocabulary of \d+ characters$/);

    appendFileSync(text, 'the cat ate\n');
    const resumed = run('train', '--resume', '--steps', '4', '--samples', '0', '--out', checkpoint);
    expect(resumed.status).toBe(1);
    expect(resumed.stderr.trim()).toMatch(
      new RegExp(`^minigpt: ${text.replace(/[.]/g, '\\.')} changed since this run started \\(SHA-256 \\w{12}… then, \\w{12}… now\\): .*start a new run on it$`),
    );
  });
});
