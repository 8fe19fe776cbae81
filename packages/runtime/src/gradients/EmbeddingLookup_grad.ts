import { type GradConfig, reshape, scatterND, type Tensor } from '@tensorflow/tfjs-core';
import { EmbeddingLookup } from '../kernel-names.js';

// The gradient of a row lookup is a scatter-add of the upstream rows into a zero table
// (`scatterND` sums the rows of repeated ids): only the rows that were looked up get gradient.
// tfjs's own gather gradient needs `UnsortedSegmentSum`, which the wasm backend does not have.
// The ids are int32 and get no gradient.
export const embeddingLookupGradConfig: GradConfig = {
  kernelName: EmbeddingLookup,
  inputsToSave: ['table', 'ids'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
    const [table, ids] = saved as [Tensor, Tensor];
    const [vocabSize, dim] = table.shape as [number, number];
    return { table: () => scatterND(reshape(ids, [-1, 1]), reshape(dy as Tensor, [-1, dim]), [vocabSize, dim]) };
  },
};
