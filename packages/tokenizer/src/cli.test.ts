import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getEncoding } from 'js-tiktoken';
import { describe, expect, it } from 'vitest';
import { GPT2_PATTERN } from './bpe-tokenizer.js';
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

  it('exports GPT-2 and a trained tokenizer to tokenizer.json and tiktoken, which the other commands re-load with the same ids', () => {
    const expected = `${JSON.stringify(reference.encode(VARIED_TEXT))}\n`;
    // The rank file given as FILE (its format read from it) and as --tiktoken.
    const hf = join(dir, 'gpt2-tokenizer.json');
    const exported = run(['export', '--format', 'hf', '--out', hf, R50K_PATH]);
    expect(exported.stderr).toBe(`wrote ${hf}: 50257 ids\n`);
    expect(exported.status).toBe(0);
    expect(JSON.parse(readFileSync(hf, 'utf8')).model.merges).toEqual(gpt2Files().vocabBpe.trim().split('\n').slice(1));
    expect(run(['encode', '--hf', hf], VARIED_TEXT).stdout).toBe(expected);
    const ranks = join(dir, 'gpt2.tiktoken');
    expect(run(['export', '--format', 'tiktoken', '--out', ranks, '--hf', hf, '--quiet']).status).toBe(0);
    expect(readFileSync(ranks, 'utf8')).toBe(gpt2Files().tiktoken);
    expect(JSON.parse(readFileSync(`${ranks}.json`, 'utf8'))).toEqual({ name: 'gpt2', pat_str: GPT2_PATTERN, special_tokens: { '<|endoftext|>': 50256 } });
    expect(run(['encode', '--tiktoken', ranks], VARIED_TEXT).stdout).toBe(expected);

    // Trained here, with special tokens and a pattern of its own: the sidecar carries both to --tiktoken.
    const bpe = join(dir, 'export-bpe.json');
    const corpus = file('export-corpus.txt', `${VARIED_TEXT}\n`.repeat(20));
    expect(run(['train', '--vocab-size', '400', '--special', '<|endoftext|>', '--special', '<pad>', '--out', bpe, '--quiet', corpus]).status).toBe(0);
    const text = `${VARIED_TEXT}<|endoftext|>x<pad>`;
    const ids = run(['encode', '--tokenizer', bpe, '--allow-special'], text).stdout;
    expect(JSON.parse(ids)).toContain(399);
    const bpeHf = join(dir, 'export-bpe-tokenizer.json');
    const bpeRanks = join(dir, 'export-bpe.tiktoken');
    expect(run(['export', '--format', 'hf', '--out', bpeHf, bpe]).status).toBe(0);
    expect(run(['export', '--format', 'tiktoken', '--out', bpeRanks, '--tokenizer', bpe]).status).toBe(0);
    expect(run(['encode', '--hf', bpeHf, '--allow-special'], text).stdout).toBe(ids);
    expect(run(['encode', '--tiktoken', bpeRanks, '--allow-special'], text).stdout).toBe(ids);
    expect(run(['decode', '--tiktoken', bpeRanks], ids).stdout).toBe(`${text}\n`.replace(/\ud800|\udfff/g, '\ufffd'));

    // Char-level: to Hugging Face only, and --hf reads it back.
    const names = file('names.txt', 'emma\nolivia\nava\n😀\n');
    const charsHf = join(dir, 'chars-tokenizer.json');
    expect(run(['export', '--format', 'hf', '--out', charsHf, '--char-vocab', names]).status).toBe(0);
    const charIds = run(['encode', '--char-vocab', names], 'ava\nemma😀').stdout;
    expect(charIds).toBe('[1,7,1,0,2,5,5,1,8]\n');
    expect(run(['encode', '--hf', charsHf], 'ava\nemma😀').stdout).toBe(charIds);
    expect(run(['decode', '--hf', charsHf], charIds).stdout).toBe('ava\nemma😀\n');
  });

  it('export refuses to overwrite without --force, replaces only its own kind of file with it, and writes each file whole', () => {
    const out = file('existing.tiktoken', 'keep me');
    const refused = run(['export', '--format', 'tiktoken', '--out', out, R50K_PATH]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toBe(`embedlab-tokenizer: ${out} exists; pass --force to overwrite it\n`);
    expect(readFileSync(out, 'utf8')).toBe('keep me');
    expect(existsSync(`${out}.json`)).toBe(false);
    // Only the sidecar exists: still nothing is written.
    const sidecarOnly = join(dir, 'fresh.tiktoken');
    file('fresh.tiktoken.json', '{}');
    expect(run(['export', '--format', 'tiktoken', '--out', sidecarOnly, R50K_PATH]).stderr).toMatch(/fresh.tiktoken.json exists; pass --force/);
    expect(existsSync(sidecarOnly)).toBe(false);
    // --force does not make a user's file ours.
    expect(run(['export', '--format', 'tiktoken', '--out', out, '--force', R50K_PATH]).stderr).toMatch(/existing.tiktoken is not a tiktoken rank file/);
    expect(readFileSync(out, 'utf8')).toBe('keep me');
    const own = join(dir, 'own.tiktoken');
    expect(run(['export', '--format', 'tiktoken', '--out', own, R50K_PATH, '--quiet']).status).toBe(0);
    writeFileSync(own, readFileSync(own, 'utf8').split('\n').slice(0, 300).join('\n'));
    expect(run(['export', '--format', 'tiktoken', '--out', own, '--force', R50K_PATH]).status).toBe(0);
    expect(readFileSync(own, 'utf8')).toBe(gpt2Files().tiktoken);
    expect(readdirSync(dir).filter((name) => name.includes('.tmp-'))).toEqual([]);
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
      // export: the format, the output, the input file.
      [['export', '--format', 'xml', '--out', join(dir, 'x.json'), R50K_PATH], '', /export needs --format hf or --format tiktoken, got "xml" \(see --help\)/],
      [['export', '--format', 'hf', R50K_PATH], '', /export needs --out FILE/],
      [['export', '--format', 'hf', '--out', join(dir, 'x.json'), join(dir, 'nope.json')], '', /no such file: .*nope.json/],
      [['export', '--format', 'hf', '--out', join(dir, 'x.json'), file('broken.json', '{"model": ')], '', /broken.json: not valid JSON/],
      [
        ['export', '--format', 'hf', '--out', join(dir, 'x.json'), file('other.json', '{"a": 1}')],
        '',
        /other.json: neither an embedlab tokenizer .* nor a Hugging Face/,
      ],
      [['export', '--format', 'hf', '--out', join(dir, 'x.json'), file('empty.tiktoken', '\n')], '', /empty.tiktoken: tiktoken rank file: no ranks found/],
      [
        ['export', '--format', 'tiktoken', '--out', join(dir, 'x.tiktoken'), '--char-vocab', file('chars.txt', 'abc')],
        '',
        /cannot export a char-level tokenizer to tiktoken/,
      ],
      [
        ['export', '--format', 'hf', '--out', join(dir, 'x.json'), '--tiktoken', R50K_PATH, R50K_PATH],
        '',
        /give the tokenizer as FILE or as --tiktoken, not both/,
      ],
      [
        ['export', '--format', 'hf', '--out', join(dir, 'no-such-dir', 'x.json'), R50K_PATH],
        '',
        /cannot write .*no-such-dir\/x.json: no such directory .*no-such-dir \(ENOENT\)/,
      ],
      [['encode', '--tiktoken', file('bad-sidecar.tiktoken', 'IQ== 0\n')], '', /bad-sidecar.tiktoken.json: tiktoken sidecar: pat_str must be a string/],
    ];
    file('bad-sidecar.tiktoken.json', '{"special_tokens": {}}');
    for (const [args, input, message] of cases) {
      const result = run(args, input);
      expect(result.status, args.join(' ')).toBe(1);
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
