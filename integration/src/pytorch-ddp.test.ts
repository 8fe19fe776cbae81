// The documented way out and back (integration/python/README.md): a checkpoint trained here and
// its text made into token files by minigpt prepare continue in PyTorch on two
// DistributedDataParallel processes, come back as a directory minigpt loads, and minigpt eval of
// the token directory agrees with the loss PyTorch printed. Needs a Python with torch
// (scripts/setup-system.sh installs Debian's python3-torch); skipped, saying so, without one.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkpointToFiles, createModel, type GPTConfig, type MiniGPT, namesCorpus } from '@embedlab/mini-gpt';
import { loadCheckpoint, saveCheckpoint } from '@embedlab/mini-gpt/node';
import { ready } from '@embedlab/runtime';
import { expectClose, pythonPath } from '@embedlab/test-utils';
import { CharTokenizer, type Tokenizer } from '@embedlab/tokenizer';
import { beforeAll, describe, expect, it } from 'vitest';

const SCRIPTS = fileURLToPath(new URL('../python/', import.meta.url));
const NANOGPT_STAND_IN = join(SCRIPTS, 'fixtures', 'nanogpt_interface');
const MINI_GPT_README = createRequire(import.meta.url)
  .resolve('@embedlab/mini-gpt/package.json')
  .replace(/package\.json$/, 'README.md');
const CLI = createRequire(import.meta.url)
  .resolve('@embedlab/mini-gpt-cli/package.json')
  .replace(/package\.json$/, 'bin/minigpt.js');

function torchMissing(): string | undefined {
  const python = pythonPath();
  const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status === 0) return undefined;
  return `${python} cannot import torch (run scripts/setup-system.sh, or set PYTHON to a python with torch): ${(probe.error?.message ?? probe.stderr).trim().split('\n').pop()}`;
}
const missing = torchMissing();
if (missing) console.warn(`pytorch-ddp.test.ts skipped: ${missing}`);

const dir = mkdtempSync(join(tmpdir(), 'embedlab-pytorch-'));

function run(command: string, args: string[]) {
  return spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

function runAsync(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function python(script: string, args: string[]) {
  return run(pythonPath(), [join(SCRIPTS, script), ...args]);
}

interface DdpResult {
  world_size: number;
  batch_size: number;
  start_step: number;
  step: number;
  train_losses: number[];
  max_replica_difference: number;
  eval: { loss: number; tokens: number; context: number };
}

function ddpTrain(args: string[]): DdpResult {
  const result = python('ddp_train.py', args);
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as DdpResult;
}

function minigptEval(checkpoint: string, data: string): { loss: number; tokens: number } {
  const result = run(process.execPath, [CLI, 'eval', '--checkpoint', checkpoint, '--data', data, '--json']);
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout);
}

function logits(model: MiniGPT, ids: number[][]): number[] {
  return Array.from(model.forward(ids).dataSync());
}

const CORPUS = namesCorpus().slice(0, 30_000);

function saveModel(name: string, config: Omit<GPTConfig, 'vocabSize'>, tokenizer: Tokenizer, seed = 5): { path: string; model: MiniGPT } {
  const model = createModel({ ...config, vocabSize: tokenizer.vocabSize }, seed);
  const path = join(dir, name);
  saveCheckpoint(path, checkpointToFiles(model, tokenizer, { step: 3 }));
  return { path, model };
}

const SMALL = { blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0, bias: true, position: 'learned', tieWeights: true, gelu: 'tanh' } as const;

describe.skipIf(missing !== undefined)(`minigpt checkpoints in PyTorch and back${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const tokenizer = CharTokenizer.fromCorpus(CORPUS);
  const data = join(dir, 'tokens');
  const trained = join(dir, 'trained');
  let spawned: DdpResult | undefined;

  beforeAll(async () => {
    await ready();
    const corpus = join(dir, 'names.txt');
    writeFileSync(corpus, CORPUS);
    const train = run(process.execPath, [CLI, 'train', '--data', corpus, '--steps', '4', '--batch-size', '8', '--samples', '0', '--out', trained]);
    expect(train.status, train.stderr).toBe(0);
    // The same text as token files (nanoGPT's train.bin / val.bin), with the checkpoint's tokenizer.
    const prepare = run(process.execPath, [CLI, 'prepare', corpus, '--tokenizer', trained, '--out', data, '--workers', '1']);
    expect(prepare.status, prepare.stderr).toBe(0);
    // minigpt train built its tokenizer from the same text as the models made below.
    expect(JSON.parse(readFileSync(join(trained, 'tokenizer.json'), 'utf8'))).toEqual(tokenizer.toJSON());
  }, 300_000); // two CLI runs: more than a hook's default 10 s on a busy machine

  it('minigpt train → 2 DDP processes (gloo, CPU) → minigpt eval: the same loss on both sides, replicas in step', () => {
    const ddpOut = join(dir, 'ddp');
    const ddp = ddpTrain(['--checkpoint', trained, '--data', data, '--out', ddpOut, '--nproc', '2', '--steps', '4', '--batch-size', '8']);
    spawned = ddp;
    expect(ddp.world_size).toBe(2);
    expect(ddp.start_step).toBe(4);
    expect(ddp.step).toBe(8);
    expect(ddp.train_losses).toHaveLength(4);
    expect(ddp.max_replica_difference).toBe(0);
    expect(ddp.train_losses[3]!).toBeLessThan(ddp.train_losses[0]!);

    // The directory PyTorch wrote loads here, at the step it reached, and scores what PyTorch said.
    const back = loadCheckpoint(ddpOut);
    expect(back.step).toBe(8);
    const evaluated = minigptEval(ddpOut, data);
    expect(evaluated.tokens).toBe(ddp.eval.tokens);
    expect(Math.abs(evaluated.loss - ddp.eval.loss) / ddp.eval.loss).toBeLessThan(1e-4);
    // ... and the training moved it: the checkpoint it started from scores differently.
    expect(Math.abs(minigptEval(trained, data).loss - evaluated.loss)).toBeGreaterThan(1e-3);

    // Both replicas trained on their halves with averaged gradients: one process given the whole
    // batch (the same draws) takes the same steps. Rank 0's half alone would not.
    const single = ddpTrain(['--checkpoint', trained, '--data', data, '--out', join(dir, 'single'), '--nproc', '1', '--steps', '4', '--batch-size', '16']);
    const half = ddpTrain(['--checkpoint', trained, '--data', data, '--out', join(dir, 'half'), '--nproc', '1', '--steps', '4', '--batch-size', '8']);
    expect(single.world_size).toBe(1);
    expectClose(ddp.train_losses, single.train_losses, { tolerance: 1e-5 });
    const probe = [tokenizer.encode('emma\nolivia\nava')];
    const ddpLogits = logits(back.model, probe);
    expectClose(ddpLogits, logits(loadCheckpoint(join(dir, 'single')).model, probe), { tolerance: 1e-4, absolute: true });
    expect(() => expectClose(ddpLogits, logits(loadCheckpoint(join(dir, 'half')).model, probe), { tolerance: 1e-4, absolute: true })).toThrow();
    expect(Math.abs(half.train_losses[0]! - ddp.train_losses[0]!)).toBeGreaterThan(1e-4);
  });

  it('runs as the ranks RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT name (what torchrun sets)', async () => {
    const port = await freePort();
    const out = join(dir, 'env-ranks');
    const args = [join(SCRIPTS, 'ddp_train.py'), '--checkpoint', trained, '--data', data, '--out', out, '--steps', '4', '--batch-size', '8'];
    const ranks = await Promise.all(
      [0, 1].map((rank) =>
        runAsync(pythonPath(), args, { ...process.env, RANK: String(rank), WORLD_SIZE: '2', MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port) }),
      ),
    );
    for (const rank of ranks) expect(rank.status, rank.stderr).toBe(0);
    expect(ranks[1]!.stdout).toBe(''); // only rank 0 saves and reports
    const result = JSON.parse(ranks[0]!.stdout) as DdpResult;
    expect(result.world_size).toBe(2);
    expect(result.max_replica_difference).toBe(0);
    // The same processes, started another way: the same numbers as the spawned run.
    expect(result.train_losses).toEqual(spawned?.train_losses);
    expect(result.eval).toEqual(spawned?.eval);
  });

  it("reads nanoGPT's own data directories (no meta.json: uint16) and uint32 ids as meta.json declares them", () => {
    const nanogpt = join(dir, 'nanogpt-data');
    const wide = join(dir, 'uint32-data');
    mkdirSync(nanogpt);
    mkdirSync(wide);
    for (const split of ['train', 'val']) {
      const bytes = readFileSync(join(data, `${split}.bin`));
      writeFileSync(join(nanogpt, `${split}.bin`), bytes);
      writeFileSync(join(wide, `${split}.bin`), Uint32Array.from(new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2)));
    }
    const meta = JSON.parse(readFileSync(join(data, 'meta.json'), 'utf8'));
    writeFileSync(join(wide, 'meta.json'), JSON.stringify({ ...meta, dtype: 'uint32' }));
    const asMeta = ddpTrain(['--checkpoint', trained, '--data', data, '--out', join(dir, 'as-meta'), '--nproc', '1', '--steps', '0']);
    for (const other of [nanogpt, wide]) {
      const result = ddpTrain(['--checkpoint', trained, '--data', other, '--out', `${other}-out`, '--nproc', '1', '--steps', '0']);
      expect(result.eval).toEqual(asMeta.eval);
    }
    // Ids the model has no row for are refused, not wrapped or clipped.
    writeFileSync(join(nanogpt, 'train.bin'), Uint16Array.from([1, 2, 3, tokenizer.vocabSize]));
    const refused = python('ddp_train.py', ['--checkpoint', trained, '--data', nanogpt, '--out', join(dir, 'refused-ids'), '--nproc', '1']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(`train.bin: token 3 is id ${tokenizer.vocabSize}, outside the model's ${tokenizer.vocabSize} ids`);
  });

  it.each([
    ['learned positions, a tied head, tanh GELU', SMALL],
    ['RoPE, an untied head, exact GELU, no biases', { ...SMALL, position: 'rope', tieWeights: false, gelu: 'exact', bias: false }],
    ['ALiBi', { ...SMALL, position: 'alibi' }],
    ['sinusoidal positions', { ...SMALL, position: 'sinusoidal' }],
    ['no positions', { ...SMALL, position: 'none' }],
  ] as const)('a checkpoint with %s goes through PyTorch unchanged, and PyTorch scores it as minigpt eval does', (name, config) => {
    const { path, model } = saveModel(name.replace(/\W+/g, '-'), config, tokenizer);
    const out = join(dir, `${name.replace(/\W+/g, '-')}-back`);
    const result = ddpTrain(['--checkpoint', path, '--data', data, '--out', out, '--nproc', '1', '--steps', '0']);
    expect(result.step).toBe(3);
    const back = loadCheckpoint(out);
    expect(back.model.config).toEqual(model.config);
    const probe = [tokenizer.encode('sophia\nliam')];
    expect(logits(back.model, probe)).toEqual(logits(model, probe));
    const evaluated = minigptEval(out, data);
    expect(evaluated.tokens).toBe(result.eval.tokens);
    expect(Math.abs(evaluated.loss - result.eval.loss) / evaluated.loss).toBeLessThan(1e-4);
  });

  it.each([
    ['dropout', { ...SMALL, dropout: 0.1 }, /dropout is 0\.1/],
    ['embeddingScale', { ...SMALL, embeddingScale: 'sqrt-dim' }, /embeddingScale "sqrt-dim" is not modelled/],
    ['rope.layout', { ...SMALL, position: 'rope', rope: { layout: 'interleaved' } }, /rope\.layout "interleaved" is not modelled/],
  ] as const)('refuses a config it would not reproduce exactly (%s), naming the field', (name, config, message) => {
    const { path } = saveModel(`refused-${name}`, config as Omit<GPTConfig, 'vocabSize'>, tokenizer);
    const result = python('ddp_train.py', ['--checkpoint', path, '--data', data, '--out', join(dir, `refused-${name}-out`), '--nproc', '1']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('refuses token data of another tokenizer', () => {
    const { path } = saveModel('other-tokenizer', SMALL, CharTokenizer.fromCorpus(`${CORPUS}!?`));
    const result = python('ddp_train.py', ['--checkpoint', path, '--data', data, '--out', join(dir, 'other-out'), '--nproc', '1']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/tokens\/tokenizer\.json is not the tokenizer of/);
  });

  it('refuses to write over a checkpoint directory (its loader would keep reading the old save)', () => {
    const result = python('ddp_train.py', ['--checkpoint', trained, '--data', data, '--out', trained, '--nproc', '1']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`--out ${trained} already holds a checkpoint (model.safetensors, current, optimizer.safetensors)`);
  });

  it('refuses a cut-short model.safetensors, naming the tensor past its end', () => {
    const { path } = saveModel('cut-short', SMALL, tokenizer);
    const cut = join(dir, 'cut-short-copy');
    mkdirSync(cut);
    copyFileSync(join(path, 'tokenizer.json'), join(cut, 'tokenizer.json'));
    const bytes = readFileSync(join(path, 'model.safetensors'));
    writeFileSync(join(cut, 'model.safetensors'), bytes.subarray(0, bytes.length - 100));
    const result = python('ddp_train.py', ['--checkpoint', cut, '--data', data, '--out', join(dir, 'cut-short-out'), '--nproc', '1']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/model\.safetensors: [\w.]+ has data_offsets \[\d+, \d+\], past the \d+ bytes of data in the file/);
  });

  it("the README's continue-in-nanoGPT script is the tested file, loads strictly, and refuses what nanoGPT's GPT lacks", () => {
    const script = readFileSync(join(SCRIPTS, 'load_in_nanogpt.py'), 'utf8');
    expect(readFileSync(MINI_GPT_README, 'utf8')).toContain(`\`\`\`python\n${script}\`\`\``);

    const nano = { ...SMALL, gelu: 'exact' } as const;
    const { path, model } = saveModel('nano', nano, tokenizer);
    const probe = [tokenizer.encode('mia\nnoah')];
    const loaded = python('load_in_nanogpt.py', [path, '--nanogpt', NANOGPT_STAND_IN, '--ids', JSON.stringify(probe)]);
    expect(loaded.status, loaded.stderr).toBe(0);
    expectClose(JSON.parse(loaded.stdout).logits, logits(model, probe), { tolerance: 1e-5, absolute: true });

    for (const [field, config] of [
      ['position', { ...nano, position: 'rope' }],
      ['tieWeights', { ...nano, tieWeights: false }],
      ['gelu', { ...nano, gelu: 'tanh' }],
    ] as const) {
      const refused = saveModel(`nano-${field}`, config, tokenizer).path;
      const result = python('load_in_nanogpt.py', [refused, '--nanogpt', NANOGPT_STAND_IN]);
      expect(result.status, field).toBe(1);
      expect(result.stderr).toContain(`${field} is `);
      expect(result.stderr).toContain("nanoGPT's GPT needs");
    }

    // A tensor nanoGPT has no place for is an error, not dropped: a file with an extra one is refused.
    const extra = join(dir, 'nano-extra');
    mkdirSync(extra);
    copyFileSync(join(path, 'tokenizer.json'), join(extra, 'tokenizer.json'));
    writeFileSync(join(extra, 'model.safetensors'), withExtraTensor(readFileSync(join(path, 'model.safetensors'))));
    const result = python('load_in_nanogpt.py', [extra, '--nanogpt', NANOGPT_STAND_IN]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("unexpected ['transformer.extra.weight']");
  });
});

/** A safetensors file with one more F32 tensor, `transformer.extra.weight` ([1]), appended. */
function withExtraTensor(bytes: Buffer): Buffer {
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8'));
  const data = bytes.subarray(8 + headerLength);
  header['transformer.extra.weight'] = { dtype: 'F32', shape: [1], data_offsets: [data.length, data.length + 4] };
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - ((8 + text.length) % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(text.length));
  return Buffer.concat([length, Buffer.from(text), data, Buffer.alloc(4)]);
}
