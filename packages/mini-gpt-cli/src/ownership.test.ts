// Files of users are never removed or replaced: every case here first makes the user's own files,
// runs a command as a user would, and then checks that each of those files is still there, byte
// for byte (the five deletion cases of the reliability review, and their neighbours).
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareTokenDirectory } from '@embedlab/mini-gpt/node';
import { beforeAll, describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'minigpt-ownership-'));
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
const text = join(dir, 'text.txt');
writeFileSync(text, Array.from({ length: 1500 }, (_, i) => `the ${['cat', 'dog', 'bird'][i % 3]} number ${i} sat.`).join('\n'));
const tiny = ['--n-layer', '1', '--n-head', '2', '--n-embd', '16', '--block-size', '16', '--steps', '2', '--samples', '0'];

/** Every file and link under `root` with its bytes (a link: where it leads), to compare before and after. */
function snapshot(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const visit = (path: string) => {
    const stat = lstatSync(path);
    const name = relative(root, path) || '.';
    if (stat.isSymbolicLink()) files.set(name, `-> ${readlinkSync(path)}`);
    else if (stat.isDirectory()) {
      files.set(name, 'directory');
      for (const entry of readdirSync(path)) visit(join(path, entry));
    } else files.set(name, readFileSync(path).toString('base64'));
  };
  visit(root);
  return files;
}

/** Waits until `path` exists (a command has claimed it). */
async function appears(path: string): Promise<void> {
  for (let waited = 0; !existsSync(path); waited += 10) {
    if (waited > 30_000) throw new Error(`${path} never appeared`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Makes the user's files under `root` (path -> contents; a trailing `/` makes a directory). */
function userFiles(root: string, files: Record<string, string>): Map<string, string> {
  mkdirSync(root, { recursive: true });
  for (const [name, contents] of Object.entries(files)) {
    if (name.endsWith('/')) mkdirSync(join(root, name), { recursive: true });
    else writeFileSync(join(root, name), contents);
  }
  return snapshot(root);
}

let checkpointA: string;
let checkpointB: string;
let tokens: string;

beforeAll(() => {
  tokens = join(dir, 'tokens');
  const prepared = run('prepare', text, '--out', tokens);
  expect(prepared.status, prepared.stderr).toBe(0);
  checkpointA = join(dir, 'ckA');
  checkpointB = join(dir, 'ckB');
  for (const [out, seed] of [
    [checkpointA, '1'],
    [checkpointB, '2'],
  ] as const) {
    const trained = run('train', ...tiny, '--data', tokens, '--seed', seed, '--out', out);
    expect(trained.status, trained.stderr).toBe(0);
  }
}, 180_000);

describe('commands never touch what is not theirs', { timeout: 180_000 }, () => {
  it('1. refuses a current link that leads out of the directory, and the other checkpoint stays whole', () => {
    const runA = join(dir, 'runA');
    const runB = join(dir, 'runB');
    cpSync(checkpointA, runA, { recursive: true, verbatimSymlinks: true });
    cpSync(checkpointB, runB, { recursive: true, verbatimSymlinks: true });
    const saveA = readlinkSync(join(runA, 'current'));
    symlinkSync(`../runA/${saveA}`, join(runB, 'current.tmp'));
    spawnSync('mv', ['-T', join(runB, 'current.tmp'), join(runB, 'current')]);
    const before = snapshot(runA);
    for (const args of [
      ['--out', runB, '--resume', '--steps', '4'],
      [...tiny, '--data', tokens, '--out', runB, '--force'],
    ]) {
      const result = run('train', ...args);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`${join(runB, 'current')} leads to ../runA/${saveA}, not to a save inside ${runB}; refusing to follow it`);
    }
    expect(snapshot(runA)).toEqual(before);
    expect(run('eval', '--checkpoint', runA, '--data', text).status).toBe(0);

    // current -> .. with a flat checkpoint in the parent: the parent and all in it stay.
    const parent = join(dir, 'parent');
    const flat = userFiles(parent, { 'notes.txt': 'mine', 'thesis.tex': '\\documentclass{article}' });
    cpSync(join(checkpointA, 'current'), parent, { recursive: true, dereference: true });
    const child = join(parent, 'ck');
    cpSync(checkpointA, child, { recursive: true, verbatimSymlinks: true });
    spawnSync('ln', ['-sfn', '..', join(child, 'current')]);
    const whole = snapshot(parent);
    expect(flat.size).toBeGreaterThan(0);
    const resumed = run('train', '--out', child, '--resume', '--steps', '4');
    expect(resumed.status).toBe(1);
    expect(resumed.stderr).toContain('not to a save inside');
    expect(snapshot(parent)).toEqual(whole);
  });

  it('2. removes nothing by the look of its name, and never trains into a directory of other files', () => {
    const target = join(dir, 'd');
    const before = userFiles(target, { 'save-2/': '', 'save-2/notes.txt': 'kept', 'thesis.tmp-1': 'draft', 'app.link-42': 'link?', 'report.tex': 'report' });
    for (const force of [[], ['--force']]) {
      const result = run('train', ...tiny, '--data', tokens, '--out', target, ...force);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`${target} holds app.link-42 (and 3 more), which minigpt did not write there`);
    }
    expect(snapshot(target)).toEqual(before);

    // Files a user adds to a checkpoint directory later, with names like ours, survive its saves and --force is refused.
    const run2 = join(dir, 'run2');
    cpSync(checkpointA, run2, { recursive: true, verbatimSymlinks: true });
    writeFileSync(join(run2, 'save-9.tmp-1'), 'mine');
    mkdirSync(join(run2, 'save-000050'));
    writeFileSync(join(run2, 'save-000050', 'notes.txt'), 'mine too');
    const resumed = run('train', '--out', run2, '--resume', '--steps', '4', '--samples', '0', '--eval-interval', '1');
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(readFileSync(join(run2, 'save-9.tmp-1'), 'utf8')).toBe('mine');
    expect(readFileSync(join(run2, 'save-000050', 'notes.txt'), 'utf8')).toBe('mine too');
    expect(readdirSync(run2).filter((name) => /^save-\d+$/.test(name))).toHaveLength(2);
    const forced = run('train', ...tiny, '--data', tokens, '--out', run2, '--force');
    expect(forced.status).toBe(1);
    expect(forced.stderr).toContain(`${run2} holds save-000050 (and 1 more), which minigpt did not write there`);
  });

  it('3. --force replaces only our own output: a nanoGPT data directory and an export with a README stay', () => {
    const nanogpt = join(dir, 'shakespeare_char');
    const before = userFiles(nanogpt, { 'input.txt': 'First Citizen', 'prepare.py': 'import os', 'meta.pkl': 'pickle', 'train.bin': 'ab', 'val.bin': 'cd' });
    const other = join(dir, 'other.txt');
    writeFileSync(other, 'some other text\n'.repeat(200));
    const prepared = run('prepare', other, '--out', nanogpt, '--force');
    expect(prepared.status).toBe(1);
    expect(prepared.stderr).toContain(`${nanogpt} holds input.txt (and 4 more), which minigpt did not write there; force replaces only a token directory`);
    expect(snapshot(nanogpt)).toEqual(before);

    const hf = join(dir, 'hf');
    expect(run('export', '--checkpoint', checkpointA, '--format', 'hf', '--out', hf).status).toBe(0);
    writeFileSync(join(hf, 'README.md'), '# my model card');
    writeFileSync(join(hf, 'corpus.txt'), 'the corpus');
    const exported = snapshot(hf);
    const again = run('export', '--checkpoint', checkpointB, '--format', 'hf', '--out', hf, '--force');
    expect(again.status).toBe(1);
    expect(again.stderr).toContain(`${hf} holds README.md (and 1 more), which minigpt did not write there`);
    expect(snapshot(hf)).toEqual(exported);
    // Nor may train's --force take a Hugging Face directory, nor compare write over a user's results.
    const trained = run('train', ...tiny, '--data', tokens, '--out', hf, '--force');
    expect(trained.stderr).toContain(`${hf} holds a Hugging Face directory of minigpt export, not a checkpoint of minigpt train`);
    expect(snapshot(hf)).toEqual(exported);
    const results = join(dir, 'results');
    const mine = userFiles(results, { 'results.csv': 'a,b\n1,2\n', 'loss-vs-position.svg': '<svg/>' });
    const compared = run('compare', '--out', results, '--positions', 'learned', '--steps', '2', '--multiples', '1');
    expect(compared.stderr).toContain(`${results} holds loss-vs-position.svg (and 1 more), which minigpt did not write there`);
    expect(snapshot(results)).toEqual(mine);
  });

  it('4. claims --out when it starts: a file that appears meanwhile stays, and a second prepare is refused', async () => {
    const out = join(dir, 'claimed');
    let added = false;
    const big = join(dir, 'big.txt');
    writeFileSync(big, 'a few words of text, and more of them.\n'.repeat(60_000));
    await expect(
      prepareTokenDirectory({
        inputs: [big],
        out,
        workers: 1,
        pieceSize: 1 << 16,
        onProgress: ({ phase }) => {
          if (phase !== 'tokens' || added) return;
          added = true;
          writeFileSync(join(out, 'thesis.tex'), 'my thesis');
          // A second prepare into the same directory meanwhile.
          const second = run('prepare', text, '--out', out, '--force');
          expect(second.stderr).toContain(`${out} holds thesis.tex, which minigpt did not write there`);
        },
      }),
    ).rejects.toThrow(`${out} holds thesis.tex, which minigpt did not write there; it appeared while the output was written; nothing was replaced`);
    expect(readFileSync(join(out, 'thesis.tex'), 'utf8')).toBe('my thesis');
    expect(readdirSync(out).sort()).toEqual(['.minigpt-record.json', 'thesis.tex']);

    const busy = join(dir, 'busy');
    const first = spawn(process.execPath, [cli, 'prepare', big, '--out', busy, '--workers', '1']);
    await appears(busy);
    const second = run('prepare', text, '--out', busy);
    const code = await new Promise((resolve) => first.on('exit', resolve));
    expect(code).toBe(0);
    expect(second.status).toBe(1);
    expect(second.stderr).toMatch(/in use by another minigpt command|already holds a token directory/);
  });

  it('cleans what a killed prepare or export left, and says when export is interrupted', async () => {
    const big = join(dir, 'big.txt');
    const out = join(dir, 'killed');
    const child = spawn(process.execPath, [cli, 'prepare', big, '--out', out, '--workers', '1']);
    await appears(join(out, '.minigpt-record.json'));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));
    // What is left is inside --out and recorded; the parent has no hidden partial directory.
    expect(readdirSync(dir).filter((name) => name.includes('partial'))).toEqual([]);
    const again = run('prepare', text, '--out', out);
    expect(again.status, again.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['.minigpt-record.json', 'meta.json', 'tokenizer.json', 'train.bin', 'val.bin']);

    const hf = join(dir, 'interrupted-hf');
    const exporting = spawn(process.execPath, [cli, 'export', '--checkpoint', checkpointA, '--format', 'hf', '--out', hf]);
    let stderr = '';
    exporting.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    // Interrupted once it has claimed --out, while it writes.
    await appears(hf);
    exporting.kill('SIGINT');
    const code = await new Promise((resolve) => exporting.on('exit', resolve));
    if (code === 0) return; // Finished before the signal arrived: nothing to check.
    expect(code).toBe(130);
    expect(stderr).toContain(`interrupted; nothing was written to ${hf}`);
    expect(existsSync(hf)).toBe(false);
  });

  it('checks --out before the slow work: prepare --out . in a folder of files, export over its own source', () => {
    const folder = join(dir, 'my-folder');
    const before = userFiles(folder, { 'draft.md': 'mine', 'data.csv': '1,2' });
    const prepared = spawnSync(process.execPath, [cli, 'prepare', text, '--out', '.', '--force'], { encoding: 'utf8', cwd: folder });
    expect(prepared.status).toBe(1);
    expect(prepared.stderr).toContain('. holds data.csv (and 1 more), which minigpt did not write there; force replaces only a token directory');
    expect(snapshot(folder)).toEqual(before);
    // A model file that cannot load: refused as the source before it is ever read.
    const broken = userFiles(join(dir, 'broken-hf'), { 'config.json': '{}', 'model.safetensors': 'not a model' });
    const exported = run('export', '--hf', join(dir, 'broken-hf'), '--format', 'hf', '--out', join(dir, 'broken-hf'), '--force');
    expect(exported.stderr.trim()).toBe(
      `minigpt: ${join(dir, 'broken-hf')} would replace ${join(dir, 'broken-hf')}, which it is written from; choose another directory`,
    );
    expect(snapshot(join(dir, 'broken-hf'))).toEqual(broken);
  });

  it('leaves no claim on a directory it made when the run is refused before its first save', () => {
    const out = join(dir, 'refused-run');
    const refused = run('train', ...tiny, '--data', tokens, '--batch-size', '1000000', '--out', out);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^minigpt: .*GiB/);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses at the start an --out holding a file or directory named current', () => {
    for (const kind of ['file', 'directory']) {
      const out = join(dir, `current-${kind}`);
      cpSync(checkpointA, out, { recursive: true, verbatimSymlinks: true });
      spawnSync('rm', [join(out, 'current')]);
      if (kind === 'file') writeFileSync(join(out, 'current'), 'mine');
      else mkdirSync(join(out, 'current'));
      const before = snapshot(out);
      const result = run('train', '--out', out, '--resume', '--steps', '4');
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`${join(out, 'current')} is a ${kind}, not a link to a save`);
      expect(snapshot(out)).toEqual(before);
      expect(statSync(join(out, 'current')).isDirectory()).toBe(kind === 'directory');
    }
  });
});
