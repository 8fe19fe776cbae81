// The entry of a `prepareTokenDirectory` thread: encodes the pieces of text it is sent.
import { parentPort, workerData } from 'node:worker_threads';
import { tokenizerFromJSON } from '@embedlab/tokenizer';
import { tokenDtype } from './token-directory.js';

const port = parentPort!;
const tokenizer = tokenizerFromJSON((workerData as { tokenizer: string }).tokenizer);
const Ids = tokenDtype(tokenizer.vocabSize) === 'uint16' ? Uint16Array : Uint32Array;
port.on('message', ({ id, text }: { id: number; text: string }) => {
  try {
    const ids = Ids.from(tokenizer.encode(text, { disallowedSpecial: [] }));
    port.postMessage({ id, ids }, [ids.buffer]);
  } catch (error) {
    port.postMessage({ id, error: (error as Error).message });
  }
});
