// The public API of @embedlab/mini-gpt (browser-safe; file-system helpers are in ./node).
export { countParameters, PRESETS, validateConfig } from './config.js';
export {
  checkMemory,
  describeMemory,
  estimateMemory,
  formatBytes,
  type MemoryEstimate,
  type MemoryParts,
  type MemoryRun,
  WASM_HEAP_BUDGET,
  WASM_HEAP_LIMIT,
} from './memory-estimate.js';
export type { GPTConfig, PositionKind, Preset, PresetName } from './config.js';
export { MiniGPT, createModel, effectiveConfig } from './model.js';
export type { ForwardOptions, KVCache, ParameterBreakdown } from './model.js';
export type { Block, CausalSelfAttention, MLP } from './block.js';
export type { ModelPositions, PassContext } from './block.js';
export type { LayerNorm, Linear, StateDict } from './layers.js';
export { createRng } from './rng.js';
export type { Rng } from './rng.js';
export { TokenDataset, type TokenReader, type TokenSequence, type Windows } from './data.js';
export { AdamW, clipByGlobalNorm } from './optimizer.js';
export type { AdamWOptions } from './optimizer.js';
export { learningRateAt } from './schedule.js';
export type { ScheduleOptions } from './schedule.js';
export { estimateLoss, train } from './train.js';
export type { EvalEvent, StepEvent, TrainCallbacks, TrainOptions, TrainResult } from './train.js';
export { type ResolvedTrainOptions, validateTrainOptions, withTrainDefaults } from './train-options.js';
export { TrainingSession, sampleLines, tokenizerFor, trainingOptions } from './session.js';
export type {
  NewSessionOptions,
  Overrides,
  SampleOptions,
  SessionCallbacks,
  SessionResult,
  SessionStatus,
  SessionTrainOptions,
  TokenizerChoice,
} from './session.js';
export { connectReplicas, ReplicaPool, serveReplica } from './data-parallel.js';
export type { ReplicaEndpoint } from './data-parallel.js';
export { comparisonVariants, runComparison } from './compare.js';
export type { ComparisonHooks, ComparisonOptions, ContextResult, EvaluatedVariant, TrainedVariant, VariantResult } from './compare.js';
export { evaluate, parseRopeScaling, withRopeScaling } from './evaluate.js';
export type { BucketEvaluation, EvaluateOptions, Evaluation } from './evaluate.js';
export { namesCorpus } from './corpus.js';
export { generate, generateText } from './generate.js';
export type { GenerateOptions } from './generate.js';
export { nextTokenProbabilities } from './sample.js';
export type { SamplingOptions } from './sample.js';
export {
  CHECKPOINT_FORMAT,
  MAX_TOKENIZER_BYTES,
  checkpointFromFiles,
  checkpointToFiles,
  loadHuggingFaceGPT2,
  modelFromSafetensors,
  modelToSafetensors,
  optimizerFromSafetensors,
  optimizerToSafetensors,
} from './checkpoint.js';
export { type HuggingFaceExport, type HuggingFaceExportOptions, type HuggingFaceFiles, modelToHuggingFace } from './huggingface-export.js';
export type { Checkpoint, CheckpointFiles, DataSource, HuggingFaceGPT2Config, TrainingState } from './checkpoint.js';
