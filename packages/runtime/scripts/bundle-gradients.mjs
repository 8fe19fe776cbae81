// Bundles tfjs-core's gradient registrations into src/generated/ so that gradients
// exist wherever the runtime is imported (Node ESM, bundlers, vitest).
//
// Why: in Node, `@tensorflow/tfjs-core` resolves to its CJS bundle, which registers no
// gradients, and `dist/register_all_gradients.js` is extensionless ESM that Node cannot
// load. We compile that file ourselves, rewriting every import of a tfjs-core internal
// module to the package's public entry, so the gradients bind to the one installed
// tfjs-core (its engine and registries) instead of a private copy.
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const coreDist = dirname(require.resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js'));
const tf = require('@tensorflow/tfjs-core');
// Written to src/ for tests and typechecking, and to dist/ beside the compiled sources.
const outFiles = ['../src/generated/register-gradients.js', '../dist/generated/register-gradients.js'].map((p) => resolve(here, p));

// Names the gradient files import from internal modules that the public entry exposes
// under a namespace (or, for ENGINE, through a function).
const viaNamespace = new Map();
for (const ns of ['backend_util', 'util', 'slice_util']) {
  for (const name of Object.keys(tf[ns])) if (!viaNamespace.has(name)) viaNamespace.set(name, ns);
}
// Namespace imports of internal helper modules map onto the public namespaces that re-export them.
const namespaceModules = { util: 'util', broadcast_util: 'backend_util', axis_util: 'backend_util', conv_util: 'backend_util', slice_util: 'slice_util' };
const SHIM = 'embedlab:tfjs-core-public';
// Internals the shim provides itself. The backprop op wrappers only ever receive tensors
// from gradient functions, so convertToTensor reduces to the identity there.
const shimOnly = new Map([
  ['ENGINE', 'export const ENGINE = tf.engine();'],
  ['convertToTensor', 'export const convertToTensor = (x) => (x instanceof tf.Tensor ? x : tf.tensor(x));'],
]);

function rewriteImports(source, file) {
  return source.replace(/^import (.+?) from '(\.{1,2}\/[^']+)';$/gm, (statement, clause, spec) => {
    const namespace = /^\* as (\w+)$/.exec(clause);
    if (namespace) {
      const moduleName = spec.split('/').pop();
      const publicNs = namespaceModules[moduleName];
      if (!publicNs) throw new Error(`${file}: no public namespace for "${statement}"`);
      return `import { ${publicNs} as ${namespace[1]} } from '@tensorflow/tfjs-core';`;
    }
    const names = clause
      .replace(/[{}]/g, '')
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean);
    const resolvable = names.every((n) => {
      const imported = n.split(' as ')[0].trim();
      return imported in tf || viaNamespace.has(imported) || shimOnly.has(imported);
    });
    // Internal modules with no public equivalent (conv/pool backprop ops) are bundled as they are,
    // after this same rewrite; the build fails below if that would pull in tfjs-core's core modules.
    return resolvable ? `import { ${names.join(', ')} } from '${SHIM}';` : statement;
  });
}

const shimSource = () => {
  const lines = [`import * as tf from '@tensorflow/tfjs-core';`, `export * from '@tensorflow/tfjs-core';`, ...shimOnly.values()];
  for (const [name, ns] of viaNamespace) if (!(name in tf)) lines.push(`export const ${name} = tf.${ns}.${name};`);
  return lines.join('\n');
};

const result = await build({
  entryPoints: [join(coreDist, 'register_all_gradients.js')],
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2020',
  external: ['@tensorflow/tfjs-core'],
  metafile: true,
  write: false,
  legalComments: 'none',
  plugins: [
    {
      name: 'tfjs-core-public-imports',
      setup(b) {
        b.onResolve({ filter: /^\.{1,2}\// }, (args) => {
          const path = resolve(args.resolveDir, args.path);
          return { path: path.endsWith('.js') ? path : `${path}.js` };
        });
        b.onResolve({ filter: new RegExp(`^${SHIM}$`) }, () => ({ path: SHIM, namespace: 'shim' }));
        b.onLoad({ filter: /.*/, namespace: 'shim' }, () => ({ contents: shimSource(), loader: 'js', resolveDir: coreDist }));
        b.onLoad({ filter: /\.js$/ }, (args) => ({ contents: rewriteImports(readFileSync(args.path, 'utf8'), args.path), loader: 'js' }));
      },
    },
  ],
});

// Guard: only gradient files and small op wrappers may be inlined; a copy of the engine,
// tensor or registry modules would mean a second tfjs-core.
const inlined = Object.keys(result.metafile.inputs)
  .filter((p) => p !== SHIM && !p.startsWith('shim:'))
  .map((p) => relative(coreDist, resolve(p)));
const forbidden = inlined.filter((p) => !/^(register_all_gradients|gradients\/\w+|ops\/\w+(_grad|_backprop\w*|_backprop_(filter|input)))\.js$/.test(p));
if (forbidden.length > 0) throw new Error(`bundle-gradients: would inline tfjs-core internals: ${forbidden.join(', ')}`);

for (const outFile of outFiles) {
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(
    outFile,
    `// Generated by scripts/bundle-gradients.mjs from @tensorflow/tfjs-core ${tf.version_core} (Apache-2.0). Do not edit.\n${result.outputFiles[0].text}`,
  );
  writeFileSync(outFile.replace(/\.js$/, '.d.ts'), 'export {};\n');
}
console.log(`bundle-gradients: ${inlined.length} tfjs-core modules -> src/generated and dist/generated`);
