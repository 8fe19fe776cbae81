import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { expect, it } from 'vitest';
import { wasmFileNames } from './backend.js';

const require = createRequire(import.meta.url);

// Apps serve the wasm backend's binaries from `@embedlab/runtime/wasm/<name>`. They must be the
// very binaries of the installed tfjs-backend-wasm: its JS loader and its .wasm only work as a pair.
it('exports each wasm binary, identical to the installed tfjs-backend-wasm one', () => {
  const tfjsDist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  expect(wasmFileNames).toHaveLength(3);
  for (const name of wasmFileNames) {
    const exported = readFileSync(require.resolve(`@embedlab/runtime/wasm/${name}`));
    expect(exported.equals(readFileSync(join(tfjsDist, name))), name).toBe(true);
  }
});
