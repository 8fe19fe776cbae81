// The README's fine-tuning run: its commands are run as written, and what the last one prints is
// compared with the README, line by line, numbers aside (speeds vary, and the last digits of a
// loss may differ between engines).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { namesCorpus } from '@embedlab/mini-gpt';
import { describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
const section = readme.slice(readme.indexOf('#### A fine-tuning run, as it prints'));
const commands = /```sh\n([\s\S]*?)```/.exec(section)![1]!.trim().split('\n');
const printed = /```text\n([\s\S]*?)```/.exec(section)![1]!.trimEnd();
const withoutNumbers = (text: string) => text.replace(/\d+(\.\d+)?/g, '#').replace(/"[^"]*"/g, '"…"');

describe("the README's fine-tuning run", { timeout: 180_000 }, () => {
  it('prints what the README shows, and the fine-tuned samples start with "m"', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'minigpt-readme-fine-tune-'));
    const mNames = namesCorpus()
      .split('\n')
      .filter((name) => name.startsWith('m'));
    writeFileSync(join(cwd, 'm-names.txt'), `${mNames.join('\n')}\n`);
    expect(commands).toHaveLength(3);
    let last = '';
    for (const command of commands) {
      const [program, ...args] = command.split(' ');
      expect(program).toBe('minigpt');
      const result = spawnSync(process.execPath, [cli, ...args!], { cwd, encoding: 'utf8' });
      expect(result.status, `${command}\n${result.stderr}`).toBe(0);
      last = result.stdout;
    }
    expect(withoutNumbers(last.trimEnd()).split('\n')).toEqual(withoutNumbers(printed).split('\n'));
    const samples = /samples after training: (.*)/.exec(last)![1]!.match(/"[^"]*"/g)!;
    expect(samples).toHaveLength(3);
    for (const sample of samples) expect(sample.startsWith('"m')).toBe(true);
  });
});
