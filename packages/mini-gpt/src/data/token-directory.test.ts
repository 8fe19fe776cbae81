// Token directories through the built package (tokenizing threads run dist/tokenize-thread.js).
import { closeSync, existsSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { namesCorpus, TokenDataset, TrainingSession } from '@embedlab/mini-gpt';
import { openTokenDirectory, prepareTokenDirectory, readCorpus, startWorkers } from '@embedlab/mini-gpt/node';
import { ready } from '@embedlab/runtime';
import { BpeTokenizer, CharTokenizer, type Tokenizer, trainBpe } from '@embedlab/tokenizer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = mkdtempSync(join(tmpdir(), 'token-directory-'));
let count = 0;
const scratch = (name = 'dir') => join(root, `${name}-${count++}`);

function writeFiles(files: Record<string, string | Uint8Array>): string {
  const dir = scratch('text');
  mkdirSync(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

/** Every token of both splits, read back through the directory's readers. */
function readBack(dir: string, tokenizer?: Tokenizer): { train: number[]; validation: number[] } {
  const opened = openTokenDirectory(dir, tokenizer ? { tokenizer } : {});
  try {
    const all = (split: 'train' | 'validation') => {
      const reader = opened.dataset[split];
      return Array.from(reader instanceof Int32Array ? reader : reader.read(0, reader.length));
    };
    return { train: all('train'), validation: all('validation') };
  } finally {
    opened.close();
  }
}

/** The split `TokenDataset` makes of the whole text in memory: what a prepared directory must equal. */
function inMemory(tokenizer: Tokenizer, text: string): { train: number[]; validation: number[] } {
  const dataset = new TokenDataset(tokenizer.encode(text, { disallowedSpecial: [] }));
  return { train: Array.from(dataset.train as Int32Array), validation: Array.from(dataset.validation as Int32Array) };
}

// Line breaks of every kind, runs of blank lines and spaces, CJK, emoji (surrogate pairs), digits.
const varied = Array.from(
  { length: 400 },
  (_, i) => `line ${i}: naïve café ${'日本語'.repeat(i % 3)} 🙂🚀 ${' '.repeat(i % 5)}x${i % 7 === 0 ? '\r\n' : '\n'}${i % 11 === 0 ? '\n\n  \n' : ''}`,
).join('');

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('prepareTokenDirectory', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    await ready();
  });

  it('writes the ids and split of encoding the whole text at once (char, two threads, several files)', async () => {
    const text = writeFiles({ 'a.txt': varied, 'b.txt': namesCorpus().slice(0, 30_000), 'c.txt': 'tail without newline' });
    const out = scratch();
    const progress: number[] = [];
    const meta = await prepareTokenDirectory({ inputs: [text], out, workers: 2, pieceSize: 500, onProgress: (p) => void progress.push(p.bytes) });
    const tokenizer = CharTokenizer.fromCorpus(readCorpus(text));
    expect(readBack(out)).toEqual(inMemory(tokenizer, readCorpus(text)));
    expect(meta).toMatchObject({ format: 'embedlab-tokens/1', dtype: 'uint16', vocab_size: tokenizer.vocabSize, val_fraction: 0.1 });
    expect(meta.sources.map((s) => s.path.split('/').at(-1))).toEqual(['a.txt', 'b.txt', 'c.txt']);
    expect(JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8'))).toEqual(meta);
    expect(progress.at(-1)).toBe(meta.sources.reduce((sum, s) => sum + s.bytes, 0) + 2);
    expect(readdirSync(out).filter((name) => name.includes('partial'))).toEqual([]);
  });

  it('cuts a BPE text only where the pre-tokenizer splits, across 1 MiB reads that split characters', async () => {
    // Over one read of text, so the UTF-8 decoder sees characters cut between reads.
    const big = varied.repeat(Math.ceil((1.3 * 2 ** 20) / Buffer.byteLength(varied)));
    const text = writeFiles({ 'big.txt': big });
    const tokenizer = trainBpe(varied, { vocabSize: 300 });
    const out = scratch();
    await prepareTokenDirectory({ inputs: [join(text, 'big.txt')], out, tokenizer, workers: 2, pieceSize: 4096 });
    expect(readBack(out)).toEqual(inMemory(tokenizer, big));
    expect(openTokenDirectory(out).tokenizer).toBeInstanceOf(BpeTokenizer);
  });

  it("cuts where GPT-2's pattern splits: blank lines between paragraphs, lines that start with a space", async () => {
    // "\n\n" is one piece (and, learned here, one token) that a cut between its newlines would split;
    // WikiText-style lines begin with a space, so no line break is followed by text.
    const paragraphs = Array.from({ length: 300 }, (_, i) => `Paragraph ${i} says hello.\n\n`).join('');
    const wiki = Array.from({ length: 300 }, (_, i) => ` = Title ${i} = \n \n The text of ${i} . \n \n`).join('');
    for (const text of [paragraphs, wiki]) {
      // Bytes, the trainer's merges, and "\n\n" as one token (as GPT-2 has it: id 628).
      const trained = trainBpe(text, { vocabSize: 320 });
      const tokenizer = new BpeTokenizer({
        tokens: [...Array.from({ length: trained.vocabSize }, (_, id) => trained.tokenBytes(id)), new Uint8Array([10, 10])],
      });
      expect(tokenizer.encode('\n\n')).toEqual([trained.vocabSize]);
      const out = scratch();
      await prepareTokenDirectory({ inputs: [writeFiles({ 't.txt': text })], out, tokenizer, workers: 1, pieceSize: 200 });
      expect(readBack(out)).toEqual(inMemory(tokenizer, text));
    }
  });

  it('drops a leading byte-order mark as readCorpus does', async () => {
    const text = writeFiles({ 'bom.txt': `\uFEFF${varied}` });
    const out = scratch();
    await prepareTokenDirectory({ inputs: [text], out, workers: 1 });
    expect(readCorpus(text).startsWith('line 0')).toBe(true);
    expect(readBack(out)).toEqual(inMemory(CharTokenizer.fromCorpus(varied), varied));
  });

  it('trains a BPE on the text when asked, on this thread alone too', async () => {
    const text = writeFiles({ 'v.txt': varied });
    const out = scratch();
    await prepareTokenDirectory({ inputs: [text], out, tokenizer: 'bpe:280', workers: 1, pieceSize: 300 });
    const { tokenizer } = openTokenDirectory(out);
    expect(tokenizer.vocabSize).toBe(280);
    expect(readBack(out)).toEqual(inMemory(tokenizer, varied));
  });

  it('stores ids as uint32 past 65,536 ids', async () => {
    // 70,000 distinct code points from U+10000: each a surrogate pair in the text.
    const chars = Array.from({ length: 70_000 }, (_, i) => String.fromCodePoint(0x10000 + i)).join('');
    const wide = `${chars.slice(0, 4000)}\n${chars}`;
    const text = writeFiles({ 'wide.txt': wide });
    const out = scratch();
    const meta = await prepareTokenDirectory({ inputs: [text], out, workers: 2, pieceSize: 1000 });
    expect(meta.dtype).toBe('uint32');
    expect(meta.vocab_size).toBe(70_001);
    const back = readBack(out);
    expect(back).toEqual(inMemory(CharTokenizer.fromCorpus(wide), wide));
    expect(Math.max(...back.validation)).toBe(70_000);
  });

  it('refuses what it cannot do faithfully, and leaves nothing behind', async () => {
    const text = writeFiles({ 'a.txt': varied });
    const out = scratch();
    mkdirSync(out);
    writeFileSync(join(out, 'keep'), 'x');
    await expect(prepareTokenDirectory({ inputs: [text], out })).rejects.toThrow(
      `${out} holds keep, which minigpt did not write there; choose a new or empty directory`,
    );
    await expect(prepareTokenDirectory({ inputs: ['/dev/zero'], out: scratch() })).rejects.toThrow('/dev/zero is not a regular file');
    await expect(prepareTokenDirectory({ inputs: [join(root, 'missing.txt')], out: scratch() })).rejects.toThrow('no such file or directory');
    const onePiece = writeFiles({ 'word.txt': 'x'.repeat(5000) });
    const refused = scratch();
    await expect(
      prepareTokenDirectory({ inputs: [onePiece], out: refused, tokenizer: trainBpe(varied, { vocabSize: 260 }), pieceSize: 100, workers: 1 }),
    ).rejects.toThrow("characters that the tokenizer's pattern reads as one piece");
    expect(existsSync(refused)).toBe(false);
    const aborted = scratch();
    const controller = new AbortController();
    controller.abort();
    await expect(
      prepareTokenDirectory({ inputs: [text], out: aborted, signal: controller.signal, tokenizer: trainBpe(varied, { vocabSize: 260 }) }),
    ).rejects.toThrow();
    expect(existsSync(aborted)).toBe(false);
    // --force replaces a token directory as a whole, and nothing else: not other files, not the inputs.
    await expect(prepareTokenDirectory({ inputs: [text], out, force: true })).rejects.toThrow(
      `${out} holds keep, which minigpt did not write there; force replaces only a token directory of minigpt prepare, never other files`,
    );
    expect(readdirSync(out)).toEqual(['keep']);
    await expect(prepareTokenDirectory({ inputs: [text], out: text, force: true })).rejects.toThrow(`${text} would replace ${text}`);
    await expect(prepareTokenDirectory({ inputs: [join(text, 'a.txt')], out: root, force: true })).rejects.toThrow('which it is written from');
    expect(readdirSync(text)).toEqual(['a.txt']);
    rmSync(join(out, 'keep'));
    await prepareTokenDirectory({ inputs: [text], out, workers: 1 });
    await expect(prepareTokenDirectory({ inputs: [text], out, workers: 1 })).rejects.toThrow(
      `${out} already holds a token directory of minigpt prepare; replace it with \`force: true\``,
    );
    await prepareTokenDirectory({ inputs: [text], out, force: true, workers: 1 });
    expect(readdirSync(out).sort()).toEqual(['.minigpt-record.json', 'meta.json', 'tokenizer.json', 'train.bin', 'val.bin']);
  });
});

describe('openTokenDirectory', { timeout: 120_000 }, () => {
  const names = namesCorpus().slice(0, 20_000);
  let prepared: string;
  beforeAll(async () => {
    await ready();
    prepared = scratch();
    await prepareTokenDirectory({ inputs: [writeFiles({ 'n.txt': names })], out: prepared, workers: 1 });
  });

  function variant(change: (dir: string) => void): string {
    const dir = scratch();
    mkdirSync(dir);
    for (const name of readdirSync(prepared)) writeFileSync(join(dir, name), readFileSync(join(prepared, name)));
    change(dir);
    return dir;
  }
  const editMeta = (edit: (meta: Record<string, unknown>) => void) => (dir: string) => {
    const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'));
    edit(meta);
    writeFileSync(join(dir, 'meta.json'), JSON.stringify(meta));
  };

  it('names what is wrong with a hostile or damaged directory', () => {
    const cases: [(dir: string) => void, string][] = [
      [editMeta((m) => (m.dtype = 'float32')), `dtype must be 'uint16' or 'uint32', got "float32"`],
      [editMeta((m) => (m.vocab_size = 1e12)), 'vocab_size must be a positive integer up to 2^32'],
      [editMeta((m) => (m.tokenizer = '../../etc/passwd')), 'tokenizer must be a file name in the same directory'],
      [editMeta((m) => ((m.train as { tokens: number }).tokens += 1)), 'meta.json says'],
      [editMeta((m) => (m.vocab_size = 3)), 'vocab_size is 3 but the tokenizer has'],
      [(dir) => writeFileSync(join(dir, 'meta.json'), '{'), 'meta.json:'],
      [(dir) => writeFileSync(join(dir, 'train.bin'), new Uint8Array(7)), 'is not a whole number of uint16 tokens'],
      [(dir) => rmSync(join(dir, 'val.bin')), 'val.bin is missing'],
      [(dir) => writeFileSync(join(dir, 'meta.json'), ' '.repeat(2 << 20)), 'more than the'],
      [(dir) => rmSync(join(dir, 'meta.json')), 'no meta.json to say which tokenizer made it'],
      [editMeta((m) => ((m.val as { file: string }).file = 'train.bin')), 'val.file must be another file than train.file'],
      [
        (dir) => {
          // Another name for train.bin: the names differ, the file is the same.
          symlinkSync('train.bin', join(dir, 'held-out.bin'));
          editMeta((m) => (m.val = { ...(m.val as object), file: 'held-out.bin', tokens: (m.train as { tokens: number }).tokens }))(dir);
        },
        'held-out.bin is the same file as',
      ],
      [
        (dir) => {
          rmSync(join(dir, 'val.bin'));
          execFileSync('mkfifo', [join(dir, 'val.bin')]);
        },
        'val.bin is not a regular file',
      ],
    ];
    for (const [change, message] of cases) expect(() => openTokenDirectory(variant(change)), message).toThrow(message);
    const pickled = variant((dir) => {
      rmSync(join(dir, 'meta.json'));
      writeFileSync(join(dir, 'meta.pkl'), 'x');
    });
    expect(() => openTokenDirectory(pickled)).toThrow('unpickling an untrusted file can run code');
  });

  /** The directory's train.bin with `ids` written from token `at` (the file grown to `length` tokens if given). */
  const withIds = (at: number, ids: number[], length?: number) => (d: string) => {
    const tokens = new Uint16Array(length ?? readFileSync(join(d, 'train.bin')).length / 2);
    tokens.set(new Uint16Array(readFileSync(join(d, 'train.bin')).buffer.slice(0)).subarray(0, tokens.length));
    tokens.set(ids, at);
    writeFileSync(join(d, 'train.bin'), tokens);
    editMeta((m) => ((m.train as { tokens: number }).tokens = tokens.length))(d);
  };

  it('refuses ids outside the vocabulary when it opens the files, naming the file, the token and the id', () => {
    expect(() => openTokenDirectory(variant(withIds(10, [60_000])))).toThrow(/train\.bin: token 10 is id 60000, outside the tokenizer's \d+ ids$/);
    // Past the first 4 MiB read, and the first of two bad ids.
    const far = variant(withIds(3_000_001, [59, 60_000], 3_100_000));
    const vocabulary = openTokenDirectory(prepared).tokenizer.vocabSize;
    expect(vocabulary).toBeLessThan(59);
    expect(() => openTokenDirectory(far)).toThrow(`train.bin: token 3000001 is id 59, outside the tokenizer's ${vocabulary} ids`);
    expect(openTokenDirectory(variant(withIds(3_000_001, [vocabulary - 1], 3_100_000))).dataset.train.length).toBe(3_100_000);
  });

  it('checks the ids of a file larger than its reads in constant memory', () => {
    const dir = variant(() => {});
    const size = 2 ** 30;
    const fd = openSync(join(dir, 'train.bin'), 'r+');
    ftruncateSync(fd, size);
    closeSync(fd);
    editMeta((m) => ((m.train as { tokens: number }).tokens = size / 2))(dir);
    const before = process.memoryUsage().rss;
    openTokenDirectory(dir).close();
    expect(process.memoryUsage().rss - before).toBeLessThan(size / 8);
  });

  it('checks the ids it reads again, in case a file changes while training', () => {
    const dir = variant(() => {});
    const opened = openTokenDirectory(dir);
    withIds(10, [60_000])(dir);
    const reader = opened.dataset.train as { read(start: number, count: number): Int32Array };
    expect(() => reader.read(0, 20)).toThrow(/train\.bin: token 10 is id 60000, outside the tokenizer's \d+ ids/);
    expect(reader.read(11, 5)).toHaveLength(5);
    opened.close();
  });

  it("reads nanoGPT's own directories (no meta.json) with the tokenizer given", () => {
    const dir = variant((d) => rmSync(join(d, 'meta.json')));
    const tokenizer = openTokenDirectory(prepared).tokenizer;
    expect(readBack(dir, tokenizer)).toEqual(readBack(prepared));
  });

  it('trains on it with the losses of the same text in memory, on one thread or two', async () => {
    const setup = {
      model: { blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 16 },
      training: { steps: 3, batchSize: 4, evalInterval: 3, evalBatches: 1 },
    };
    const losses = async (session: TrainingSession, workers?: Awaited<ReturnType<typeof startWorkers>>) => {
      const seen: number[] = [];
      await session.run({ onStep: (e) => void seen.push(e.loss), onEval: (e) => void seen.push(e.validationLoss) }, workers ? { workers } : {});
      session.dispose();
      return seen;
    };
    const fromText = await losses(TrainingSession.create({ ...setup, corpus: names }));
    const opened = openTokenDirectory(prepared);
    const fromFiles = await losses(TrainingSession.create({ ...setup, dataset: opened.dataset, tokenizer: opened.tokenizer }));
    expect(fromFiles).toEqual(fromText);
    const pool = await startWorkers(2);
    try {
      const parallel = await losses(TrainingSession.create({ ...setup, dataset: opened.dataset, tokenizer: opened.tokenizer, workers: 2 }), pool);
      expect(parallel).toHaveLength(fromText.length);
      for (const loss of parallel) expect(Number.isFinite(loss)).toBe(true);
    } finally {
      pool.close();
      opened.close();
    }
  });

  it('trains on a directory larger than memory, reading it by offsets', async () => {
    const dir = variant(() => {});
    // A 32 GiB sparse train.bin (id 0 everywhere): larger than this machine's memory.
    const size = 32 * 2 ** 30;
    const fd = openSync(join(dir, 'train.bin'), 'r+');
    ftruncateSync(fd, size);
    closeSync(fd);
    editMeta((m) => ((m.train as { tokens: number }).tokens = size / 2))(dir);
    // Reading 32 GiB to check its ids takes a minute; the check's memory is tested on 1 GiB below.
    const opened = openTokenDirectory(dir, { checkIds: false });
    expect(opened.dataset.train.length).toBe(size / 2);
    const session = TrainingSession.create({
      dataset: opened.dataset,
      tokenizer: opened.tokenizer,
      model: { blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 16 },
      training: { steps: 2, batchSize: 4, evalInterval: 2, evalBatches: 1 },
    });
    const result = await session.run();
    expect(result.step).toBe(2);
    expect(process.memoryUsage().rss).toBeLessThan(4 * 2 ** 30);
    session.dispose();
    opened.close();
  });
});
