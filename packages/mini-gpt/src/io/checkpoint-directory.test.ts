import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ready } from '@embedlab/runtime';
import { CharTokenizer } from '@embedlab/tokenizer';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { type CheckpointFiles, checkpointToFiles } from './checkpoint.js';
import { hasCheckpoint, loadCheckpoint, prepareCheckpointDirectory, saveCheckpoint } from './checkpoint-directory.js';
import { createModel } from '../model/model.js';
import { AdamW } from '../training/optimizer.js';

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
    expect(readdirSync(dir).sort()).toEqual(['.minigpt-record.json', 'current', 'model.safetensors', 'optimizer.safetensors', 'save-000002', 'tokenizer.json']);
    const loaded = loadCheckpoint(dir, { optimizer: true });
    expect(loaded.step).toBe(20);
    loaded.model.dispose();
  });

  it('reads the flat layout (earlier versions, PyTorch, the playground) and never writes over it', () => {
    const dir = join(root, 'flat');
    mkdirSync(dir);
    const files = filesAt(5);
    writeFileSync(join(dir, 'model.safetensors'), files['model.safetensors']);
    writeFileSync(join(dir, 'tokenizer.json'), files['tokenizer.json']);
    expect(loadCheckpoint(dir).step).toBe(5);
    expect(() => saveCheckpoint(dir, filesAt(6))).toThrow(`${dir} holds model.safetensors (and 1 more), which minigpt did not write there`);
    expect(() => prepareCheckpointDirectory(dir, { resume: true })).toThrow('it holds a checkpoint that minigpt train did not record');
    expect(readdirSync(dir).sort()).toEqual(['model.safetensors', 'tokenizer.json']);
    expect(lstatSync(join(dir, 'model.safetensors')).isFile()).toBe(true);
    expect(loadCheckpoint(dir).step).toBe(5);
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
    const script = fileURLToPath(new URL('../fixtures/save-forever.mjs', import.meta.url));
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
    const lock = prepareCheckpointDirectory(dir);
    expect(() => prepareCheckpointDirectory(dir)).toThrow(new RegExp(`in use by another minigpt command \\(pid ${process.pid} on .* since \\d{4}-`));
    lock.release();
    prepareCheckpointDirectory(dir).release();
    // A lock left by a process that is gone is taken over.
    writeFileSync(join(dir, '.lock'), JSON.stringify({ pid: 2 ** 22 + 17, host: hostname(), since: 'then' }));
    prepareCheckpointDirectory(dir).release();
    // So is one left empty by a process killed between creating and writing it (after a second).
    writeFileSync(join(dir, '.lock'), '');
    prepareCheckpointDirectory(dir).release();
  });

  it('checks --out before training: a file, an existing checkpoint without --resume or --force, nothing to resume', () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    expect(() => prepareCheckpointDirectory(file)).toThrow(`${file} is a file, not a directory`);
    const dir = join(root, 'existing');
    saveCheckpoint(dir, filesAt(3));
    expect(hasCheckpoint(dir)).toBe(true);
    expect(() => prepareCheckpointDirectory(dir)).toThrow(
      `${dir} already holds a checkpoint; continue it with \`resume: true\`, or replace it with \`force: true\``,
    );
    prepareCheckpointDirectory(dir, { resume: true }).release();
    prepareCheckpointDirectory(dir, { force: true }).release();
    expect(() => prepareCheckpointDirectory(join(root, 'empty'), { resume: true })).toThrow('holds no checkpoint to resume');
    // The refused attempts left no lock behind, and no claim on the directory that did not exist.
    expect(existsSync(join(dir, '.lock'))).toBe(false);
    expect(existsSync(join(root, 'empty'))).toBe(false);
  });

  it('removes only what it recorded: leftovers of a crashed save, never look-alikes of the user', () => {
    const dir = join(root, 'look-alikes');
    saveCheckpoint(dir, filesAt(1));
    const mine = ['save-000099.tmp-1', 'notes.link-7', '.staging-2', 'save-x'];
    for (const name of mine) writeFileSync(join(dir, name), name);
    mkdirSync(join(dir, 'save-000001-backup'));
    saveCheckpoint(dir, filesAt(2));
    saveCheckpoint(dir, filesAt(3));
    for (const name of mine) expect(readFileSync(join(dir, name), 'utf8')).toBe(name);
    expect(existsSync(join(dir, 'save-000001-backup'))).toBe(true);
    expect(readdirSync(dir).filter((entry) => /^save-\d+$/.test(entry))).toEqual(['save-000003']);
    expect(() => prepareCheckpointDirectory(dir, { force: true })).toThrow(`${dir} holds .staging-2 (and 4 more), which minigpt did not write there`);
  });
});
