// Copies tfjs-backend-wasm's three binaries into dist/wasm/, which package.json exports as
// `@embedlab/runtime/wasm/<file>.wasm`: an app bundles them from the runtime (Vite:
// `import simd from '@embedlab/runtime/wasm/tfjs-backend-wasm-simd.wasm?url'`) and passes their
// URLs to `ready({ wasmPaths })`, with no dependency of its own on tfjs-backend-wasm. They are the
// binaries of the tfjs-backend-wasm this package is built and installed with, whose JS must match
// them exactly.
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const from = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
const to = resolve(dirname(fileURLToPath(import.meta.url)), '../dist/wasm');
const files = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];

mkdirSync(to, { recursive: true });
for (const file of files) copyFileSync(join(from, file), join(to, file));
console.log(
  `copy-wasm-binaries: ${files.length} files from @tensorflow/tfjs-backend-wasm ${require('@tensorflow/tfjs-backend-wasm/package.json').version} -> dist/wasm`,
);
