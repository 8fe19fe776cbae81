// The packages as users get them: packed to tarballs, installed with npm into fresh projects
// outside the workspace (registry packages such as tfjs come from the npm registry), and run
// in plain Node ESM and through a Vite build opened in headless Chromium.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { namesCorpus } from '@embedlab/mini-gpt';
import { chromiumLaunchOptions, expectClose } from '@embedlab/test-utils';
import { chromium } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'embedlab-consumers-'));
const tarballs: Record<string, string> = {};
const PACKAGES = ['runtime', 'tokenizer', 'token-embedding', 'positional-encodings', 'weight-tying', 'mini-gpt', 'mini-gpt-cli'];

function run(cwd: string, command: string, args: string[]): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_fund: 'false', npm_config_audit: 'false' } });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** A fresh project that depends on the named packages' tarballs (and pins their internal dependencies to tarballs too). */
function project(name: string, packages: string[], extra: Record<string, string> = {}, files: Record<string, string> = {}): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const local = Object.fromEntries(PACKAGES.map((p) => [`@embedlab/${p}`, `file:${tarballs[p]}`]));
  const dependencies = { ...Object.fromEntries(packages.map((p) => [`@embedlab/${p}`, `file:${tarballs[p]}`])), ...extra };
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module', dependencies, overrides: local }, null, 2));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  run(dir, 'npm', ['install', '--no-package-lock', '--loglevel=error']);
  return dir;
}

function copiesOf(dir: string, packageName: string): number {
  let count = 0;
  const walk = (nodeModules: string) => {
    if (!existsSync(nodeModules)) return;
    for (const entry of readdirSync(nodeModules)) {
      if (entry.startsWith('@')) {
        for (const scoped of readdirSync(join(nodeModules, entry))) {
          if (`${entry}/${scoped}` === packageName) count++;
          walk(join(nodeModules, entry, scoped, 'node_modules'));
        }
      } else {
        if (entry === packageName) count++;
        walk(join(nodeModules, entry, 'node_modules'));
      }
    }
  };
  walk(join(dir, 'node_modules'));
  return count;
}

/** Entropy (nats) of the text's characters taken one at a time: the loss of a model that learned only their frequencies. */
function unigramEntropy(text: string): number {
  const counts = new Map<string, number>();
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
  return -[...counts.values()].reduce((sum, count) => sum + (count / text.length) * Math.log(count / text.length), 0);
}

/** Serves a directory's files on 127.0.0.1 (a free port) for a browser to open. */
async function serve(root: string): Promise<{ url: string; close: () => void }> {
  const types: Record<string, string> = {
    '.html': 'text/html',
    '.js': 'text/javascript',
    '.css': 'text/css',
    '.wasm': 'application/wasm',
    '.json': 'application/json',
  };
  const server = createServer((request, response) => {
    const path = resolve(root, `.${decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname)}`);
    const file = path.endsWith(sep) || path === resolve(root) ? join(path, 'index.html') : path;
    if (!file.startsWith(resolve(root) + sep) || !existsSync(file)) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'Content-Type': types[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, close: () => server.close() };
}

describe('installed from tarballs into fresh projects', () => {
  beforeAll(() => {
    const packs = join(work, 'tarballs');
    mkdirSync(packs);
    for (const name of PACKAGES) {
      const out = execFileSync('pnpm', ['pack', '--pack-destination', packs], { cwd: join(root, 'packages', name), encoding: 'utf8' });
      tarballs[name] = out.trim().split('\n').at(-1)!.trim();
      expect(existsSync(tarballs[name]!), `${name} tarball`).toBe(true);
    }
  });

  it('the tokenizer works alone, with no TensorFlow.js installed', () => {
    const dir = project(
      'tokenizer-alone',
      ['tokenizer'],
      {},
      {
        'main.js': `
        import { CharTokenizer, trainBpe, tokenizerFromJSON } from '@embedlab/tokenizer';
        const char = CharTokenizer.fromCorpus('hello world');
        const bpe = trainBpe('low lower lowest '.repeat(50), { vocabSize: 270 });
        const again = tokenizerFromJSON(JSON.stringify(bpe));
        console.log(JSON.stringify({ char: char.decode(char.encode('hello')), bpe: again.decode(bpe.encode('lowest')) }));
      `,
      },
    );
    expect(JSON.parse(run(dir, 'node', ['main.js']))).toEqual({ char: 'hello', bpe: 'lowest' });
    expect(existsSync(join(dir, 'node_modules', '@tensorflow'))).toBe(false);
    writeFileSync(join(dir, 'vocab.txt'), 'abc');
    expect(run(dir, 'npx', ['--no-install', 'embedlab-tokenizer', 'encode', '--char-vocab', 'vocab.txt', 'vocab.txt']).trim()).toBe('[0,1,2]');
  });

  it("token-embedding and positional-encodings train in a user's own tfjs loop, on one tfjs", () => {
    const dir = project(
      'own-loop',
      ['token-embedding', 'positional-encodings'],
      { '@tensorflow/tfjs-core': '4.22.0' },
      {
        'main.js': `
        import * as tf from '@tensorflow/tfjs-core';
        import { ready, tf as runtimeTf } from '@embedlab/runtime';
        import { TokenEmbedding } from '@embedlab/token-embedding';
        import { RotaryEmbedding, SinusoidalPositionalEncoding } from '@embedlab/positional-encodings';
        const info = await ready();
        const embedding = new TokenEmbedding({ vocabSize: 10, dim: 8, seed: 1 });
        const positions = new SinusoidalPositionalEncoding({ dim: 8 });
        const rope = new RotaryEmbedding({ headDim: 8 });
        const readout = tf.variable(tf.randomNormal([8, 10], 0, 0.1, 'float32', 2));
        const ids = tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32');
        const targets = tf.oneHot(tf.tensor1d([2, 3, 4, 5], 'int32'), 10);
        const optimizer = tf.train.adam(0.05);
        const losses = [];
        for (let step = 0; step < 30; step++) {
          const loss = optimizer.minimize(() => {
            const x = tf.add(embedding.apply(ids), positions.apply(4));
            const rotated = tf.reshape(rope.apply(tf.reshape(x, [1, 1, 4, 8])), [4, 8]);
            return tf.losses.softmaxCrossEntropy(targets, tf.matMul(rotated, readout));
          }, true, [embedding.weight, readout]);
          losses.push(loss.dataSync()[0]);
        }
        console.log(JSON.stringify({ backend: info.backend, sameEngine: tf.engine() === runtimeTf.engine(), first: losses[0], last: losses.at(-1) }));
      `,
      },
    );
    const result = JSON.parse(run(dir, 'node', ['main.js']));
    expect(result).toMatchObject({ backend: 'wasm', sameEngine: true });
    expect(result.last).toBeLessThan(result.first / 2);
    expect(copiesOf(dir, '@tensorflow/tfjs-core')).toBe(1);
  });

  it('mini-gpt trains, samples, saves and is inspected by its CLI', () => {
    const dir = project(
      'mini-gpt',
      ['mini-gpt', 'mini-gpt-cli'],
      {},
      {
        'main.js': `
        import { ready } from '@embedlab/runtime';
        import { CharTokenizer } from '@embedlab/tokenizer';
        import { PRESETS, TokenDataset, checkpointToFiles, createModel, generateText, namesCorpus, train } from '@embedlab/mini-gpt';
        import { saveCheckpoint } from '@embedlab/mini-gpt/node';
        await ready();
        const corpus = namesCorpus();
        const tokenizer = CharTokenizer.fromCorpus(corpus);
        const model = createModel({ ...PRESETS.names.model, vocabSize: tokenizer.vocabSize });
        const result = await train(model, new TokenDataset(tokenizer.encode(corpus)), { steps: 60, batchSize: 16, learningRate: 3e-3, evalInterval: 60 });
        let text = '';
        for await (const piece of generateText(model, tokenizer, '\\n', { maxNewTokens: 10, seed: 1 })) text += piece;
        saveCheckpoint('model', checkpointToFiles(model, tokenizer, { step: result.step }));
        console.log(JSON.stringify({ stoppedBy: result.stoppedBy, loss: result.lastEval.validationLoss, text }));
      `,
      },
    );
    const result = JSON.parse(run(dir, 'node', ['main.js']));
    expect(result.stoppedBy).toBe('done');
    // Uniform guessing scores ln 28 = 3.33 and letter frequencies alone the unigram entropy
    // (2.85 nats): only a model that learned something from context gets below both.
    expect(result.loss).toBeLessThan(unigramEntropy(namesCorpus()) - 0.1);
    expect(result.text.length).toBeGreaterThan(0);
    // Ten tokens of a character tokenizer are ten characters.
    expect([...result.text]).toHaveLength(10);
    expect(run(dir, 'npx', ['--no-install', 'minigpt', 'inspect', '--checkpoint', 'model'])).toMatch(/total\s+102,912/);
    expect(copiesOf(dir, '@tensorflow/tfjs-core')).toBe(1);
  });

  it('a Vite build of a page that imports positional-encodings, opened in headless Chromium', async () => {
    const dir = project(
      'vite-page',
      ['positional-encodings'],
      { vite: '7.3.0' },
      {
        'index.html': '<!doctype html><html><body><pre id="out"></pre><script type="module" src="/main.js"></script></body></html>',
        'main.js': `
        import { ready } from '@embedlab/runtime';
        import { SinusoidalPositionalEncoding } from '@embedlab/positional-encodings';
        await ready({ backend: 'cpu' });
        document.getElementById('out').textContent = JSON.stringify(new SinusoidalPositionalEncoding({ dim: 4 }).apply(2).arraySync());
      `,
      },
    );
    run(dir, 'npx', ['--no-install', 'vite', 'build', '--logLevel', 'error']);
    const assets = readdirSync(join(dir, 'dist', 'assets'));
    expect(assets.some((f) => f.endsWith('.js'))).toBe(true);
    // The built page, served as a static site, computes the encoding in the browser.
    const site = await serve(join(dir, 'dist'));
    const browser = await chromium.launch(chromiumLaunchOptions());
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(error.message));
      page.on('console', (message) => {
        if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(message.text());
      });
      // Every file the page asks for must be there (the browser's own favicon request aside).
      page.on('response', (response) => {
        if (response.status() >= 400 && !response.url().endsWith('/favicon.ico')) problems.push(`${response.status()} ${response.url()}`);
      });
      await page.goto(site.url);
      // Wait for the result or for the first error (an uncaught one leaves #out empty).
      await expect.poll(async () => problems.length > 0 || (await page.locator('#out').textContent()) !== '', { timeout: 60_000 }).toBe(true);
      expect(problems).toEqual([]);
      const table = JSON.parse((await page.locator('#out').textContent())!) as number[][];
      // "Attention Is All You Need" §3.5 for d = 4: sin/cos of p and of p / 100.
      expectClose(table.flat(), [0, 1, 0, 1, Math.sin(1), Math.cos(1), Math.sin(0.01), Math.cos(0.01)], { tolerance: 1e-6, absolute: true });
    } finally {
      await browser.close();
      site.close();
    }
  });
});
