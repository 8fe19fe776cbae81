// The public API of @embedlab/mini-gpt (browser-safe; file-system helpers are in ./node).
export { countParameters, GPTConfigSchema, POSITION_KINDS, PRESETS, validateConfig } from './model/config.js';
export { type FieldProblem, OptionsError, parseWith } from './schema.js';
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
} from './model/memory-estimate.js';
export type { GPTConfig, GPTConfigInput, PositionKind, Preset, PresetName } from './model/config.js';
export { MiniGPT, createModel, effectiveConfig } from './model/model.js';
export type { ForwardOptions, KVCache, ParameterBreakdown } from './model/model.js';
export type { Block, CausalSelfAttention, MLP } from './model/block.js';
export type { ModelPositions, PassContext } from './model/block.js';
export type { LayerNorm, Linear, StateDict } from './model/layers.js';
export { createRng } from './training/rng.js';
export type { Rng } from './training/rng.js';
export { TokenDataset, type TokenReader, type TokenSequence, type Windows } from './data/data.js';
export { AdamW, AdamWOptionsSchema, clipByGlobalNorm, clipScale } from './training/optimizer.js';
export { describeTrained, TRAIN_SPEC_HELP, trainedNames, trainedSizes } from './training/trained-parameters.js';
export type { TrainSpec } from './training/trained-parameters.js';
export type { AdamWOptions } from './training/optimizer.js';
export { learningRateAt } from './training/schedule.js';
export type { ScheduleOptions } from './training/schedule.js';
export { estimateLoss, train } from './training/train.js';
export type { EvalEvent, StepEvent, TrainCallbacks, TrainResult } from './training/train.js';
export {
  type ResolvedTrainOptions,
  type TrainOptions,
  type TrainSettings,
  TrainSettingsSchema,
  validateTrainOptions,
} from './training/train-options.js';
export { fineTuneConfig, TrainingSession, sampleLines, tokenizerFor, trainingOptions } from './training/session.js';
export type {
  NewSessionOptions,
  Overrides,
  SampleOptions,
  SessionCallbacks,
  SessionResult,
  SessionStatus,
  SessionTrainOptions,
  TokenizerChoice,
} from './training/session.js';
export { connectReplicas, ReplicaPool, serveReplica } from './training/data-parallel.js';
export type { ReplicaEndpoint } from './training/data-parallel.js';
export { comparisonVariants, runComparison } from './evaluation/compare.js';
export type { ComparisonHooks, ComparisonOptions, ContextResult, EvaluatedVariant, TrainedVariant, VariantResult } from './evaluation/compare.js';
export { evaluate } from './evaluation/evaluate.js';
export { parseRopeScaling, withRopeScaling } from './evaluation/rope-scaling.js';
export type { BucketEvaluation, EvaluateOptions, Evaluation } from './evaluation/evaluate.js';
export { namesCorpus } from './data/corpus.js';
export { generate, generateText } from './sampling/generate.js';
export type { GenerateOptions } from './sampling/generate.js';
export { nextTokenProbabilities } from './sampling/sample.js';
export type { SamplingOptions } from './sampling/sample.js';
export {
  CHECKPOINT_FORMAT,
  MAX_TOKENIZER_BYTES,
  checkpointFromFiles,
  checkpointToFiles,
  modelFromSafetensors,
  modelToSafetensors,
  optimizerFromSafetensors,
  optimizerToSafetensors,
} from './io/checkpoint.js';
export { type HuggingFaceExport, type HuggingFaceExportOptions, type HuggingFaceFiles, modelToHuggingFace } from './io/huggingface-export.js';
export { type Checkpoint, type CheckpointFiles, type DataSource, DataSourceSchema, type TrainingState } from './io/checkpoint.js';
export { type HuggingFaceGPT2Config, huggingFaceConfig, loadHuggingFaceGPT2 } from './io/huggingface-import.js';
