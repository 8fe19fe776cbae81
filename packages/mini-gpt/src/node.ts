// The Node-only API (file system, worker threads), exported as `@embedlab/mini-gpt/node` so the main entry stays browser-safe.
export {
  type CheckpointLock,
  hasCheckpoint,
  readCheckpointConfig,
  loadCheckpoint,
  prepareCheckpointDirectory,
  readCheckpointFiles,
  saveCheckpoint,
} from './io/checkpoint-directory.js';
export { checkOutputDirectory, type OutputRules } from './io/output-directory.js';
export { claimDirectory, type DirectoryLock, type OutputKind, OwnedDirectory, RECORD_FILE } from './io/owned-directory.js';
export { type PrepareOptions, type PrepareProgress, prepareTokenDirectory } from './data/prepare.js';
export {
  isTokenDirectory,
  openTokenDirectory,
  TOKEN_DIRECTORY_FORMAT,
  type TokenDirectory,
  type TokenDirectoryMeta,
  type TokenDtype,
  TokenFile,
  type TokenSplitMeta,
  tokenDtype,
} from './data/token-directory.js';
export { MAX_CORPUS_BYTES, readCorpus } from './data/read-corpus.js';
export { tokenizerFromSpec } from './data/tokenizer-spec.js';
export { loadHuggingFaceDirectory, saveHuggingFaceDirectory } from './io/huggingface-directory.js';
export { stopOnSignals } from './training/signals.js';
export { availableWorkers, startWorkers } from './training/workers.js';
