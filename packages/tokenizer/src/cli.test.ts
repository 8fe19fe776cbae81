import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getEncoding } from 'js-tiktoken';
import { describe, expect, it } from 'vitest';
import { gpt2Files, R50K_PATH, VARIED_TEXT } from './fixtures/gpt2-files.js';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'embedlab-tokenizer-cli-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const run = (args: string[], input?: string) => {
  const result = spawnSync(process.execPath, [cli, ...args], { input: input ?? '', encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
};
const reference = getEncoding('gpt2');

describe('embedlab-tokenizer CLI', { timeout: 60_000 }, () => {
  it('encodes stdin and files with each GPT-2 loader, one JSON array per input', () => {
    const expected = JSON.stringify(reference.encode(VARIED_TEXT));
    const files = gpt2Files();
    const loaders = [
      ['--tiktoken', R50K_PATH],
      ['--hf', file('tokenizer.json', files.tokenizerJson)],
      ['--encoder', file('encoder.json', files.encoderJson), '--vocab-bpe', file('vocab.bpe', files.vocabBpe)],
    ];
    for (const loader of loaders) expect(run(['encode', ...loader], VARIED_TEXT).stdout).toBe(`${expected}\n`);
    const a = file('a.txt', 'Hello world');
    const out = run(['encode', '--tiktoken', R50K_PATH, a, a]).stdout.trim().split('\n');
    expect(out).toEqual(['[15496,995]', '[15496,995]']);
  });

  it('decodes and counts', () => {
    expect(run(['decode', '--tiktoken', R50K_PATH], '[15496,995]\n[50256]\n').stdout).toBe('Hello world\n<|endoftext|>\n');
    expect(run(['count', '--tiktoken', R50K_PATH], VARIED_TEXT).stdout).toBe(`${reference.encode(VARIED_TEXT).length}\n`);
    expect(run(['encode', '--char-vocab', file('corpus.txt', 'abc'), '--allow-special'], 'cab').stdout).toBe('[2,0,1]\n');
  });

  it('trains a tokenizer that the other commands load', () => {
    const out = join(dir, 'bpe.json');
    const corpus = file('corpus-train.txt', 'low lower lowest newer newest wider widest '.repeat(50));
    const trained = run(['train', '--vocab-size', '270', '--special', '<|endoftext|>', '--out', out, corpus]);
    expect(trained.status).toBe(0);
    expect(trained.stderr).toMatch(/wrote .*bpe.json: 270 tokens/);
    expect(JSON.parse(readFileSync(out, 'utf8')).type).toBe('byte-bpe');
    const ids = run(['encode', '--tokenizer', out], 'lowest widest').stdout;
    expect(run(['decode', '--tokenizer', out], ids).stdout).toBe('lowest widest\n');
  });

  it('answers bad input with one line and a non-zero exit, never a stack trace', () => {
    const hostileBase = {
      format: 'embedlab-tokenizer',
      version: 1,
      type: 'byte-bpe',
      pattern: '[^]',
      tokens: Array.from({ length: 256 }, (_, b) => btoa(String.fromCharCode(b))),
      specialTokens: {},
    };
    const cases: [string[], string, RegExp][] = [
      [['encode', '--tiktoken', join(dir, 'missing.tiktoken')], '', /no such file: .*missing.tiktoken/],
      [['encode', '--tiktoken', file('bad.tiktoken', 'IQ== 0\nnope\n')], 'x', /bad.tiktoken: tiktoken rank file, line 2/],
      [['decode', '--tiktoken', R50K_PATH], '[15496, 99999]', /stdin, line 1: id 99999 at position 1 is not a token/],
      [['decode', '--tiktoken', R50K_PATH], 'hello', /stdin, line 1: expected a JSON array of ids/],
      [['encode'], 'x', /choose exactly one tokenizer/],
      [['encode', '--tiktoken', R50K_PATH], 'a <|endoftext|>', /special token "<\|endoftext\|>" at index 2/],
      [['frobnicate'], '', /unknown command "frobnicate"/],
      [['encode', '--bogus'], '', /Unknown option '--bogus'.*\(see --help\)/],
      [['train', '--out', join(dir, 'x.json')], 'abc', /train needs --vocab-size N/],
      // Hostile saved tokenizers: a pattern that hung on every input, an empty special token that looped until out of memory.
      [
        ['encode', '--tokenizer', file('hang.json', JSON.stringify({ ...hostileBase, pattern: 'x*' }))],
        'hi',
        /hang.json: BPE tokenizer JSON: field "pattern": the pre-tokenisation pattern "x\*" matches the empty string/,
      ],
      [
        ['encode', '--tokenizer', file('empty-special.json', JSON.stringify({ ...hostileBase, specialTokens: { '': 256 } }))],
        'hi',
        /empty-special.json: BPE tokenizer JSON: a special token is the empty string/,
      ],
    ];
    for (const [args, input, message] of cases) {
      const result = run(args, input);
      expect(result.status, args.join(' ')).toBe(1);
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
