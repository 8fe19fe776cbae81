import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ready } from '@embedlab/runtime';
import { CharTokenizer } from '@embedlab/tokenizer';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { type CheckpointFiles, checkpointToFiles } from './checkpoint.js';
import { hasCheckpoint, loadCheckpoint, lockCheckpointDirectory, prepareCheckpointDirectory, saveCheckpoint } from './checkpoint-directory.js';
import { createModel } from './model.js';
import { AdamW } from './optimizer.js';

// Fault injection: a disk that fills up while the optimizer state is being written.
const disk = vi.hoisted(() => ({ fullAfterBytes: Number.POSITIVE_INFINITY, written: 0 }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const writeSync = ((fd: number, data: Uint8Array) => {
    disk.written += data.byteLength;
    if (disk.written > disk.fullAfterBytes) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    return fs.writeSync(fd, data);
  }) as typeof fs.writeSync;
  return { ...fs, default: { ...fs, writeSync }, writeSync };
});

const root = mkdtempSync(join(tmpdir(), 'embedlab-checkpoint-dir-'));
const tokenizer = CharTokenizer.fromCorpus('abcdefgh\n');
const config = {
  vocabSize: tokenizer.vocabSize,
  blockSize: 4,
  nLayer: 1,
  nHead: 2,
  nEmbd: 8,
  dropout: 0,
  bias: true,
  position: 'learned' as const,
  tieWeights: true,
  gelu: 'tanh' as const,
};

function filesAt(step: number, seed = 1): CheckpointFiles {
  const model = createModel(config, seed);
  const optimizer = new AdamW();
  const files = checkpointToFiles(model, tokenizer, { optimizer, training: { step, options: { steps: 100, batchSize: 1, learningRate: 1e-3 } } });
  model.dispose();
  optimizer.dispose();
  return files;
}

describe('checkpoint directories', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    await ready();
  });

  it('switches a complete save in atomically and keeps the files where readers expect them', () => {
    const dir = join(root, 'layout');
    saveCheckpoint(dir, filesAt(10));
    saveCheckpoint(dir, filesAt(20));
    expect(readlinkSync(join(dir, 'current'))).toBe('save-000002');
    for (const file of ['model.safetensors', 'tokenizer.json', 'optimizer.safetensors']) {
      expect(lstatSync(join(dir, file)).isSymbolicLink()).toBe(true);
      expect(existsSync(join(dir, file))).toBe(true);
    }
    // Only the current save remains.
    expect(readdirSync(dir).sort()).toEqual(['current', 'model.safetensors', 'optimizer.safetensors', 'save-000002', 'tokenizer.json']);
    const loaded = loadCheckpoint(dir, { optimizer: true });
    expect(loaded.step).toBe(20);
    loaded.model.dispose();
  });

  it('reads and then converts the flat layout of earlier versions', () => {
    const dir = join(root, 'flat');
    mkdirSync(dir);
    const files = filesAt(5);
    writeFileSync(join(dir, 'model.safetensors'), files['model.safetensors']);
    writeFileSync(join(dir, 'tokenizer.json'), files['tokenizer.json']);
    expect(loadCheckpoint(dir).step).toBe(5);
    saveCheckpoint(dir, filesAt(6));
    expect(lstatSync(join(dir, 'model.safetensors')).isSymbolicLink()).toBe(true);
    expect(loadCheckpoint(dir, { optimizer: true }).step).toBe(6);
  });

  it('keeps the previous checkpoint whole when the disk fills up mid-save, and leaves no temporaries', () => {
    const dir = join(root, 'full-disk');
    saveCheckpoint(dir, filesAt(10));
    const next = filesAt(20, 2);
    // Room for the model file, not for the optimizer state after it.
    disk.written = 0;
    disk.fullAfterBytes = next['model.safetensors'].byteLength + next['tokenizer.json'].length + 10;
    try {
      expect(() => saveCheckpoint(dir, next)).toThrow(/could not save the checkpoint in .* \(the previous one is intact\): ENOSPC/);
    } finally {
      disk.fullAfterBytes = Number.POSITIVE_INFINITY;
    }
    const loaded = loadCheckpoint(dir, { optimizer: true });
    expect(loaded.step).toBe(10);
    expect(loaded.optimizer).toBeDefined();
    expect(readdirSync(dir).filter((entry) => entry.startsWith('.staging') || entry.includes('.tmp') || entry.includes('.link'))).toEqual([]);
  });

  it('survives SIGKILL at any moment of a save: the directory always loads, model and optimizer of one step', async () => {
    const dir = join(root, 'killed');
    const script = fileURLToPath(new URL('./fixtures/save-forever.mjs', import.meta.url));
    for (let round = 0; round < 6; round++) {
      const child = spawn(process.execPath, [script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
      // Kill once it has saved a few times, at a moment that varies from round to round.
      await new Promise<void>((resolve) => {
        let saves = 0;
        child.stdout!.on('data', (chunk: Buffer) => {
          saves += chunk.toString().split('\n').filter(Boolean).length;
          if (saves >= 2 + round) setTimeout(() => child.kill('SIGKILL'), round * 7);
        });
        child.on('exit', () => resolve());
      });
      const loaded = loadCheckpoint(dir, { optimizer: true });
      expect(loaded.training!.step).toBe(loaded.step);
      loaded.model.dispose();
    }
    // The next save cleans what the killed ones left.
    saveCheckpoint(dir, filesAt(1000));
    expect(readdirSync(dir).filter((entry) => entry.startsWith('.staging') || /^save-/.test(entry))).toHaveLength(1);
  });

  it('lets one training at a time write a directory, and names the holder', () => {
    const dir = join(root, 'locked');
    mkdirSync(dir);
    const lock = lockCheckpointDirectory(dir);
    expect(() => lockCheckpointDirectory(dir)).toThrow(new RegExp(`in use by another training \\(pid ${process.pid} on .* since \\d{4}-`));
    lock.release();
    lockCheckpointDirectory(dir).release();
    // A lock left by a process that is gone is taken over.
    writeFileSync(join(dir, '.lock'), JSON.stringify({ pid: 2 ** 22 + 17, host: hostname(), since: 'then' }));
    lockCheckpointDirectory(dir).release();
  });

  it('checks --out before training: a file, an existing checkpoint without --resume or --force, nothing to resume', () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    expect(() => prepareCheckpointDirectory(file)).toThrow(`--out ${file} is a file, not a directory`);
    const dir = join(root, 'existing');
    saveCheckpoint(dir, filesAt(3));
    expect(hasCheckpoint(dir)).toBe(true);
    expect(() => prepareCheckpointDirectory(dir)).toThrow(`${dir} already holds a checkpoint; continue it with --resume, or replace it with --force`);
    prepareCheckpointDirectory(dir, { resume: true }).release();
    prepareCheckpointDirectory(dir, { force: true }).release();
    expect(() => prepareCheckpointDirectory(join(root, 'empty'), { resume: true })).toThrow('holds no checkpoint to resume');
    // The refused attempts left no lock behind.
    expect(existsSync(join(dir, '.lock'))).toBe(false);
  });
});
