// End to end in a real Chromium (CHROMIUM_PATH, else Debian's; driven by playwright-core): build
// the app, serve it with `vite preview` (COOP/COEP on) and, for the sub-path test, from a plain
// static server without those headers; use every panel as a person would, and the failure paths
// of issue 16 (errors beside their controls, runs that always end, loads during training, models
// too large, megabytes of text, a corpus without a newline, a sub-path deployment).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkpointFromFiles, estimateMemory, namesCorpus, PRESETS, type VariantResult } from '@embedlab/mini-gpt';
import { LearnedPositionalEmbedding } from '@embedlab/positional-encodings';
import { ready, tf } from '@embedlab/runtime';
import { TokenEmbedding } from '@embedlab/token-embedding';
import { CharTokenizer, toHuggingFaceJSON } from '@embedlab/tokenizer';
import { chromiumLaunchOptions, maxRelativeDifference } from '@embedlab/test-utils';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { short } from '../src/ui.js';

const app = fileURLToPath(new URL('..', import.meta.url));
const shots = join(app, 'test-results');
const port = 4173 + Math.floor(Math.random() * 500);
const SUB_PATH = '/projects/embedlab/';
let server: ChildProcess;
let staticServer: Server;
let staticPort = 0;
let browser: Browser;
let page: Page;
const problems: string[] = [];
const wasmFetched: string[] = [];
const speeds: string[] = [];

async function openPage(query: string, base = `http://127.0.0.1:${port}/`): Promise<Page> {
  const opened = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  opened.on('console', (message) => {
    // Errors, and ECharts' warnings about charts drawn before they are in the page.
    if (message.type() === 'error' || /Can't get DOM width or height/.test(message.text())) problems.push(`${message.type()}: ${message.text()}`);
  });
  opened.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  opened.on('request', (request) => {
    const binary = /\/(tfjs-backend-wasm(?:-threaded-simd|-simd)?)-[^/]+\.wasm$/.exec(request.url());
    if (binary) wasmFetched.push(binary[1]!);
  });
  await opened.goto(`${base}${query}`);
  return opened;
}

const status = (on: Page) => on.locator('#train-status').textContent();

/** Trains `steps` steps with the Train panel's settings as they are; returns the final status. */
async function train(on: Page, steps: number, finished = /done, trained \d+ steps, median [\d,]+ tokens\/s on \d+ workers?/): Promise<string> {
  await on.getByRole('tab', { name: 'Train' }).click();
  await on.locator('#train-steps').fill(String(steps));
  await on.locator('#train-start').click();
  await expect.poll(() => status(on), { timeout: 240_000 }).toMatch(/: (done|stopped|failed), /);
  const text = (await status(on))!;
  expect(text).toMatch(finished);
  return text;
}

async function tab(name: string) {
  await page.getByRole('tab', { name }).click();
}

/** Whether an element is fully inside the viewport (scrolled into view). */
async function inView(on: Page, selector: string): Promise<boolean> {
  return on.locator(selector).evaluate((node) => {
    const box = node.getBoundingClientRect();
    return box.height > 0 && box.top >= 0 && box.bottom <= window.innerHeight;
  });
}

const compareStatus = (on: Page) => on.locator('#compare-status').textContent();
let comparing: Page | undefined;

/** A fresh page on the Compare tab (the shared page's corpus is changed by the Train tests). */
async function comparePage(): Promise<Page> {
  if (!comparing) {
    comparing = await openPage('');
    await expect.poll(() => comparing!.locator('#runtime').textContent(), { timeout: 60_000 }).toMatch(/(?=.*page: )(?=.*worker: )/);
    await comparing.getByRole('tab', { name: 'Compare' }).click();
  }
  return comparing;
}

/** The results table: each row's variant, parameters, and its loss cells (loss, perplexity) or refusal by multiple. */
function resultRows(on: Page) {
  return on.locator('#compare-results tbody tr').evaluateAll((trs) =>
    trs.map((tr) => ({
      variant: tr.getAttribute('data-variant')!,
      parameters: Number(tr.querySelector('td')!.textContent!.replaceAll(',', '')),
      cells: [...tr.querySelectorAll('td[data-multiple]')].map((cell) => ({
        multiple: Number(cell.getAttribute('data-multiple')),
        refused: cell.classList.contains('refused'),
        text: cell.textContent!,
        loss: Number(cell.textContent),
        perplexity: Number(cell.nextElementSibling?.textContent),
      })),
    })),
  );
}

/** A static server with no COOP/COEP headers, serving the build under SUB_PATH (as GitHub Pages serves a project site). */
function serveStatic(dist: string): Promise<number> {
  const types: Record<string, string> = {
    '.html': 'text/html',
    '.js': 'text/javascript',
    '.css': 'text/css',
    '.wasm': 'application/wasm',
    '.tiktoken': 'text/plain',
  };
  staticServer = createServer((request, response) => {
    const path = new URL(request.url!, 'http://x').pathname;
    if (!path.startsWith(SUB_PATH)) return void response.writeHead(404).end('not found');
    const file = normalize(join(dist, path.slice(SUB_PATH.length) || 'index.html'));
    try {
      const body = readFileSync(file.startsWith(dist) ? file : join(dist, 'missing'));
      response.writeHead(200, { 'Content-Type': types[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      response.writeHead(404).end('not found');
    }
  });
  return new Promise((resolve) => staticServer.listen(0, '127.0.0.1', () => resolve((staticServer.address() as { port: number }).port)));
}

describe('playground in Chromium', () => {
  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    execFileSync('pnpm', ['exec', 'vite', 'build', '--logLevel', 'error'], { cwd: app, stdio: 'inherit' });
    server = spawn('pnpm', ['exec', 'vite', 'preview', '--port', String(port), '--strictPort', '--host', '127.0.0.1'], {
      cwd: app,
      stdio: 'ignore',
      detached: true,
    });
    staticPort = await serveStatic(join(app, 'dist'));
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
    staticServer?.close();
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
    // The tab bar as the ARIA tabs pattern has it: End and Home go to the last and first tab.
    await page.getByRole('tab', { name: 'Tokenize' }).focus();
    await page.keyboard.press('End');
    expect(await page.evaluate(() => [document.activeElement?.id, document.activeElement?.getAttribute('aria-selected')])).toEqual(['tab-files', 'true']);
    expect(await page.locator('#files').isVisible()).toBe(true);
    await page.keyboard.press('Home');
    expect(await page.evaluate(() => [document.activeElement?.id, document.activeElement?.getAttribute('aria-selected')])).toEqual(['tab-tokenize', 'true']);
    // A space is visible in its chip.
    expect(await page.locator('#token-chips .chip').nth(1).textContent()).toBe('␣world995');
    await page.locator('#tokenizer-kind').selectOption('char');
    await expect.poll(() => page.locator('#token-count').textContent()).toMatch(/^11 tokens/);
    // Arrowing through the select only chooses tokenizers: files open from their own button.
    let pickers = 0;
    const countPicker = () => pickers++;
    page.on('filechooser', countPicker);
    await page.locator('#tokenizer-kind').focus();
    for (const key of ['ArrowDown', 'ArrowDown', 'ArrowDown', 'ArrowUp', 'ArrowUp']) await page.keyboard.press(key);
    await page.waitForTimeout(300);
    page.off('filechooser', countPicker);
    expect(pickers).toBe(0);
    await page.locator('#tokenizer-kind').selectOption('char');
    const openFile = async (name: string, content: string) => {
      const chooser = page.waitForEvent('filechooser');
      await page.locator('#tokenizer-open').click();
      await (await chooser).setFiles({ name, mimeType: 'application/json', buffer: Buffer.from(content) });
    };
    // A file that is not a vocabulary: an error beside the select, and the tokenizer in use stays.
    await openFile('notes.json', '{"not": "a tokenizer"}');
    await expect.poll(() => page.locator('#tokenize-error').textContent()).toMatch(/^notes.json: .* \(still using char-level \(the corpus\)\)$/);
    expect(await page.locator('#tokenize-error').textContent()).not.toMatch(/^notes.json: notes.json:/);
    expect(await page.locator('#tokenizer-kind').inputValue()).toBe('char');
    await page.screenshot({ path: join(shots, '1-tokenize.png'), fullPage: true });
    // Every tokenizer file the app and the CLI write opens: a checkpoint's tokenizer.json (embedlab's own
    // format, as Save & load downloads it) and the Hugging Face char-level tokenizer.json of an export.
    const own = CharTokenizer.fromCorpus('Hello world, hello!');
    for (const content of [JSON.stringify(own.toJSON()), toHuggingFaceJSON(own)]) {
      await openFile('tokenizer.json', content);
      await expect.poll(() => page.locator('#token-count').textContent()).toMatch(/^11 tokens, 11 characters, vocabulary 11\b/);
      expect(await page.locator('#tokenizer-kind').inputValue()).toBe('file');
      expect(await page.locator('#tokenizer-kind option:checked').textContent()).toBe('from a file: tokenizer.json');
      expect(await page.locator('#token-chips .chip').allTextContents()).toEqual(
        own.encode('Hello world').map((id) => `${own.idToToken(id).replace(' ', '␣')}${id}`),
      );
    }
    // Byte-level tokens that hold part of a character show their bytes, not "�".
    await page.locator('#tokenizer-kind').selectOption('gpt2');
    await page.locator('#tokenize-text').fill(' 😀');
    await expect.poll(() => page.locator('#token-count').textContent()).toMatch(/^\d tokens, 2 characters/);
    const pieces = (await page.locator('#token-chips .chip').allTextContents()).map((chip) => chip.replace(/\d+$/, ''));
    expect(pieces.join('')).toBe('␣<F0><9F><98><80>');
    expect(pieces.every((piece) => piece !== '' && !piece.includes('�'))).toBe(true);
    await page.locator('#tokenize-text').fill('Hello world');
  });

  it('issue 16.5: a megabyte of text stays responsive (debounced, encoded in slices, 500 chips drawn, the rest counted)', async () => {
    await page.locator('#tokenizer-kind').selectOption('gpt2');
    await page.evaluate(() => {
      (window as unknown as { longest: number }).longest = 0;
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries())
          (window as unknown as { longest: number }).longest = Math.max((window as unknown as { longest: number }).longest, entry.duration);
      }).observe({ type: 'longtask' });
    });
    const megabyte = 'The quick brown fox jumps over the lazy dog; 1234567890!\n'.repeat(18_400);
    await page.locator('#tokenize-text').evaluate((node: HTMLTextAreaElement, text) => {
      node.value = text;
      node.dispatchEvent(new Event('input', { bubbles: true }));
    }, megabyte);
    await expect
      .poll(() => page.locator('#token-count').textContent(), { timeout: 60_000 })
      .toMatch(/^[\d,]+ tokens, 1,048,800 characters, vocabulary 50,257 \(the first 500 shown\)/);
    // Keystrokes while it encodes: the page answers at once.
    const started = Date.now();
    await page.locator('#tokenize-text').press('End');
    await page.keyboard.type('abc');
    const typing = Date.now() - started;
    await expect.poll(() => page.locator('#token-count').textContent(), { timeout: 60_000 }).toMatch(/1,048,803 characters/);
    await page.locator('#tokenizer-kind').selectOption('char');
    await expect.poll(() => page.locator('#token-count').textContent(), { timeout: 60_000 }).toMatch(/^1,048,803 tokens, 1,048,803 characters/);
    expect(await page.locator('#token-chips .chip').count()).toBe(500);
    await page.locator('#token-more').click();
    expect(await page.locator('#token-chips .chip').count()).toBe(1000);
    const longest = await page.evaluate(() => (window as unknown as { longest: number }).longest);
    console.log(`1 MB of text: typing 3 keys took ${typing} ms, the longest main-thread task ${Math.round(longest)} ms`);
    expect(typing).toBeLessThan(3000);
    expect(longest).toBeLessThan(1000);
    await page.locator('#tokenize-text').fill('Hello world');
  });

  it('shows token + position = input in the embedding panel, with the numbers of the two tables', async () => {
    await tab('Embed');
    await expect.poll(() => page.locator('#embed-rows canvas').count()).toBeGreaterThan(0);
    // The panel's defaults: token 4 of the names' characters, position 3, 16 dimensions, the tables
    // drawn from seeds 1 and 2 (N(0, 0.5²)); the sum shown is wte[4] + wpe[3], to 4 digits.
    await ready({ backend: 'cpu' });
    const wte = new TokenEmbedding({ vocabSize: CharTokenizer.fromCorpus(namesCorpus()).vocabSize, dim: 16, seed: 1, init: { kind: 'normal', std: 0.5 } });
    const wpe = new LearnedPositionalEmbedding({ maxLength: 16, dim: 16, seed: 2, init: { kind: 'normal', std: 0.5 } });
    const expected = tf.tidy(() => Array.from(tf.add(wte.apply([4]), wpe.apply(1, { offset: 3 })).dataSync()));
    wte.dispose();
    wpe.dispose();
    const label = (await page.locator('#embed-rows').getAttribute('aria-label'))!;
    const shown = label.split('sum: ')[1]!.split(', ').map(Number);
    expect(shown).toHaveLength(16);
    for (const [i, value] of shown.entries()) expect(Math.abs(value - expected[i]!), `dimension ${i}`).toBeLessThan(1e-3 * Math.max(1, Math.abs(expected[i]!)));
    await expect.poll(() => page.locator('#embed-counts').textContent()).toMatch(/GPT-2 small38,597,376786,432/);
    expect(await page.locator('#embed-rows').getAttribute('aria-label')).toMatch(/^bars per dimension for token/);
    await page.screenshot({ path: join(shots, '2-embed.png'), fullPage: true });
  });

  it('issue 25: Embed shows a whole prompt through the first layer (chips, ids, wte + wpe = x per token), with the model in use once there is one', async () => {
    const on = await openPage('');
    await expect.poll(() => on.locator('#runtime').textContent(), { timeout: 60_000 }).toMatch(/(?=.*page: )(?=.*worker: )/);
    await on.getByRole('tab', { name: 'Embed' }).click();
    const columns = on.locator('#embed-sequence-grid .sequence-column[data-position]');
    const rows = (name: string) =>
      columns.evaluateAll(
        (nodes, row) =>
          nodes.map((node) => JSON.parse(node.querySelector(`canvas[data-row="${row}"]`)?.getAttribute('data-values') ?? 'null') as number[] | null),
        name,
      );
    const chipIds = () => columns.evaluateAll((nodes) => nodes.map((node) => Number(node.querySelector('.chip small')!.textContent)));
    const source = () => on.locator('#embed-sequence-source').textContent();
    await expect.poll(() => columns.count()).toBe(4);
    expect(await source()).toMatch(/^Random tables of this panel \(wte seed 1, wpe seed 2\) until a model is trained or loaded\. wpe is a learned table/);
    // The panel's own tables, made again here: x = wte[id] + wpe[p] for "emma".
    await ready({ backend: 'cpu' });
    const chars = CharTokenizer.fromCorpus(namesCorpus());
    const ids = chars.encode('emma');
    expect(await chipIds()).toEqual(ids);
    const wte = new TokenEmbedding({ vocabSize: chars.vocabSize, dim: 16, seed: 1, init: { kind: 'normal', std: 0.5 } });
    const wpe = new LearnedPositionalEmbedding({ maxLength: 16, dim: 16, seed: 2, init: { kind: 'normal', std: 0.5 } });
    const own = tf.tidy(() => tf.add(wte.apply(ids), wpe.apply(ids.length)).arraySync() as number[][]);
    wte.dispose();
    wpe.dispose();
    expect(maxRelativeDifference((await rows('x')).flat() as number[], own.flat())).toBeLessThan(1e-5);
    // A cell reads out on hover.
    const firstSum = on.locator('#embed-sequence-grid .sequence-column[data-position="0"] canvas[data-row="x"]');
    await firstSum.hover({ position: { x: 10, y: 2 } });
    await expect
      .poll(() => on.locator('#embed-readout').textContent())
      .toBe(
        `token "e" (id ${ids[0]}) at position 0, dimension 0: wte[${ids[0]}][0] = ${short((await rows('wte'))[0]![0])} + wpe[0][0] = ${short((await rows('wpe'))[0]![0])} → x = ${short(own[0]![0])}`,
      );
    // A prompt longer than the context is cut, and the note says so.
    await on.locator('#embed-prompt').fill('emmaoliviasophiaava');
    await expect.poll(() => columns.count()).toBe(16);
    expect(await source()).toMatch(/Cut to the model's context of 16 tokens: 19 given\.$/);
    // On a phone the sequence scrolls inside its box, not the page.
    await on.setViewportSize({ width: 390, height: 844 });
    await on.waitForTimeout(300);
    expect(await on.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    expect(await on.locator('#embed-sequence-grid').evaluate((node) => node.scrollWidth > node.clientWidth)).toBe(true);
    await on.screenshot({ path: join(shots, '25-embed-sequence-390x844.png'), fullPage: true });
    await on.setViewportSize({ width: 1280, height: 800 });
    // After a run, the model in use's numbers: those of the checkpoint it saves, and a RoPE model adds no position rows.
    await on.getByRole('tab', { name: 'Train' }).click();
    await on.locator('#train-position').selectOption('rope');
    await on.locator('#train-tie').uncheck();
    await train(on, 20);
    await on.getByRole('tab', { name: 'Embed' }).click();
    await on.locator('#embed-prompt').fill('emma');
    await expect.poll(() => columns.count()).toBe(4);
    await expect.poll(source).toMatch(/^The numbers of the model of run 1\. No position row is added: RoPE rotates/);
    expect(await source()).toMatch(/The output head has a matrix of its own \(untied\)\.$/);
    expect(await rows('wpe')).toEqual([null, null, null, null]);
    await on.getByRole('tab', { name: 'Save & load' }).click();
    const saved: Record<string, Buffer> = {};
    on.on('download', async (download) => {
      saved[download.suggestedFilename()] = readFileSync((await download.path())!);
    });
    await on.locator('#files-save').click();
    await expect.poll(() => Object.keys(saved).length, { timeout: 30_000 }).toBe(2);
    const trained = checkpointFromFiles({
      'model.safetensors': new Uint8Array(saved['model.safetensors']!),
      'tokenizer.json': saved['tokenizer.json']!.toString('utf8'),
    });
    const rowsOfModel = tf.tidy(() => trained.model.embedding.apply(trained.tokenizer.encode('emma')).arraySync() as number[][]);
    trained.model.dispose();
    expect(maxRelativeDifference((await rows('x')).flat() as number[], rowsOfModel.flat())).toBeLessThan(1e-5);
    await on.getByRole('tab', { name: 'Embed' }).click();
    await on.screenshot({ path: join(shots, '25-embed-sequence-1280x800.png'), fullPage: true });
    await on.close();
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('shows positional encodings, and the learned table refusing to extrapolate; bad lengths are errors beside the input', async () => {
    await tab('Positions');
    await expect.poll(() => page.locator('#positions-learned-message').textContent()).toMatch(/learned positions cannot extrapolate/);
    await expect.poll(() => page.locator('#positions-rope canvas').count()).toBeGreaterThan(0);
    for (const value of ['', '0']) {
      await page.locator('#positions-length').fill(value);
      await expect.poll(() => page.locator('#positions-error').textContent()).toMatch(/^Positions to show must be a whole number from 1 to 512; got /);
    }
    await page.locator('#positions-length').fill('48');
    await expect.poll(() => page.locator('#positions-error').isHidden()).toBe(true);
    await page.screenshot({ path: join(shots, '3-positions.png'), fullPage: true });
    // On a phone's width the long titles wrap above their plots.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(500);
    await page.screenshot({ path: join(shots, '3-positions-390px.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('trains in the worker on all cores: the loss falls, progress and samples appear', async () => {
    await tab('Train');
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    expect(await page.locator('#train-workers').inputValue()).toBe(String(Math.min(16, cores)));
    await expect.poll(() => page.locator('#train-estimate').textContent()).toMatch(/^≈ [\d,]+ parameters, ≈ \d+ MB per worker, ≈ [\d.]+ m?s per step/);
    const guessed = Number(await page.locator('#train-estimate').getAttribute('data-step-seconds'));
    const finished = await train(page, 80);
    speeds.push(`  default: ${finished}`);
    const measured = (32 * 16) / Number(/median ([\d,]+) tokens\/s/.exec(finished)![1]!.replaceAll(',', ''));
    speeds.push(`  default step: first guess ${(guessed * 1000).toFixed(0)} ms, measured ${(measured * 1000).toFixed(0)} ms`);
    const first = Number(await page.locator('#train-loss').getAttribute('data-first-loss'));
    const last = Number(await page.locator('#train-loss').getAttribute('data-last-loss'));
    expect(last).toBeLessThan(first - 0.5);
    expect(await page.locator('#train-progress').evaluate((node: HTMLProgressElement) => node.value)).toBe(1);
    await expect.poll(() => page.locator('#train-samples').textContent()).toMatch(/^after 80 steps:\n\S/);
    expect(await page.locator('#train-loss').getAttribute('aria-label')).toMatch(
      /run 1: char, names, 2L 4H 64d ctx 16, learned tied, \d+ workers?: done, loss from/,
    );
    await page.screenshot({ path: join(shots, '4-train.png'), fullPage: true });
  });

  it('issue 14: the same training on 1 worker and on all workers reaches the same losses; tokens/s of both', async () => {
    const all = String(await page.locator('#train-workers').getAttribute('max'));
    const results: Record<string, { losses: number[]; status: string }> = {};
    // A model with enough work per step for the workers to matter (the default one is mostly overhead).
    await page.locator('#train-dims').fill('128');
    await page.locator('#train-context').fill('32');
    for (const workers of ['1', all]) {
      await page.locator('#train-workers').fill(workers);
      const text = await train(page, 20);
      results[workers] = { losses: JSON.parse((await page.locator('#train-loss').getAttribute('data-losses'))!), status: text };
      speeds.push(`  ${workers} worker${workers === '1' ? '' : 's'} (2 layers, 128 dims, context 32, batch 32): ${text}`);
    }
    expect(results['1']!.losses).toHaveLength(20);
    expect(maxRelativeDifference(results[all]!.losses, results['1']!.losses)).toBeLessThan(1e-4);
    expect(results[all]!.status).toContain(`on ${all} worker`);
    await page.locator('#train-dims').fill('64');
    await page.locator('#train-context').fill('16');
  });

  it('issue 16.1: an error shows next to the control that caused it, in view, and clears when the panel changes', async () => {
    await page.locator('#train-heads').fill('0');
    await page.locator('#train-start').click();
    await expect.poll(() => page.locator('#train-error').textContent()).toBe('Heads must be a whole number from 1 to 16; got 0');
    expect(await inView(page, '#train-error')).toBe(true);
    expect(await page.locator('#train-heads').getAttribute('aria-invalid')).toBe('true');
    await page.locator('#train-heads').fill('');
    await page.locator('#train-start').click();
    await expect.poll(() => page.locator('#train-error').textContent()).toBe('Heads must be a whole number from 1 to 16; got an empty field');
    await page.screenshot({ path: join(shots, '7-train-error.png') });
    await page.locator('#train-heads').fill('4');
    await expect.poll(() => page.locator('#train-error').isHidden()).toBe(true);
    await tab('Explore');
    await page.locator('#explore-prompt').fill('');
    await page.locator('#explore-go').click();
    await expect.poll(() => page.locator('#explore-error').textContent()).toMatch(/^prompt: it has no tokens/);
    await tab('Positions');
    expect(await page.locator('#positions-error').isHidden()).toBe(true);
    await tab('Explore');
    await page.locator('#explore-prompt').fill('\\nmar');
    await expect.poll(() => page.locator('#explore-error').isHidden()).toBe(true);
  });

  it('explores the trained model: tokens on the attention axes, layers and heads bounded by the model', async () => {
    await page.locator('#explore-go').click();
    await expect.poll(() => page.locator('#explore-neighbours').textContent(), { timeout: 30_000 }).toMatch(/nearest to "a": /);
    await expect.poll(() => page.locator('#explore-analogy').textContent()).toMatch(/^"a" is to "e" as "o" is to: \S+ \(-?\d\.\d\d\)/);
    await expect.poll(() => page.locator('#explore-attention canvas').count()).toBeGreaterThan(0);
    expect(await page.locator('#explore-layer').getAttribute('max')).toBe('1');
    await page.locator('#explore-layer').fill('5');
    await expect.poll(() => page.locator('#explore-error').textContent()).toBe('Layer must be a whole number from 0 to 1; got 5');
    await page.locator('#explore-layer').fill('1');
    await expect.poll(() => page.locator('#explore-error').isHidden()).toBe(true);
    expect(await page.locator('#explore-attention').getAttribute('aria-label')).toMatch(/^attention, layer 1 head 0/);
    expect(await page.locator('#explore-prompt-note').textContent()).toBe('');
    await page.screenshot({ path: join(shots, '5-explore.png'), fullPage: true });
    // A prompt longer than the context is cut to its last tokens, and the page says so.
    await page.locator('#explore-prompt').fill('abcdefghij'.repeat(20));
    await page.locator('#explore-go').click();
    await expect
      .poll(() => page.locator('#explore-prompt-note').textContent())
      .toMatch(
        /^The prompt has 200 tokens; the model reads at most (\d+) \(its context\), so it sees the last \1: the attention and the next token are about those\.$/,
      );
    await page.locator('#explore-prompt').fill('\\nmar');
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
    await expect
      .poll(() => page.locator('#files-status').textContent(), { timeout: 30_000 })
      .toMatch(/^loaded model.safetensors \+ tokenizer.json: a 2-layer, 128-dim model/);
    await page.screenshot({ path: join(shots, '6-files.png'), fullPage: true });
    // The same files are a checkpoint directory for the CLI.
    const sampled = execFileSync('pnpm', ['exec', 'minigpt', 'sample', '--checkpoint', shots, '--tokens', '30', '--seed', '7'], { cwd: app, encoding: 'utf8' });
    expect(sampled.trim().length).toBeGreaterThan(0);
    // What the page trained has learned the names: the CLI scores them below guessing uniformly among the characters.
    const names = join(shots, 'names.txt');
    writeFileSync(names, namesCorpus());
    const scored = JSON.parse(
      execFileSync('pnpm', ['exec', 'minigpt', 'eval', '--checkpoint', shots, '--data', names, '--json'], { cwd: app, encoding: 'utf8' }),
    );
    expect(scored.loss).toBeLessThan(Math.log(CharTokenizer.fromCorpus(namesCorpus()).vocabSize) - 0.5);
  });

  it('opens a checkpoint that the minigpt CLI wrote; a broken one is named by its file and leaves the model in use', async () => {
    const out = mkdtempSync(join(tmpdir(), 'embedlab-cli-'));
    execFileSync('pnpm', ['exec', 'minigpt', 'train', '--steps', '3', '--samples', '0', '--position', 'rope', '--out', out], { cwd: app, stdio: 'ignore' });
    await page.locator('#files-open').setInputFiles([join(out, 'model.safetensors'), join(out, 'tokenizer.json')]);
    await expect
      .poll(() => page.locator('#files-status').textContent(), { timeout: 30_000 })
      .toMatch(/a \d+-layer, \d+-dim model \([\d,]+ parameters, rope positions\) at step 3, char tokenizer of 28 tokens/);
    await page.locator('#files-open').setInputFiles([
      { name: 'broken.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from('not a safetensors file at all') },
      { name: join(out, 'tokenizer.json').split('/').pop()!, mimeType: 'application/json', buffer: readFileSync(join(out, 'tokenizer.json')) },
    ]);
    await expect
      .poll(() => page.locator('#files-error').textContent(), { timeout: 30_000 })
      .toMatch(/^broken.safetensors \+ tokenizer.json: .*broken.safetensors/);
    expect(await page.locator('#files-status').textContent()).toBe('nothing loaded: the model in use is unchanged');
    rmSync(out, { recursive: true, force: true });
  });

  it('issue 24: fine-tunes a Hugging Face directory the CLI exported, training only the chosen parameters, the estimate beside', async () => {
    const out = mkdtempSync(join(tmpdir(), 'embedlab-cli-'));
    const hf = join(out, 'hf');
    execFileSync('pnpm', ['exec', 'minigpt', 'train', '--steps', '40', '--samples', '0', '--out', join(out, 'ck')], { cwd: app, stdio: 'ignore' });
    execFileSync('pnpm', ['exec', 'minigpt', 'export', '--checkpoint', join(out, 'ck'), '--format', 'hf', '--out', hf], { cwd: app, stdio: 'ignore' });
    await tab('Save & load');
    await page.locator('#files-open').setInputFiles(['model.safetensors', 'tokenizer.json', 'config.json'].map((name) => join(hf, name)));
    await expect
      .poll(() => page.locator('#files-status').textContent(), { timeout: 30_000 })
      .toMatch(/^loaded model.safetensors \+ tokenizer.json \+ config.json \(a Hugging Face GPT-2 directory\): a 2-layer, 64-dim model/);
    await tab('Train');
    await page.locator('#train-start-from').selectOption('current');
    await page.locator('#train-parts').fill('blocks:9');
    await expect.poll(() => page.locator('#train-estimate').textContent()).toMatch(/^Train: must be blocks within 0-1 \(this model has 2\)/);
    await page.locator('#train-start').click();
    await expect.poll(() => page.locator('#train-error').textContent()).toMatch(/^Train: must be blocks within 0-1/);
    await page.locator('#train-parts').fill('embeddings');
    // Gradients and moments for the token table alone: the estimate says so beside the settings.
    await expect.poll(() => page.locator('#train-estimate').textContent()).toMatch(/^fine-tunes model.safetensors; ≈ [\d,]+ parameters, ≈ \d+ MB per worker/);
    const text = await train(page, 20);
    expect(text).toMatch(/done, trained 20 steps/);
    // It starts from the exported weights: its first loss is that of a trained model, far below uniform guessing.
    const first = Number(await page.locator('#train-loss').getAttribute('data-first-loss'));
    expect(first).toBeLessThan(Math.log(28) - 0.3);
    expect(await page.locator('#train-loss').getAttribute('aria-label')).toMatch(
      /fine-tune of model.safetensors, names, training embeddings, \d+ workers?: done/,
    );
    await page.locator('#train-start-from').selectOption('random');
    await page.locator('#train-parts').fill('all');
    rmSync(out, { recursive: true, force: true });
  });

  it('issue 16.3: loading a checkpoint while a run trains is refused, and the run goes on to a clean stop', async () => {
    await tab('Train');
    await page.locator('#train-steps').fill('2000');
    await page.locator('#train-start').click();
    await expect
      .poll(() => status(page), { timeout: 60_000 })
      .toMatch(/step \d+ of 2000 \(\d+%\), loss [\d.]+, [\d,]+ tokens\/s on \d+ workers?, about .* left/);
    // Screen readers heard the start, not every step; leaving the page mid-run asks first.
    expect(await page.locator('#train-announce').textContent()).toMatch(/^run \d+: started on \d+ workers?$/);
    expect(await page.evaluate(() => !window.dispatchEvent(new Event('beforeunload', { cancelable: true })))).toBe(true);
    await page.locator('#train-pause').click();
    await expect.poll(() => status(page)).toMatch(/: paused at step \d+ of 2000$/);
    await tab('Save & load');
    await page.locator('#files-open').setInputFiles([join(shots, 'model.safetensors'), join(shots, 'tokenizer.json')]);
    await expect.poll(() => page.locator('#files-error').textContent()).toMatch(/^a run is training: stop it/);
    await tab('Train');
    await page.locator('#train-pause').click();
    await page.locator('#train-stop').click();
    await expect.poll(() => status(page), { timeout: 60_000 }).toMatch(/: stopped, stopped at step \d+ of 2000, median/);
    await tab('Save & load');
    await page.locator('#files-open').setInputFiles([join(shots, 'model.safetensors'), join(shots, 'tokenizer.json')]);
    await expect.poll(() => page.locator('#files-status').textContent(), { timeout: 30_000 }).toMatch(/^loaded model.safetensors/);
    expect(await page.locator('#files-error').isHidden()).toBe(true);
    expect(await page.evaluate(() => !window.dispatchEvent(new Event('beforeunload', { cancelable: true })))).toBe(false);
  });

  it('issue 16.2: a failed run ends as failed with its reason, and leaves no empty legend entry; runs can be cleared', async () => {
    await tab('Train');
    await page.locator('#train-corpus-file').setInputFiles({ name: 'short.txt', mimeType: 'text/plain', buffer: Buffer.from(`${'abcdefghij '.repeat(14)}\n`) });
    await expect.poll(() => page.locator('#train-corpus-info').textContent()).toBe('short.txt: 155 characters');
    await page.locator('#train-context').fill('128');
    await page.locator('#train-workers').fill('1');
    await train(page, 20, /^run \d+: failed, .*fewer than blockSize \+ 1 = 129/);
    await expect.poll(() => page.locator('#train-error').textContent()).toMatch(/^run \d+ failed: /);
    expect(await page.locator('#train-loss').getAttribute('aria-label')).not.toMatch(/short\.txt/);
    await page.screenshot({ path: join(shots, '8-train-failed.png') });
    await page.locator('#train-clear').click();
    expect(await page.locator('#train-loss').getAttribute('aria-label')).toBe('loss chart: no runs yet');
    await page.locator('#train-context').fill('16');
  });

  it('issue 16.6: the default char tokenizer trains on a one-line corpus (no newline); a PNG is refused as a corpus', async () => {
    await page
      .locator('#train-corpus-file')
      .setInputFiles({ name: 'one-line.txt', mimeType: 'text/plain', buffer: Buffer.from('the cat sat on the mat and the dog sat on the log; '.repeat(40)) });
    await expect.poll(() => page.locator('#train-corpus-info').textContent()).toBe('one-line.txt: 2,040 characters');
    await train(page, 20);
    await expect.poll(() => page.locator('#train-samples').textContent()).toMatch(/^after 20 steps:\n/);
    await page.locator('#train-corpus-file').setInputFiles({
      name: 'picture.png',
      mimeType: 'image/png',
      buffer: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0xff, 0xfe]),
    });
    await expect.poll(() => page.locator('#train-error').textContent()).toMatch(/^picture.png is not a UTF-8 text file \(the browser says image\/png\)/);
    expect(await page.locator('#train-corpus-info').textContent()).toBe('one-line.txt: 2,040 characters');
    await page.locator('#train-corpus-file').setInputFiles({ name: 'spaces.txt', mimeType: 'text/plain', buffer: Buffer.from(' '.repeat(200)) });
    await expect
      .poll(() => page.locator('#train-error').textContent())
      .toBe('spaces.txt has 0 characters that are not whitespace; a corpus needs at least 100');
  });

  it('issue 25: a corpus counts characters, not UTF-16 units; UTF-16 files with a byte-order mark are read, without one they are named', async () => {
    const on = await openPage('');
    await on.getByRole('tab', { name: 'Train' }).click();
    const info = () => on.locator('#train-corpus-info').textContent();
    const pick = (name: string, buffer: Buffer) => on.locator('#train-corpus-file').setInputFiles({ name, mimeType: 'text/plain', buffer });
    await pick('emoji.txt', Buffer.from('😀'.repeat(3000)));
    await expect.poll(info).toBe('emoji.txt: 3,000 characters');
    const text = 'the cat sat on the mat, naïve café 😀\n'.repeat(10);
    const count = [...text].length;
    const utf16be = Buffer.from(text, 'utf16le').swap16();
    await pick('little-endian.txt', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    await expect.poll(info).toBe(`little-endian.txt: ${count} characters`);
    await pick('big-endian.txt', Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be]));
    await expect.poll(info).toBe(`big-endian.txt: ${count} characters`);
    await pick('no-mark.txt', Buffer.from(text, 'utf16le'));
    await expect
      .poll(() => on.locator('#train-error').textContent())
      .toBe('no-mark.txt looks like UTF-16 text without a byte-order mark; save it as UTF-8 (or as UTF-16 with its mark)');
    expect(await info()).toBe(`big-endian.txt: ${count} characters`);
    // The note sits right under the file input it describes.
    const [input, note] = await Promise.all(['#train-corpus-file', '#train-corpus-info'].map((id) => on.locator(id).boundingBox()));
    expect(note!.y - (input!.y + input!.height)).toBeLessThan(24);
    expect(Math.abs(note!.x - input!.x)).toBeLessThan(24);
    await on.close();
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('issue 25: a BPE run on megabytes shows the tokenizer at work, stops at once while it learns and says where; runs keep their numbers; Clear has nothing to clear', async () => {
    const on = await openPage('');
    await expect.poll(() => on.locator('#runtime').textContent(), { timeout: 60_000 }).toMatch(/(?=.*page: )(?=.*worker: )/);
    await on.getByRole('tab', { name: 'Train' }).click();
    // 4 MB of text in 2,000 made-up words (a linear congruential generator: the same text every run).
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const words = Array.from({ length: 2000 }, () => Array.from({ length: 3 + next(7) }, () => 'etaoinshrdlucmfwyp'[next(18)]).join(''));
    const parts: string[] = [];
    for (let size = 0; size < 4e6; size += parts.at(-1)!.length) parts.push(`${words[next(words.length)]}${next(12) === 0 ? '\n' : ' '}`);
    await on.locator('#train-corpus-file').setInputFiles({ name: 'words.txt', mimeType: 'text/plain', buffer: Buffer.from(parts.join('')) });
    await expect.poll(() => on.locator('#train-corpus-info').textContent()).toMatch(/^words.txt: 4,0\d\d,\d\d\d characters$/);
    await on.locator('#train-tokenizer').selectOption('bpe');
    await on.locator('#train-steps').fill('10');
    await on.locator('#train-status').evaluate((node) => {
      const seen: string[] = [];
      (window as unknown as { statuses: string[] }).statuses = seen;
      new MutationObserver(() => seen.push(node.textContent!)).observe(node, { childList: true, characterData: true, subtree: true });
    });
    await on.locator('#train-start').click();
    await expect
      .poll(() => status(on), { timeout: 30_000 })
      .toMatch(/^run 1: the BPE tokenizer (counts the words of 4,0\d\d,\d\d\d characters|learns merge \d+ of 128)…$/);
    await on.locator('#train-stop').click();
    // At once: the tokenizer's worker is ended, not waited for (a wait would end as "the worker did not finish its step").
    await expect.poll(() => status(on), { timeout: 5_000 }).toMatch(/^run 1: stopped, before step 1, while the BPE tokenizer (counts|learns)/);
    expect(await on.locator('#train-clear').isDisabled()).toBe(true);
    const finished = await train(on, 10);
    expect(finished).toMatch(/^run 2: done, trained 10 steps/);
    const statuses = await on.evaluate(() => (window as unknown as { statuses: string[] }).statuses);
    for (const phase of [
      /^run 2: the BPE tokenizer counts the words of /,
      /^run 2: the BPE tokenizer learns merge \d+ of 128…$/,
      /^run 2: the BPE tokenizer encodes the corpus: \d+%…$/,
    ])
      expect(
        statuses.some((text) => phase.test(text)),
        String(phase),
      ).toBe(true);
    expect(await on.locator('#train-loss').getAttribute('aria-label')).toMatch(/^loss chart: run 2: bpe, words.txt, /);
    expect(await on.locator('#train-clear').isEnabled()).toBe(true);
    await on.close();
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('issue 16.4: a model too large for the tab is refused before it starts, with the estimate beside the settings', async () => {
    for (const [id, value] of [
      ['#train-layers', '8'],
      ['#train-dims', '256'],
      ['#train-heads', '16'],
      ['#train-context', '128'],
      ['#train-batch', '32'],
      ['#train-workers', '1'],
    ] as const)
      await page.locator(id).fill(value);
    await expect
      .poll(() => page.locator('#train-estimate').textContent())
      .toMatch(/≈ [\d.]+ GB per worker, .* too large: it would not fit in the wasm memory of a tab$/);
    // The library's estimate (what minigpt train --dry-run prints and train checks), not a formula of the panel's own:
    // the names preset with these sizes (BPE: 384 tokens whatever the corpus), the batch in micro-batches of the cores that divide it.
    await page.locator('#train-tokenizer').selectOption('bpe');
    const cores = Math.max(1, Math.min(16, await page.evaluate(() => navigator.hardwareConcurrency)));
    let micro = Math.min(32, cores);
    while (32 % micro !== 0) micro--;
    const config = { ...PRESETS.names.model, nLayer: 8, nEmbd: 256, nHead: 16, blockSize: 128, vocabSize: 384 };
    const { perWorker, parameterCount } = estimateMemory(config, { mode: 'train', batchSize: 32 / micro, microBatches: micro, workers: 1 });
    await expect
      .poll(() => page.locator('#train-estimate').textContent())
      .toMatch(new RegExp(`^≈ ${parameterCount.toLocaleString('en-US')} parameters, ≈ ${(perWorker / 1e9).toFixed(1)} GB per worker, `));
    await page.locator('#train-tokenizer').selectOption('char');
    await page.locator('#train-start').click();
    await expect.poll(() => page.locator('#train-error').textContent()).toMatch(/^this model needs ≈ [\d.]+ GB per worker, more than the 1.0 GB/);
    expect(await page.locator('#train-start').isEnabled()).toBe(true);
    await page.screenshot({ path: join(shots, '9-train-too-large.png') });
    for (const [id, value] of [
      ['#train-layers', '2'],
      ['#train-dims', '64'],
      ['#train-heads', '4'],
      ['#train-context', '16'],
    ] as const)
      await page.locator(id).fill(value);
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('issue 25: the time estimate is a product timed on this device, never refuses a run, then takes the median speed of runs; fewer workers than asked say why', async () => {
    const on = await openPage('');
    await expect.poll(() => on.locator('#runtime').textContent(), { timeout: 60_000 }).toMatch(/(?=.*page: )(?=.*worker: )/);
    await on.getByRole('tab', { name: 'Train' }).click();
    const estimate = () => on.locator('#train-estimate').textContent();
    const stepSeconds = async () => Number(await on.locator('#train-estimate').getAttribute('data-step-seconds'));
    await expect.poll(estimate).toMatch(/ \(a first guess from a product of this size timed on this device\)$/);
    const cores = await on.evaluate(() => Math.max(1, Math.min(16, navigator.hardwareConcurrency)));
    if (cores >= 2) {
      await on.locator('#train-batch').fill('3');
      await on.locator('#train-workers').fill('2');
      await expect
        .poll(estimate)
        .toMatch(/; trains on 1 worker, not 2: batch 3 splits evenly into 1 micro-batch only \(batch 4 gives each of 2 workers a share\)$/);
      await on.locator('#train-workers').fill(String(cores));
    }
    // The model a fixed first guess once refused as "≈ 27 s a step" (it trains at about 2 s here).
    for (const [id, value] of [
      ['#train-layers', '4'],
      ['#train-dims', '256'],
      ['#train-heads', '4'],
      ['#train-context', '64'],
      ['#train-batch', '32'],
    ] as const)
      await on.locator(id).fill(value);
    await expect.poll(estimate).toMatch(/^≈ [\d,]+ parameters, ≈ \d+ MB per worker, ≈ [\d.]+ m?s per step/);
    const guessed = await stepSeconds();
    const finished = await train(on, 10);
    const tokensPerSecond = Number(/median ([\d,]+) tokens\/s/.exec(finished)![1]!.replaceAll(',', ''));
    const measured = (32 * 64) / tokensPerSecond;
    speeds.push(`  step of 4 layers x 256, context 64, batch 32: first guess ${guessed.toFixed(2)} s, measured ${measured.toFixed(2)} s`);
    // The next estimate of the same model is this run's own speed (the page's median of its steps, after the first three).
    await on.locator('#train-steps').fill('20');
    await expect.poll(estimate).toMatch(/ \(the median speed of 1 run on this device\)/);
    expect((await stepSeconds()) / measured).toBeGreaterThan(0.5);
    expect((await stepSeconds()) / measured).toBeLessThan(2);
    await on.close();
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('issue 16.4: Stop always works: a step that does not come back ends the worker and starts a fresh one', async () => {
    const other = await openPage('?stopAfter=0');
    await expect.poll(() => other.locator('#runtime').textContent(), { timeout: 60_000 }).toMatch(/(?=.*page: )(?=.*worker: )/);
    await other.getByRole('tab', { name: 'Train' }).click();
    await other.locator('#train-steps').fill('2000');
    await other.locator('#train-start').click();
    await expect.poll(() => status(other), { timeout: 60_000 }).toMatch(/step \d+ of 2000/);
    await other.locator('#train-stop').click();
    await expect
      .poll(() => status(other), { timeout: 10_000 })
      .toMatch(/^run 1: stopped, at step \d+ of 2000: the worker did not finish its step within 1 ms of Stop, so it was restarted/);
    // Focus went back to Train, which works on the new worker.
    expect(await other.evaluate(() => document.activeElement?.id)).toBe('train-start');
    await train(other, 20);
    await other.close();
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('issue 16.7: the production build works under a sub-path from a plain static server (no COOP/COEP): 1 worker, 1 thread, and it says why', async () => {
    const base = `http://127.0.0.1:${staticPort}${SUB_PATH}`;
    const plain = await openPage('?threads=2', base);
    await expect.poll(() => plain.locator('#runtime').textContent(), { timeout: 60_000 }).toMatch(/(?=.*page: )(?=.*worker: )/);
    expect(await plain.locator('#runtime').textContent()).toMatch(
      /worker: wasm \+ SIMD, 1 thread \(asked for 2: threads need a cross-origin-isolated page, served with COOP\/COEP headers\).*not cross-origin isolated/,
    );
    // Styled (the stylesheet loaded from the sub-path), and the GPT-2 vocabulary came too.
    expect(await plain.evaluate(() => getComputedStyle(document.body).maxWidth)).toBe('1100px');
    await expect.poll(() => plain.locator('#token-count').textContent(), { timeout: 30_000 }).toMatch(/vocabulary 50,257/);
    await plain.getByRole('tab', { name: 'Train' }).click();
    expect(await plain.locator('#train-workers').inputValue()).toBe('1');
    speeds.push(`  sub-path, not isolated: ${await train(plain, 20)}`);
    // Not isolated: one thread per worker, and still as many workers as asked.
    expect(await plain.locator('#runtime').textContent()).toMatch(/ · not cross-origin isolated \(1 thread per worker\)$/);
    if ((await plain.evaluate(() => navigator.hardwareConcurrency)) >= 2) {
      await plain.locator('#train-workers').fill('2');
      expect(await train(plain, 10)).toMatch(/ on 2 workers, /);
    }
    await plain.screenshot({ path: join(shots, '10-sub-path.png'), fullPage: true });
    await plain.close();
    const bad = await openPage('?threads=abc', base);
    await expect
      .poll(() => bad.locator('#runtime').textContent(), { timeout: 60_000 })
      .toMatch(/^ignored \?threads=abc: it must be a whole number from 1 to 64 · .*worker: wasm/);
    await bad.close();
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('issue 25: every panel at 1280×800 and 390×844 (screenshots kept in test-results): no sideways page, touch targets of 44 px on the phone, captions and legends in view', async () => {
    const on = await openPage('');
    await expect.poll(() => on.locator('#runtime').textContent(), { timeout: 60_000 }).toMatch(/(?=.*page: )(?=.*worker: )/);
    // A run, a comparison and an exploration, so every chart has something to draw.
    await train(on, 20);
    await train(on, 20);
    await on.getByRole('tab', { name: 'Compare' }).click();
    for (const [id, value] of [
      ['#compare-steps', '10'],
      ['#compare-dims', '16'],
    ] as const)
      await on.locator(id).fill(value);
    for (const p of ['sinusoidal', 'alibi', 'none']) await on.locator(`#compare-position-${p}`).uncheck();
    await on.locator('#compare-scaling-linear').check();
    await on.locator('#compare-start').click();
    await expect.poll(() => compareStatus(on), { timeout: 120_000 }).toMatch(/: done, /);
    await on.getByRole('tab', { name: 'Explore' }).click();
    await on.locator('#explore-go').click();
    await expect.poll(() => on.locator('#explore-attention canvas').count(), { timeout: 30_000 }).toBeGreaterThan(0);
    const tabs = ['Tokenize', 'Embed', 'Positions', 'Train', 'Compare', 'Explore', 'Save & load'];
    for (const [width, height] of [
      [1280, 800],
      [390, 844],
    ] as const) {
      await on.setViewportSize({ width, height });
      for (const name of tabs) {
        await on.getByRole('tab', { name }).click();
        await on.waitForTimeout(400);
        await on.screenshot({ path: join(shots, `25-${name.replace(/\W+/g, '-').toLowerCase()}-${width}x${height}.png`), fullPage: true });
        expect(
          await on.evaluate(() => document.documentElement.scrollWidth - window.innerWidth),
          `${name} at ${width} px scrolls sideways`,
        ).toBeLessThanOrEqual(0);
        if (width > 600) continue;
        const small = await on.evaluate(() =>
          [...document.querySelectorAll<HTMLElement>('[role=tab], section:not([hidden]) :is(button, select, input:not([type=checkbox]):not([hidden]))')]
            .filter((node) => node.offsetParent !== null && node.getBoundingClientRect().height < 44)
            .map((node) => node.id || node.textContent),
        );
        expect(small, `${name}: touch targets under 44 px`).toEqual([]);
      }
    }
    // The results caption wraps inside the phone's width; the run list under the loss chart names each run.
    await on.getByRole('tab', { name: 'Compare' }).click();
    expect(await on.locator('#compare-results-caption').evaluate((node) => node.getBoundingClientRect().right)).toBeLessThanOrEqual(390);
    await on.getByRole('tab', { name: 'Train' }).click();
    expect(await on.locator('#train-runs li').allTextContents()).toEqual([
      expect.stringMatching(/^run 1: char, names, 2L 4H 64d ctx 16, learned tied, \d workers?: done$/),
      expect.stringMatching(/^run 2: char, names, .*: done$/),
    ]);
    await on.close();
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('Compare: the default budget end to end: curves drawn live, one per variant; finite numbers in each row, learned refused past 1×; tied vs untied side by side', async () => {
    const on = await comparePage();
    await expect.poll(() => on.locator('#compare-plan').textContent()).toMatch(/^10 models of 60 steps each .* at 16, 32, 64, 128 positions/);
    // Every state of the loss-by-position chart, as the rows arrive.
    await on.locator('#compare-position-loss').evaluate((node) => {
      const seen: string[] = [];
      (window as unknown as { seriesSeen: string[] }).seriesSeen = seen;
      new MutationObserver(() => seen.push(node.getAttribute('data-series')!)).observe(node, { attributeFilter: ['data-series'] });
    });
    await on.locator('#compare-start').click();
    await expect
      .poll(() => compareStatus(on), { timeout: 60_000 })
      .toMatch(/model \d+ of 10 \(\w+-\w+\), step \d+ of 60, loss [\d.]+, [\d,]+ tokens\/s, about .* left/);
    await expect.poll(() => compareStatus(on), { timeout: 300_000 }).toMatch(/: (done|stopped|failed), /);
    expect(await compareStatus(on)).toMatch(/^comparison 1: done, trained 10 models of 60 steps; 10 of 10 rows, in [\d.]+ s$/);
    const seconds = Number(await on.locator('#compare-status').getAttribute('data-seconds'));
    speeds.push(`  Compare, default budget (10 models of 60 steps, names corpus): ${seconds} s`);
    expect(seconds).toBeLessThan(60);
    // The rows of comparisonVariants(all five, 'both'), in its order.
    const names = ['learned', 'sinusoidal', 'rope', 'alibi', 'none'].flatMap((p) => [`${p}-tied`, `${p}-untied`]);
    // The char tokenizer's vocabulary: the distinct characters of the names corpus.
    const vocabulary = new Set(namesCorpus()).size;
    const rows = await resultRows(on);
    expect(rows.map((r) => r.variant)).toEqual(names);
    for (const row of rows) {
      expect(row.parameters).toBeGreaterThan(10_000);
      if (row.variant.startsWith('learned')) {
        expect(row.cells.map((c) => [c.multiple, c.refused])).toEqual([
          [1, false],
          [2, true],
        ]);
        expect(row.cells[1]!.text).toMatch(/^refused at 2×–8×: evaluate: context 32 exceeds blockSize 16; learned positions have no row past/);
      } else expect(row.cells.map((c) => [c.multiple, c.refused])).toEqual([1, 2, 4, 8].map((m) => [m, false]));
      for (const cell of row.cells.filter((c) => !c.refused)) {
        expect(cell.loss).toBeGreaterThan(0);
        expect(cell.loss).toBeLessThan(Math.log(vocabulary) + 1);
        // Perplexity is e^loss (both rounded for the table).
        expect(Math.abs(cell.perplexity - Math.exp(cell.loss)) / cell.perplexity).toBeLessThan(2e-3);
      }
    }
    // One series per row, and the rows came one at a time while it ran.
    expect(JSON.parse((await on.locator('#compare-position-loss').getAttribute('data-series'))!)).toEqual(names);
    const seen = [...new Set(await on.evaluate(() => (window as unknown as { seriesSeen: string[] }).seriesSeen))].map((s) => JSON.parse(s).length);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.filter((n) => n > 0 && n < names.length).length).toBeGreaterThanOrEqual(5);
    expect(await on.locator('#compare-position-loss').getAttribute('aria-label')).toMatch(
      /^loss by position chart, trained length 16: learned-tied: 1× [\d.]+, 2× refused/,
    );
    expect(await on.locator('#compare-train-loss').getAttribute('aria-label')).toMatch(
      /^training loss chart: learned-tied from [\d.]+ at step 1 to [\d.]+ at step 60; /,
    );
    // Tied vs untied: untying adds an output matrix, one row of 32 dimensions per token.
    const tying = await on.locator('#compare-tying tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((cell) => cell.textContent!)));
    expect(tying.map((r) => r[0])).toEqual(['learned', 'sinusoidal', 'rope', 'alibi', 'none']);
    for (const [, tied, untied, adds, lossTied, lossUntied] of tying) {
      expect(Number(untied!.replaceAll(',', '')) - Number(tied!.replaceAll(',', ''))).toBe(vocabulary * 32);
      expect(adds).toBe(String(vocabulary * 32));
      expect(Number(lossTied)).toBeGreaterThan(0);
      expect(Number(lossUntied)).toBeGreaterThan(0);
    }
    expect(await on.locator('#compare-tying-note').textContent()).toMatch(
      new RegExp(`^Untying gives the output head a matrix of its own: ${vocabulary * 32} more parameters \\(${vocabulary} tokens × 32 dimensions\\)`),
    );
    await on.screenshot({ path: join(shots, '11-compare.png'), fullPage: true });
    await on.setViewportSize({ width: 390, height: 844 });
    await on.waitForTimeout(500);
    await on.screenshot({ path: join(shots, '11-compare-390px.png'), fullPage: true });
    await on.setViewportSize({ width: 1280, height: 900 });
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('Compare: the numbers are those of `minigpt compare` with the same settings (names preset, learned and rope, linear:4)', async () => {
    const on = await comparePage();
    for (const [id, value] of [
      ['#compare-steps', '10'],
      ['#compare-batch', '32'],
      ['#compare-context', '16'],
      ['#compare-layers', '2'],
      ['#compare-heads', '4'],
      ['#compare-dims', '64'],
    ] as const)
      await on.locator(id).fill(value);
    for (const p of ['sinusoidal', 'alibi', 'none']) await on.locator(`#compare-position-${p}`).uncheck();
    await on.locator('#compare-position-learned').check();
    await on.locator('#compare-position-rope').check();
    await on.locator('#compare-tie').selectOption('tied');
    await on.locator('#compare-scaling-yarn').uncheck();
    await on.locator('#compare-scaling-linear').check();
    await on.locator('#compare-factor').fill('4');
    await on.locator('#compare-start').click();
    await expect.poll(() => compareStatus(on), { timeout: 300_000 }).toMatch(/: (done|stopped|failed), /);
    expect(await compareStatus(on)).toMatch(/: done, trained 2 models of 10 steps; 3 of 3 rows/);
    expect(await on.locator('#compare-tying-note').textContent()).toMatch(/^Choose Head: both/);
    const rows = await resultRows(on);
    const out = mkdtempSync(join(tmpdir(), 'embedlab-compare-'));
    execFileSync(
      'pnpm',
      ['exec', 'minigpt', 'compare', '--out', out, '--positions', 'learned,rope', '--tie', 'tied', '--rope-scaling', 'linear:4', '--steps', '10', '--json'],
      {
        cwd: app,
        stdio: 'ignore',
      },
    );
    const cli = (JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { variants: VariantResult[] }).variants;
    rmSync(out, { recursive: true, force: true });
    expect(rows.map((r) => r.variant)).toEqual(cli.map((v) => v.name));
    for (const [i, row] of rows.entries()) {
      expect(row.parameters).toBe(cli[i]!.parameters);
      const shown = row.cells.filter((c) => !c.refused);
      const expected = cli[i]!.contexts.filter((c) => c.loss !== null);
      expect(shown.map((c) => c.multiple)).toEqual(expected.map((c) => c.multiple));
      // The table shows 3 decimals; the browser's threads may sum in another order.
      for (const [k, cell] of shown.entries()) expect(Math.abs(cell.loss - expected[k]!.loss!)).toBeLessThan(2e-3);
    }
  });

  it('issue 25: Compare trains every encoding tied and untied with all four RoPE scalings in one comparison (the second scaling of an untied RoPE model used to free it)', async () => {
    const on = await openPage('');
    await expect.poll(() => on.locator('#runtime').textContent(), { timeout: 60_000 }).toMatch(/(?=.*page: )(?=.*worker: )/);
    await on.getByRole('tab', { name: 'Compare' }).click();
    for (const [id, value] of [
      ['#compare-steps', '10'],
      ['#compare-batch', '8'],
      ['#compare-context', '8'],
      ['#compare-layers', '1'],
      ['#compare-heads', '2'],
      ['#compare-dims', '16'],
    ] as const)
      await on.locator(id).fill(value);
    for (const p of ['learned', 'sinusoidal', 'rope', 'alibi', 'none']) await on.locator(`#compare-position-${p}`).check();
    const scalings = ['linear', 'dynamic', 'yarn', 'llama3'];
    for (const s of scalings) await on.locator(`#compare-scaling-${s}`).check();
    await on.locator('#compare-tie').selectOption('untied');
    await on.locator('#compare-tie').selectOption('both');
    // Before this page's first comparison, Head "both" already means the side by side will fill in.
    expect(await on.locator('#compare-tying-note').textContent()).toMatch(/^The side by side fills in when/);
    await on.locator('#compare-start').click();
    await expect.poll(() => compareStatus(on), { timeout: 300_000 }).toMatch(/: (done|stopped|failed), /);
    expect(await compareStatus(on)).toMatch(/: done, trained 10 models of 10 steps; 18 of 18 rows/);
    const rows = await resultRows(on);
    const factor = await on.locator('#compare-factor').inputValue();
    expect(rows.map((r) => r.variant)).toEqual(
      ['learned', 'sinusoidal', 'rope', 'alibi', 'none'].flatMap((p) =>
        ['tied', 'untied'].flatMap((t) => [`${p}-${t}`, ...(p === 'rope' ? scalings.map((s) => `${p}-${t}+${s}:${factor}`) : [])]),
      ),
    );
    for (const row of rows.filter((r) => !r.variant.startsWith('learned')))
      for (const cell of row.cells) expect(cell.loss, `${row.variant} at ${cell.multiple}x`).toBeGreaterThan(0);
    await on.close();
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('Compare: Stop ends it after the current step; a comparison and a training run refuse each other; bad settings are errors beside their controls', async () => {
    const on = await comparePage();
    for (const p of ['learned', 'sinusoidal', 'rope', 'alibi', 'none']) await on.locator(`#compare-position-${p}`).uncheck();
    await on.locator('#compare-start').click();
    await expect.poll(() => on.locator('#compare-error').textContent()).toBe('Encodings: choose at least one');
    expect(await inView(on, '#compare-error')).toBe(true);
    await on.locator('#compare-position-alibi').check();
    await expect.poll(() => on.locator('#compare-error').isHidden()).toBe(true);
    await on.locator('#compare-scaling-yarn').check();
    await on.locator('#compare-start').click();
    await expect.poll(() => on.locator('#compare-error').textContent()).toMatch(/^RoPE scalings change rope models only/);
    for (const p of ['learned', 'sinusoidal', 'rope', 'none']) await on.locator(`#compare-position-${p}`).check();
    for (const s of ['linear', 'yarn']) await on.locator(`#compare-scaling-${s}`).uncheck();
    await on.locator('#compare-dims').fill('32');
    await on.locator('#compare-heads').fill('3');
    await on.locator('#compare-start').click();
    await expect.poll(() => on.locator('#compare-error').textContent()).toBe('Dimensions (32) must be a multiple of Heads (3)');
    expect(await on.locator('#compare-heads').getAttribute('aria-invalid')).toBe('true');
    for (const [id, value] of [
      ['#compare-heads', '2'],
      ['#compare-layers', '1'],
      ['#compare-batch', '16'],
      ['#compare-steps', '2000'],
    ] as const)
      await on.locator(id).fill(value);
    await on.locator('#compare-tie').selectOption('both');
    await on.locator('#compare-start').click();
    await expect.poll(() => compareStatus(on), { timeout: 60_000 }).toMatch(/model 1 of 10 \(learned-tied\), step \d+ of 2000/);
    expect(await on.evaluate(() => !window.dispatchEvent(new Event('beforeunload', { cancelable: true })))).toBe(true);
    // Train refuses while the worker compares.
    await on.getByRole('tab', { name: 'Train' }).click();
    await on.locator('#train-start').click();
    await expect.poll(() => on.locator('#train-error').textContent()).toBe('a comparison is running: stop it (Compare, Stop) or let it finish, then train');
    expect(await status(on)).toBe('ready');
    await on.getByRole('tab', { name: 'Compare' }).click();
    await on.locator('#compare-stop').click();
    await expect
      .poll(() => compareStatus(on), { timeout: 30_000 })
      .toMatch(/^comparison \d+: stopped, stopped during learned-tied at step \d+ of 2000; 0 of 10 rows finished, in /);
    expect(await on.evaluate(() => document.activeElement?.id)).toBe('compare-start');
    expect(await on.locator('#compare-results tbody tr').first().textContent()).toBe('learned-tiedstopped before its evaluation');
    // Compare refuses while Train trains; once that run is stopped, it compares again.
    await on.getByRole('tab', { name: 'Train' }).click();
    await on.locator('#train-steps').fill('2000');
    await on.locator('#train-start').click();
    await expect.poll(() => status(on), { timeout: 60_000 }).toMatch(/step \d+ of 2000/);
    await on.getByRole('tab', { name: 'Compare' }).click();
    await on.locator('#compare-start').click();
    await expect.poll(() => on.locator('#compare-error').textContent()).toBe('a run is training: stop it (Train, Stop) or let it finish, then compare');
    expect(await compareStatus(on)).toMatch(/stopped/);
    await on.getByRole('tab', { name: 'Train' }).click();
    await on.locator('#train-stop').click();
    await expect.poll(() => status(on), { timeout: 60_000 }).toMatch(/: stopped, /);
    await on.getByRole('tab', { name: 'Compare' }).click();
    await on.locator('#compare-steps').fill('10');
    await on.locator('#compare-tie').selectOption('tied');
    await on.locator('#compare-start').click();
    await expect.poll(() => compareStatus(on), { timeout: 120_000 }).toMatch(/: done, trained 5 models of 10 steps; 5 of 5 rows/);
    await on.close();
    comparing = undefined;
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
    await other.getByRole('tab', { name: 'Train' }).click();
    await other.locator('#train-workers').fill('1');
    speeds.push(`  ${query}, 1 worker: ${await train(other, 80)}`);
    await other.close();
    expect(problems, problems.join('\n')).toEqual([]);
  });
});
