export { EmbeddingHead, parameterSavings } from './embedding-head.js';
export type { EmbeddingHeadConfig } from './embedding-head.js';
