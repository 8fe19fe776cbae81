// End to end in a real Chromium (CHROMIUM_PATH, else Debian's; driven by playwright-core): build
// the app, serve it with `vite preview` (COOP/COEP on), and use every panel as a person would.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromiumLaunchOptions } from '@embedlab/test-utils';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const app = fileURLToPath(new URL('..', import.meta.url));
const shots = join(app, 'test-results');
const port = 4173 + Math.floor(Math.random() * 500);
let server: ChildProcess;
let browser: Browser;
let page: Page;
const problems: string[] = [];
const wasmFetched: string[] = [];
const speeds: string[] = [];

async function openPage(query: string): Promise<Page> {
  const opened = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  opened.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  opened.on('pageerror', (error) => problems.push(error.message));
  opened.on('request', (request) => {
    const binary = /\/(tfjs-backend-wasm(?:-threaded-simd|-simd)?)-[^/]+\.wasm$/.exec(request.url());
    if (binary) wasmFetched.push(binary[1]!);
  });
  await opened.goto(`http://127.0.0.1:${port}/${query}`);
  return opened;
}

/** Trains the default model for 80 steps on the Train panel; returns the status line. */
async function train80(on: Page): Promise<string> {
  await on.getByRole('tab', { name: 'Train' }).click();
  await on.locator('#train-steps').fill('80');
  await on.locator('#train-start').click();
  await expect.poll(() => on.locator('#train-status').textContent(), { timeout: 180_000 }).toMatch(/done, trained 80 steps, median [\d,]+ tokens\/s on \d+ threads?$/);
  return (await on.locator('#train-status').textContent())!;
}

async function tab(name: string) {
  await page.getByRole('tab', { name }).click();
}

describe('playground in Chromium', () => {
  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    execFileSync('pnpm', ['exec', 'vite', 'build', '--logLevel', 'error'], { cwd: app, stdio: 'inherit' });
    server = spawn('pnpm', ['exec', 'vite', 'preview', '--port', String(port), '--strictPort', '--host', '127.0.0.1'], { cwd: app, stdio: 'ignore', detached: true });
    for (let i = 0; i < 100; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/`)).ok) break;
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    // playwright launches headless with a fresh, temporary user-data dir of its own.
    browser = await chromium.launch(chromiumLaunchOptions());
    page = await openPage('');
  }, 300_000);

  afterAll(async () => {
    if (speeds.length > 0) console.log(`training speed in Chromium:\n${speeds.join('\n')}`);
    await browser?.close();
    if (server?.pid) process.kill(-server.pid);
  });

  it('trains on the threaded SIMD wasm build when cross-origin isolated; the page keeps to the single-thread build', async () => {
    const runtime = () => page.locator('#runtime').textContent();
    await expect.poll(runtime, { timeout: 60_000 }).toMatch(/(?=.*page: )(?=.*worker: )/);
    // Read once both runtimes are up: while one starts, it shows tfjs enough cores for the threads asked.
    const threads = await page.evaluate(() => Math.max(1, Math.min(8, Math.floor(navigator.hardwareConcurrency / 2))));
    expect(await runtime()).toContain('page: wasm + SIMD, 1 thread');
    expect(await runtime()).toContain(`worker: wasm + SIMD, ${threads} thread${threads === 1 ? '' : 's'}`);
    expect(await runtime()).toMatch(/cross-origin isolated/);
    expect(wasmFetched.sort()).toEqual(['tfjs-backend-wasm-simd', 'tfjs-backend-wasm-threaded-simd']);
    console.log(`runtime: ${await runtime()}`);
  });

  it('tokenizes text into chips with ids', async () => {
    await expect.poll(() => page.locator('#token-chips .chip').count(), { timeout: 30_000 }).toBeGreaterThan(5);
    await page.locator('#tokenize-text').fill('Hello world');
    await expect.poll(() => page.locator('#token-count').textContent()).toMatch(/^2 tokens, 11 characters, vocabulary 50,257/);
    await page.locator('#tokenizer-kind').selectOption('char');
    await expect.poll(() => page.locator('#token-count').textContent()).toMatch(/^11 tokens/);
    await page.screenshot({ path: join(shots, '1-tokenize.png'), fullPage: true });
  });

  it('shows token + position = input in the embedding panel', async () => {
    await tab('Embed');
    await expect.poll(() => page.locator('#embed-rows canvas').count()).toBeGreaterThan(0);
    await expect.poll(() => page.locator('#embed-counts').textContent()).toMatch(/GPT-2 small38,597,376786,432/);
    await page.screenshot({ path: join(shots, '2-embed.png'), fullPage: true });
  });

  it('shows positional encodings, and the learned table refusing to extrapolate', async () => {
    await tab('Positions');
    await expect.poll(() => page.locator('#positions-learned-message').textContent()).toMatch(/learned positions cannot extrapolate/);
    await expect.poll(() => page.locator('#positions-rope canvas').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(shots, '3-positions.png'), fullPage: true });
  });

  it('trains in the worker: the loss falls and samples appear', async () => {
    speeds.push(`  default: ${await train80(page)}`);
    const first = Number(await page.locator('#train-loss').getAttribute('data-first-loss'));
    const last = Number(await page.locator('#train-loss').getAttribute('data-last-loss'));
    expect(last).toBeLessThan(first - 0.5);
    await expect.poll(() => page.locator('#train-samples').textContent()).toMatch(/after 80 steps:\n\S/);
    await page.screenshot({ path: join(shots, '4-train.png'), fullPage: true });
  });

  it('explores the trained model', async () => {
    await tab('Explore');
    await page.locator('#explore-go').click();
    await expect.poll(() => page.locator('#explore-neighbours').textContent(), { timeout: 30_000 }).toMatch(/nearest to "a": /);
    await expect.poll(() => page.locator('#explore-analogy').textContent()).toMatch(/^"a" is to "e" as "o" is to: "[^"]+" \(-?\d\.\d\d\)/);
    await expect.poll(() => page.locator('#explore-attention canvas').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(shots, '5-explore.png'), fullPage: true });
  });

  it('downloads the checkpoint and opens it again', async () => {
    await tab('Save & load');
    const downloads: string[] = [];
    page.on('download', async (download) => {
      const path = join(shots, download.suggestedFilename());
      await download.saveAs(path);
      downloads.push(path);
    });
    await page.locator('#files-save').click();
    await expect.poll(() => downloads.length, { timeout: 30_000 }).toBe(2);
    await page.locator('#files-open').setInputFiles(downloads);
    await expect.poll(() => page.locator('#files-status').textContent(), { timeout: 30_000 }).toMatch(/loaded a 2-layer, 64-dim model/);
    await page.screenshot({ path: join(shots, '6-files.png'), fullPage: true });
    // The same files are a checkpoint directory for the CLI.
    const sampled = execFileSync('pnpm', ['exec', 'minigpt', 'sample', '--checkpoint', shots, '--tokens', '30', '--seed', '7'], { cwd: app, encoding: 'utf8' });
    expect(sampled.trim().length).toBeGreaterThan(10);
  });

  it('opens a checkpoint that the minigpt CLI wrote', async () => {
    const out = mkdtempSync(join(tmpdir(), 'embedlab-cli-'));
    execFileSync('pnpm', ['exec', 'minigpt', 'train', '--steps', '3', '--samples', '0', '--position', 'rope', '--out', out], { cwd: app, stdio: 'ignore' });
    await page.locator('#files-open').setInputFiles([join(out, 'model.safetensors'), join(out, 'tokenizer.json')]);
    await expect.poll(() => page.locator('#files-status').textContent(), { timeout: 30_000 }).toMatch(/loaded a \d+-layer, \d+-dim model \([\d,]+ parameters, rope positions\) at step 3, char tokenizer of 28 tokens/);
    rmSync(out, { recursive: true, force: true });
  });

  it('logged no errors, and shows bad input without breaking', async () => {
    await tab('Train');
    await page.locator('#train-corpus-file').setInputFiles({ name: 'tiny.txt', mimeType: 'text/plain', buffer: Buffer.from('too short') });
    await expect.poll(() => page.locator('#error').textContent()).toMatch(/tiny.txt: that text has 9 characters; a corpus needs at least 100/);
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it.each([
    { query: '?threads=1', threads: 1, binary: 'tfjs-backend-wasm-simd' },
    { query: '?threads=2', threads: 2, binary: 'tfjs-backend-wasm-threaded-simd' },
  ])('trains with $query on $binary, to compare speeds', async ({ query, threads, binary }) => {
    wasmFetched.length = 0;
    const other = await openPage(query);
    const expected = `worker: wasm + SIMD, ${threads} thread${threads === 1 ? '' : 's'}`;
    await expect.poll(() => other.locator('#runtime').textContent(), { timeout: 60_000 }).toContain(expected);
    expect(wasmFetched.sort()).toEqual([binary, 'tfjs-backend-wasm-simd'].sort());
    speeds.push(`  ${query}: ${await train80(other)}`);
    await other.close();
    expect(problems, problems.join('\n')).toEqual([]);
  });
});
