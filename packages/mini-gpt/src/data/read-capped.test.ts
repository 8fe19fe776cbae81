// Files read whole are refused before they are opened when they are not regular files or pass
// their cap: a hostile or mistaken file costs a message, not gigabytes or a hang.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, ftruncateSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ready } from '@embedlab/runtime';
import { CharTokenizer } from '@embedlab/tokenizer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointToFiles } from '../io/checkpoint.js';
import { PRESETS } from '../model/config.js';
import { loadCheckpoint } from '../io/checkpoint-directory.js';
import { createModel } from '../model/model.js';
import { loadHuggingFaceDirectory } from '../io/huggingface-directory.js';
import { tokenizerFromSpec } from './tokenizer-spec.js';

const root = mkdtempSync(join(tmpdir(), 'read-capped-'));
let count = 0;
const scratch = () => {
  const dir = join(root, `d-${count++}`);
  mkdirSync(dir);
  return dir;
};

/** A file of `bytes` bytes that takes no space (a sparse file of zeros). */
function sparse(path: string, bytes: number): void {
  const fd = openSync(path, 'w');
  ftruncateSync(fd, bytes);
  closeSync(fd);
}

const OVER = 65 * 2 ** 20;
const tooBig = (path: string) => `${path} is ${OVER} bytes, more than the 64 MiB a tokenizer file may have`;

beforeAll(async () => {
  await ready();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('files read whole', () => {
  it("refuses a checkpoint's tokenizer.json past 64 MiB, or not a regular file, before reading it", () => {
    const model = createModel({ ...PRESETS.names.model, vocabSize: 5 }, 1);
    const files = checkpointToFiles(model, CharTokenizer.fromCorpus('abcd\n'));
    model.dispose();
    const dir = scratch();
    writeFileSync(join(dir, 'model.safetensors'), files['model.safetensors']);
    sparse(join(dir, 'tokenizer.json'), OVER);
    expect(() => loadCheckpoint(dir)).toThrow(tooBig(join(dir, 'tokenizer.json')));
    rmSync(join(dir, 'tokenizer.json'));
    execFileSync('mkfifo', [join(dir, 'tokenizer.json')]);
    expect(() => loadCheckpoint(dir)).toThrow(`${join(dir, 'tokenizer.json')} is not a regular file`);
  });

  it('caps every file of a Hugging Face directory it reads whole', () => {
    const dir = scratch();
    writeFileSync(join(dir, 'model.safetensors'), '');
    sparse(join(dir, 'config.json'), 2 * 2 ** 20);
    expect(() => loadHuggingFaceDirectory(dir)).toThrow(`${join(dir, 'config.json')} is 2097152 bytes, more than the 1 MiB a config.json may have`);
    writeFileSync(join(dir, 'config.json'), '{}');
    sparse(join(dir, 'vocab.json'), OVER);
    writeFileSync(join(dir, 'merges.txt'), '');
    expect(() => loadHuggingFaceDirectory(dir)).toThrow(tooBig(join(dir, 'vocab.json')));
    execFileSync('mkfifo', [join(dir, 'tokenizer.json')]);
    expect(() => loadHuggingFaceDirectory(dir)).toThrow(`${join(dir, 'tokenizer.json')} is not a regular file`);
  });

  it('reads --tokenizer gpt2:FILE as a tokenizer file, not a corpus', () => {
    expect(() => tokenizerFromSpec('gpt2:/dev/zero', '')).toThrow(/^\/dev\/zero is not a regular file$/);
    const big = join(scratch(), 'big.tiktoken');
    sparse(big, OVER);
    expect(() => tokenizerFromSpec(`gpt2:${big}`, '')).toThrow(tooBig(big));
    expect(() => tokenizerFromSpec(`gpt2:${join(root, 'missing.tiktoken')}`, '')).toThrow(`no such file or directory: ${join(root, 'missing.tiktoken')}`);
  });
});
