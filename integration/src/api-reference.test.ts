import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('generates the API reference from the TSDoc comments without warnings', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const result = spawnSync('pnpm', ['exec', 'typedoc', '--emit', 'none', '--treatWarningsAsErrors'], { cwd: root, encoding: 'utf8' });
  expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
  expect(result.stdout).not.toMatch(/warning|error/i);
});
