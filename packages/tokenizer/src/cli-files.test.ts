// The CLI and the files around it: every input bounded (devices, FIFOs, directories, link loops,
// endless stdin, files past 64 MiB are refused at once, in one line naming the path), and the
// writing commands (train, export) never touch a file of the user's, follow a link, or leave
// anything behind, even when interrupted. Each case spawns dist/cli.js with a timeout.
import { type SpawnSyncOptions, spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { writeOutputs } from './cli-output.js';
import { R50K_PATH } from './fixtures/gpt2-files.js';
import { trainBpe } from './trainer.js';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const slowRename = fileURLToPath(new URL('./fixtures/slow-rename.mjs', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'embedlab-tokenizer-files-'));
let dirs = 0;
/** A fresh directory holding `files` (name -> text), and a check that each is still there, byte for byte. */
function userFiles(files: Record<string, string>) {
  const dir = join(root, `case-${dirs++}`);
  mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const untouched = () => {
    for (const [name, text] of Object.entries(files)) expect(readFileSync(join(dir, name), 'utf8'), name).toBe(text);
    expect(readdirSync(dir).filter((name) => name.includes('.tmp-'))).toEqual([]);
  };
  return { dir, path: (name: string) => join(dir, name), untouched };
}

const MiB = 2 ** 20;
/** A run bounded in time: a device or an endless stdin must be refused at once, not read. */
function run(args: string[], options: SpawnSyncOptions = {}) {
  const started = performance.now();
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL', input: '', ...options });
  return { status: result.status, stderr: String(result.stderr), seconds: (performance.now() - started) / 1000 };
}
function refused(result: ReturnType<typeof run>, message: RegExp) {
  expect(result.stderr).toMatch(message);
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.status).toBe(1);
}
/** Runs with stdin read from a device, as `< /dev/urandom` does. */
function fromDevice(device: string, args: string[]) {
  const fd = openSync(device, 'r');
  try {
    return run(args, { stdio: [fd, 'pipe', 'pipe'] });
  } finally {
    closeSync(fd);
  }
}

const small = JSON.stringify(trainBpe('low lower lowest newer newest '.repeat(20), { vocabSize: 270, specialTokens: ['<|endoftext|>'] }).toJSON());

describe('what the CLI reads is bounded', { timeout: 120_000 }, () => {
  it('refuses a device, a FIFO or a directory given as a path (text or tokenizer file), before reading it', () => {
    const { path } = userFiles({ 'bpe.json': small });
    mkdirSync(path('dir'));
    expect(spawnSync('mkfifo', [path('fifo')]).status).toBe(0);
    const cases: [string[], RegExp][] = [
      [['count', '--tiktoken', R50K_PATH, '/dev/zero'], /^embedlab-tokenizer: \/dev\/zero is not a regular file \(a device\)$/m],
      [['encode', '--tokenizer', path('bpe.json'), '/dev/urandom'], /\/dev\/urandom is not a regular file \(a device\)/],
      [['encode', '--tiktoken', '/dev/zero'], /\/dev\/zero is not a regular file \(a device\)/],
      [['export', '--format', 'hf', '--out', path('x.json'), '/dev/zero'], /\/dev\/zero is not a regular file \(a device\)/],
      // A FIFO with no writer: opening it to read would wait for ever.
      [['encode', '--tokenizer', path('bpe.json'), path('fifo')], /fifo is not a regular file \(a FIFO\)/],
      [['encode', '--hf', path('fifo')], /fifo is not a regular file \(a FIFO\)/],
      [['decode', '--tokenizer', path('bpe.json'), path('dir')], /dir is not a regular file \(a directory\)/],
      [['train', '--vocab-size', '260', '--out', path('out.json'), path('dir')], /dir is not a regular file \(a directory\)/],
    ];
    for (const [args, message] of cases) {
      const result = run(args);
      refused(result, message);
      expect(result.seconds, args.join(' ')).toBeLessThan(10);
    }
    expect(existsSync(path('x.json')) || existsSync(path('out.json'))).toBe(false);
  });

  it('reads stdin as a stream of at most 64 MiB: /dev/urandom and /dev/zero are refused promptly', () => {
    const { path } = userFiles({ 'bpe.json': small });
    for (const [device, command] of [
      ['/dev/urandom', 'encode'],
      ['/dev/zero', 'count'],
      ['/dev/zero', 'decode'],
    ] as const) {
      const result = fromDevice(device, [command, '--tokenizer', path('bpe.json')]);
      refused(result, /^embedlab-tokenizer: stdin is larger than 64 MiB, the most read into memory; use a smaller input$/m);
      expect(result.seconds, `${command} < ${device}`).toBeLessThan(15);
    }
  });

  it('refuses a file over 64 MiB, text or tokenizer, by its size, and a training text over 64 MiB in all', () => {
    const { path } = userFiles({ 'bpe.json': small });
    // Sparse files: no disk space, and nothing is read.
    for (const [name, bytes] of [
      ['big.txt', 64 * MiB + 1],
      ['big.json', 200 * MiB],
      ['a.txt', 40 * MiB],
      ['b.txt', 40 * MiB],
    ] as const) {
      writeFileSync(path(name), '');
      truncateSync(path(name), bytes);
    }
    refused(run(['count', '--tokenizer', path('bpe.json'), path('big.txt')]), /big.txt is larger than 64 MiB, the most read into memory/);
    refused(run(['encode', '--hf', path('big.json')]), /big.json is larger than 64 MiB, the most read into memory/);
    refused(run(['export', '--format', 'hf', '--out', path('x.json'), path('big.json')]), /big.json is larger than 64 MiB/);
    refused(
      run(['train', '--vocab-size', '260', '--out', path('out.json'), path('a.txt'), path('b.txt')]),
      /b.txt: the training text is larger than 64 MiB in all, the most train reads into memory/,
    );
    expect(existsSync(path('x.json')) || existsSync(path('out.json'))).toBe(false);
  });

  it('says that a symbolic link loop is one, for an input, a tokenizer file and a tiktoken sidecar', () => {
    const { path } = userFiles({ 'bpe.json': small });
    symlinkSync('loop-b', path('loop-a'));
    symlinkSync('loop-a', path('loop-b'));
    copyFileSync(R50K_PATH, path('gpt2.tiktoken'));
    symlinkSync('gpt2.tiktoken.json', path('gpt2.tiktoken.json'));
    const loop = /: too many levels of symbolic links \(ELOOP: a symbolic link loop\)$/m;
    refused(run(['encode', '--tokenizer', path('bpe.json'), path('loop-a')]), new RegExp(`loop-a${loop.source}`, 'm'));
    refused(run(['encode', '--tokenizer', path('loop-a')], { input: 'x' }), new RegExp(`loop-a${loop.source}`, 'm'));
    // The sidecar was taken for absent (existsSync is false for a loop) and GPT-2's defaults used.
    refused(run(['encode', '--tiktoken', path('gpt2.tiktoken')], { input: 'x' }), new RegExp(`gpt2.tiktoken.json${loop.source}`, 'm'));
  });
});

describe('train and export write only their own files', { timeout: 120_000 }, () => {
  it("never write over a user's file, through a link, or over an input, even with --force", () => {
    const outside = userFiles({ 'secret.txt': 'outside the output directory' });
    const { path, untouched } = userFiles({
      'bpe.json': small,
      'notes.txt': 'my notes',
      'tokenizer.json': '{"mine": true}\n',
      'keep.tiktoken': 'keep me',
      'gpt2.tiktoken': readFileSync(R50K_PATH, 'utf8'),
    });
    symlinkSync(outside.path('secret.txt'), path('link.json'));
    symlinkSync('loop-b', path('loop-a'));
    symlinkSync('loop-a', path('loop-b'));
    const bpe = path('bpe.json');
    const cases: [string[], RegExp][] = [
      [['train', '--vocab-size', '260', '--out', path('notes.txt'), bpe], /notes.txt exists; pass --force to overwrite it/],
      [
        ['train', '--vocab-size', '260', '--force', '--out', path('notes.txt'), bpe],
        /notes.txt is not an embedlab tokenizer \(format "embedlab-tokenizer"\); --force replaces only a file of the kind this command writes/,
      ],
      [['export', '--format', 'hf', '--force', '--out', path('tokenizer.json'), bpe], /tokenizer.json is not a Hugging Face tokenizer.json that --hf loads/],
      [['export', '--format', 'tiktoken', '--force', '--out', path('keep.tiktoken'), bpe], /keep.tiktoken is not a tiktoken rank file/],
      [['export', '--format', 'hf', '--force', '--out', path('link.json'), bpe], /link.json is a symbolic link; --out must be a regular file or a new path/],
      [['export', '--format', 'hf', '--out', path('loop-a'), bpe], /loop-a is a symbolic link/],
      // A rank file of the kind export writes, but the command's own input.
      [
        ['export', '--format', 'tiktoken', '--force', '--out', path('gpt2.tiktoken'), path('gpt2.tiktoken')],
        /gpt2.tiktoken is an input of this command \(.*gpt2.tiktoken\); write elsewhere/,
      ],
      [['train', '--vocab-size', '260', '--force', '--out', bpe, bpe], /bpe.json is an input of this command/],
    ];
    for (const [args, message] of cases) {
      refused(run(args), message);
      untouched();
      outside.untouched();
      expect(lstatSync(path('link.json')).isSymbolicLink()).toBe(true);
      expect(lstatSync(path('loop-a')).isSymbolicLink()).toBe(true);
      expect(existsSync(path('gpt2.tiktoken.json'))).toBe(false);
    }
    // Their own output is theirs to replace.
    for (const args of [
      ['train', '--vocab-size', '260', '--out', path('trained.json'), bpe],
      ['export', '--format', 'tiktoken', '--out', path('out.tiktoken'), bpe],
    ]) {
      expect(run([...args, '--quiet']).status).toBe(0);
      expect(run([...args, '--quiet']).stderr).toMatch(/exists; pass --force/);
      expect(run([...args, '--quiet', '--force']).status).toBe(0);
    }
    untouched();
    outside.untouched();
  });

  it('removes what it created and exits 128 + the signal on SIGINT, SIGTERM and SIGHUP', async () => {
    const { dir, path, untouched } = userFiles({ 'bpe.json': small, 'notes.txt': 'my notes' });
    const cases = [
      ['SIGINT', 130, 'hf'],
      // Signalled at the rank file's rename: the sidecar is still a temporary file.
      ['SIGTERM', 143, 'tiktoken'],
      ['SIGHUP', 129, 'hf'],
    ] as const;
    for (const [signal, exitCode, format] of cases) {
      const child = spawn(process.execPath, ['--import', slowRename, cli, 'export', '--format', format, '--out', path('out'), path('bpe.json')]);
      let stderr = '';
      child.stderr.on('data', (chunk) => {
        const sent = stderr.includes('renaming');
        stderr += chunk;
        if (!sent && stderr.includes('renaming')) child.kill(signal);
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await new Promise((resolve) => child.on('exit', resolve));
      clearTimeout(timer);
      expect(code, stderr).toBe(exitCode);
      expect(stderr).toMatch(new RegExp(`embedlab-tokenizer: interrupted by ${signal}; the files this run had created were removed\n$`));
      expect(readdirSync(dir).sort()).toEqual(['bpe.json', 'notes.txt']);
      untouched();
    }
  });

  it('opens its temporary file exclusively: a file or link already at that name is neither written nor removed', async () => {
    const outside = userFiles({ 'secret.txt': 'outside' });
    const { dir, path } = userFiles({});
    const output = { path: path('x.json'), text: '{}', kind: 'a test file', isOurs: () => true };
    // The name writeOutputs picks in this process, taken by a link to a file outside.
    const temporary = `${output.path}.tmp-${process.pid}`;
    symlinkSync(outside.path('secret.txt'), temporary);
    await expect(writeOutputs([output], { force: false, inputs: [] })).rejects.toThrow(
      `cannot write ${output.path}: ${temporary} is in the way; remove it if it is not yours`,
    );
    expect(lstatSync(temporary).isSymbolicLink()).toBe(true);
    expect(readdirSync(dir)).toEqual([`x.json.tmp-${process.pid}`]);
    outside.untouched();
  });
});
