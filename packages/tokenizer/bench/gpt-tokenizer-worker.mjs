// Encodes one text with gpt-tokenizer in a worker thread, so that encode.bench.mjs can stop it
// when it runs past its time limit (its merge is quadratic on long pieces).
import { parentPort, workerData } from 'node:worker_threads';
import { encode } from 'gpt-tokenizer/encoding/r50k_base';

const start = performance.now();
const ids = Int32Array.from(encode(workerData.text));
parentPort.postMessage({ ms: performance.now() - start, ids }, [ids.buffer]);
