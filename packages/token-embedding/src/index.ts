export { TokenEmbedding } from './token-embedding.js';
export type { Metric, Neighbour, Projection2d, TokenEmbeddingConfig } from './token-embedding.js';
// The types in TokenEmbedding's signatures (`init`, `apply(ids)`), defined in @embedlab/runtime.
export type { TableInit, TokenIds } from '@embedlab/runtime';
