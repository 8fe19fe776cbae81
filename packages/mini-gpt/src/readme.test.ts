import { fileURLToPath } from 'node:url';
import { readmeOutputs } from '@embedlab/test-utils';
import { expect, it } from 'vitest';

it('runs every README example, printing what each `console.log(...); // output` comment shows', { timeout: 60_000 }, () => {
  const examples = readmeOutputs(fileURLToPath(new URL('..', import.meta.url)));
  expect(examples).toHaveLength(3);
  for (const { code, printed, promised } of examples) expect(printed, code).toEqual(promised);
});
