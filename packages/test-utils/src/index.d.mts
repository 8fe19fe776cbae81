export { type CloseOptions, expectClose, maxDifference, maxRelativeDifference, type TensorLike } from './close.mjs';
export { readmeExamples, readmeOutputs, runExample } from './readme-examples.mjs';
export { CHROMIUM_ARGS, chromiumLaunchOptions, chromiumPath, pythonPath } from './system.mjs';
export { median, medianMs, timeRuns, timeRunsSync } from './timing.mjs';
export { NANOGPT_REFERENCE, runTorch } from './torch-reference.mjs';
export { tinyGPTConfig } from './gpt-config.mjs';
