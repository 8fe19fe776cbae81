// Runs the examples in a package README as a user would: each ```js block is written to a
// module inside the package (so its own name resolves through the exports map) and run with
// plain `node`. A block whose first line is `// not run` is skipped (shell output, sketches).
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function readmeExamples(packageDir) {
  const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
  return [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]).filter((code) => !code.startsWith('// not run'));
}

/** Runs one example and returns what it printed; throws with its stderr when it fails. */
export function runExample(packageDir, code, index = 0) {
  const file = join(packageDir, `.readme-example-${index}.mjs`);
  writeFileSync(file, code);
  try {
    return execFileSync(process.execPath, [file], { cwd: packageDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    throw new Error(`README example ${index + 1} failed:\n${code}\n${error.stderr ?? error.message}`);
  } finally {
    rmSync(file, { force: true });
  }
}

/**
 * Runs every example of a README and pairs what it printed with what it promised: each
 * top-level `console.log(...); // output` line promises one printed line equal to its comment.
 */
export function readmeOutputs(packageDir) {
  return readmeExamples(packageDir).map((code, index) => ({
    code,
    printed: runExample(packageDir, code, index).trimEnd().split('\n'),
    promised: code.split('\n').flatMap((line) => /^\s*console\.log\(.*\); \/\/ (.*)$/.exec(line)?.[1] ?? []),
  }));
}
