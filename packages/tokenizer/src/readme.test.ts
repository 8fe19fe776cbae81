import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { readmeExamples, runExample } from '../../../scripts/readme-examples.mjs';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

it('runs every README example, printing what each `console.log(...); // output` comment shows', () => {
  const examples = readmeExamples(packageDir);
  expect(examples).toHaveLength(3);
  for (const [index, code] of examples.entries()) {
    const printed = runExample(packageDir, code, index).trimEnd().split('\n');
    const promised = code.split('\n').flatMap((line) => /^\s*console\.log\(.*\); \/\/ (.*)$/.exec(line)?.[1] ?? []);
    expect(printed, code).toEqual(promised);
  }
});
