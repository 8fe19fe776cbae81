// Moved to @embedlab/test-utils. Kept only for packages/mini-gpt/src/cli.test.ts until it imports
// `runTorch` from '@embedlab/test-utils'; delete this file and its .d.mts then.
export { runTorch } from '../packages/test-utils/src/torch-reference.mjs';
