import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { ready } from './backend.js';
import { tf } from './tf.js';

// `sideEffects` in package.json is part of the API: a bundler drops a module that is imported
// only for its registration unless it is listed there, and tfjs's own (slower) kernel then runs
// instead, silently. This bundles a tiny app with esbuild in production mode (minified, tree
// shaken, as an app's build is), runs it in Node, and checks that every kernel the runtime
// registers for the wasm backend is registered there too: each `Embedlab…` kernel, and the
// runtime's replacements of tfjs's own (marked `overriddenBy`, src/kernels/wasm/override.ts).

const packageRoot = fileURLToPath(new URL('..', import.meta.url));
// Inside the package, so Node resolves the externals (tfjs, a peer dependency) from its node_modules.
const outDir = fileURLToPath(new URL('../node_modules/.cache/bundle-test/', import.meta.url));

type Config = tf.KernelConfig & { overriddenBy?: string };
/** The wasm kernels this runtime registered: its own names, and the tfjs kernels it replaced (run here, and as source inside the bundle). */
const runtimeKernels = (t: { getKernelsForBackend(b: string): Config[] }): string[] =>
  t
    .getKernelsForBackend('wasm')
    .filter((c) => c.kernelName.startsWith('Embedlab') || c.overriddenBy === '@embedlab/runtime')
    .map((c) => c.kernelName)
    .sort();

describe('the production bundle', { timeout: 120_000 }, () => {
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('registers every kernel of the runtime for the wasm backend', async () => {
    await ready({ backend: 'wasm' });
    const expected = runtimeKernels(tf);
    expect(expected).toEqual(expect.arrayContaining(['EmbedlabMatMul', 'Identity', 'Transpose']));

    mkdirSync(outDir, { recursive: true });
    const outfile = `${outDir}app.mjs`;
    await build({
      stdin: {
        contents: `import { ready, tf } from './dist/index.js';
await ready();
console.log(JSON.stringify((${runtimeKernels.toString()})(tf)));`,
        resolveDir: packageRoot,
        loader: 'js',
      },
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'node',
      // tfjs stays a package the app installs (a peer dependency; its wasm files are found beside it).
      external: ['@tensorflow/*'],
      define: { 'process.env.NODE_ENV': '"production"' },
      outfile,
      logLevel: 'silent',
    });
    const out = execFileSync(process.execPath, [outfile], { cwd: packageRoot, encoding: 'utf8' });
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual(expected);
  });
});
