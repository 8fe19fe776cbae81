import { describe, expect, it } from 'vitest';
import { BpeTokenizer, GPT2_PATTERN } from './bpe-tokenizer.js';
import { compilePattern, MAX_PATTERN_LENGTH, nextPiece } from './pattern.js';

// OpenAI's cl100k_base and o200k_base patterns (tiktoken), without their case-insensitive
// `(?i:...)` group, which Node 20's RegExp does not have.
const CL100K = String.raw`'s|'t|'re|'ve|'m|'ll|'d|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
const O200K = String.raw`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`;

const bytes = Array.from({ length: 256 }, (_, b) => Uint8Array.of(b));

/** Runs `fn`, expecting it to throw; returns the message and how long it took. */
function rejection(fn: () => unknown): { message: string; ms: number } {
  const start = performance.now();
  try {
    fn();
  } catch (error) {
    return { message: (error as Error).message, ms: performance.now() - start };
  }
  throw new Error('expected an error');
}

describe('pre-tokenisation patterns', () => {
  it("accept GPT-2's, cl100k's and o200k's patterns and anything-goes ones", () => {
    for (const pattern of [GPT2_PATTERN, CL100K, O200K, '[^]', String.raw`\S+|\s+`, '(?:ab)+|[^]']) expect(compilePattern(pattern, 'test').flags).toBe('uy');
  });

  const hostile: [string, unknown, RegExp][] = [
    ['empty', '', /must be a non-empty string.*got ""/],
    ['not a string', 42, /must be a non-empty string.*got 42/],
    ['invalid', '(a', /pattern "\(a" is not a valid regular expression/],
    ['too long', 'a|'.repeat(MAX_PATTERN_LENGTH), /is 8192 characters long; at most 4096/],
    ['empty matches', 'x*', /pattern "x\*" matches the empty string at index 0/],
    ['empty matches somewhere', '(?=a)|[^]', /pattern "\(\?=a\)\|\[\^\]" matches the empty string at index \d+/],
    ['dropping text', '[a-z]+', /pattern "\[a-z\]\+" matches nothing at index 0 \(character "H" \(U\+0048\)\), so that text would be dropped/],
    ['dropping spaces', String.raw`\S+`, /pattern "\\\\S\+" matches nothing at index 6 \(character " " \(U\+0020\)\)/],
    ['nested quantifiers', '(a+)+$', /pattern "\(a\+\)\+\$" repeats the group at index 0 with "\+" although the group itself holds a quantifier.*exponential/],
    ['a repeated alternation', '(?:a|ab)*c|[^]', /repeats the group at index 0 with "\*" although the group itself holds an alternation/],
    ['a backreference', String.raw`(a)\1|[^]`, /has a backreference at index 3/],
    ['a named backreference', String.raw`(?<x>a)\k<x>|[^]`, /has a backreference at index 7/],
    ['many quantifiers in a row', 'a?b?c?d?e?f?g?h|[^]', /more than 6 quantifiers in a row/],
    ['quadratic backtracking', '[a ]+x|[^]', /pattern "\[a \]\+x\|\[\^\]" takes \d+ ms to split \d+ characters \("a" repeated/],
    ['cubic backtracking', String.raw`\s*\s*!|[^]`, /takes \d+ ms to split \d+ characters \(" " repeated/],
    ['quartic backtracking', 'a*a*a*!|[^]', /takes \d+ ms to split \d+ characters \("a" repeated/],
  ];
  it.each(hostile)('are refused at load time, in seconds at most, naming the field and the value: %s', (_name, pattern, message) => {
    const { message: got, ms } = rejection(() => compilePattern(pattern, 'tokenizer.json field "pattern"'));
    expect(got).toMatch(/^tokenizer.json field "pattern": /);
    expect(got).toMatch(message);
    expect(ms).toBeLessThan(10_000);
  });

  it('refuse "(a+)+$" at once: it never runs (it took 52 s on a 30-character text)', () => {
    expect(rejection(() => new BpeTokenizer({ tokens: bytes, pattern: '(a+)+$' })).ms).toBeLessThan(1000);
  });

  it('make encoding throw, naming the index, for a character that the probes did not show unmatched', () => {
    // Private-use U+E000 is in no probe text, so this pattern loads; it must not drop the character.
    const tokenizer = new BpeTokenizer({ tokens: bytes, pattern: String.raw`[^\u{E000}]+`, specialTokens: { '<s>': 256 } });
    expect(tokenizer.decode(tokenizer.encode('ab c'))).toBe('ab c');
    expect(() => tokenizer.encode('ab\u{E000}c')).toThrow(
      /pattern "\[\^\\\\u\{E000\}\]\+" matches nothing at index 2 \(character "\uE000" \(U\+E000\)\), so that text would be dropped/,
    );
    expect(() => tokenizer.encode('<s>a\u{E000}', { allowedSpecial: 'all' })).toThrow(/at index 4/);
    expect(() => [...tokenizer.encodeGenerator('a\u{E000}')]).toThrow(/at index 1/);
    expect(tokenizer.canEncode('ab c')).toBe(true);
    expect(tokenizer.canEncode('ab\u{E000}c')).toBe(false);
  });

  it('say which run is too long for the regex engine when its stack gives out (minigpt prepare runs 8 MB of one letter)', () => {
    const exhausted = Object.assign(/a+/uy, {
      exec(): never {
        throw new RangeError('Maximum call stack size exceeded');
      },
    });
    expect(() => nextPiece(exhausted, `the ${'a'.repeat(100)}`, 3, 10)).toThrow(
      /pattern "a\+" reads the text from index 13 \(" aaaaaaaaaaaaaaaaaaa"\) as one piece longer than the regex engine can match/,
    );
  });
});
