export { TokenEmbedding } from './token-embedding.js';
export type { Metric, Neighbour, Projection2d, TokenEmbeddingConfig } from './token-embedding.js';
export { GPT2_INIT, initialTable, tableFromValues } from './init.js';
export type { TableInit } from './init.js';
export { checkedIds } from './ids.js';
export type { TokenIds } from './ids.js';
