import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { readmeOutputs } from '../../../scripts/readme-examples.mjs';

it('runs every README example, printing what each `console.log(...); // output` comment shows', { timeout: 60_000 }, () => {
  const examples = readmeOutputs(fileURLToPath(new URL('..', import.meta.url)));
  expect(examples).toHaveLength(1);
  for (const { code, printed, promised } of examples) expect(printed, code).toEqual(promised);
});
