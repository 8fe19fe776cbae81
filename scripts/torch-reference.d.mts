export { runTorch } from '../packages/test-utils/src/torch-reference.mjs';
