import { fileURLToPath } from 'node:url';
import { readmeExamples, runExample } from '@embedlab/test-utils';
import { expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

it('runs the README example: wasm with SIMD, and the loss falls', { timeout: 60_000 }, () => {
  const [example] = readmeExamples(packageDir);
  const out = runExample(packageDir, example!);
  expect(out).toContain("backend: 'wasm'");
  const losses = [...out.matchAll(/loss (\d+\.\d+)/g)].map((m) => Number(m[1]));
  expect(losses).toHaveLength(2);
  expect(losses[1]!).toBeLessThan(losses[0]! / 2);
});
