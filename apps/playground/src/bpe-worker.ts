// A run's BPE tokenizer, learned and applied to the corpus in a worker of its own: on a corpus of
// megabytes this takes seconds, and the training worker stays free to report it and to end this
// worker at once when the run is stopped.
import { trainBpe } from '@embedlab/tokenizer';
import { encodeInSlices } from './encode.js';
import type { BpeRequest, FromBpeWorker } from './protocol.js';
import { characters, plural } from './ui.js';

const post = (message: FromBpeWorker, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(message, transfer);

self.onmessage = async ({ data: { corpus, vocabSize } }: MessageEvent<BpeRequest>) => {
  try {
    post({ type: 'progress', text: `the BPE tokenizer counts the words of ${plural(characters(corpus), 'character')}` });
    const tokenizer = trainBpe(corpus, {
      vocabSize,
      progressEvery: 8,
      onProgress: ({ merges, targetMerges }) => post({ type: 'progress', text: `the BPE tokenizer learns merge ${merges} of ${targetMerges}` }),
    });
    let reported = -1;
    const ids = await encodeInSlices(tokenizer, corpus, (done) => {
      const percent = Math.floor((100 * done) / corpus.length);
      if (percent !== reported) post({ type: 'progress', text: `the BPE tokenizer encodes the corpus: ${percent}%` });
      reported = percent;
      return true;
    });
    const tokens = Int32Array.from(ids!);
    post({ type: 'done', tokenizer: tokenizer.toJSON(), tokens }, [tokens.buffer]);
  } catch (error) {
    post({ type: 'error', message: (error as Error).message });
  }
};
