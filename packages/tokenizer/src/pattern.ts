/**
 * The pre-tokenisation pattern, vetted before use. A pattern from a file is a small program that
 * V8's backtracking regex engine runs on every input, and no JS code can interrupt it, so it is
 * checked once, when it is loaded:
 *
 * 1. It compiles with the `u` flag, and is at most `MAX_PATTERN_LENGTH` characters.
 * 2. Structure: no backreferences, and no group repeated more than once (`+`, `*`, `{2,}`) that
 *    itself holds a quantifier or an alternation (`(a+)+`, `(a|ab)*`, `(\w+\s?)*`): that nesting
 *    is what lets a backtracking engine try exponentially many ways to match. Without it the
 *    number of ways is a polynomial whose degree is at most the number of quantifiers on one
 *    path through the pattern, which must not exceed `MAX_QUANTIFIERS_ON_A_PATH`
 *    (`?` counts: GPT-2's pattern has 2, cl100k's 3, o200k's 4).
 * 3. Probes: the pattern splits a fixed set of texts (letters, digits, spaces, newlines,
 *    punctuation, CJK, emoji, combining marks, lone surrogates, and each character of the pattern
 *    itself) and runs of each of them, of growing length (x1.5 a step to 243 characters, then
 *    x2.25 to 2,775 for single characters) with several endings. Every split must consume every
 *    character (no text is ever dropped), never match the empty string (which would never
 *    advance), and stay fast: a run that costs more than `PROBE_BUDGET_MS`, or a long run (over
 *    1 ms) whose characters cost more than `GROWTH` times those of a 243-character run, is
 *    measured five times more and rejected if the best stays slow (polynomial backtracking). Because the degree is bounded (2.) and
 *    lengths grow step by step, a slow pattern is caught at a cost of at most a few seconds
 *    (tests: quadratic, cubic and quartic patterns, each under a second),
 *    never the minutes or hours the same pattern would take on a long text.
 *
 * Probes cannot prove a property for all texts, so `nextPiece` checks the first two again on
 * every text it splits: a gap or an empty match is an error naming the index, never a hang or
 * silently dropped text. What remains possible is polynomial backtracking that only shows on a
 * repeating unit the probes do not contain.
 */

export const MAX_PATTERN_LENGTH = 4096;
export const MAX_QUANTIFIERS_ON_A_PATH = 6;
const PROBE_BUDGET_MS = 25;
/** How much more a character may cost in a long run than in a 243-character one (linear: ~1; quadratic: 2,775 / 243 = 11). */
const GROWTH = 4;
/** Per-character times below this (50 ns) count as this, and runs under GROWTH_MIN_MS are never growth: timer noise. */
const MIN_MS_PER_CHAR = 50e-6;
const GROWTH_MIN_MS = 1;

const vetted = new Set<string>();

function describeChar(text: string, index: number): string {
  const code = text.codePointAt(index)!;
  return `${JSON.stringify(String.fromCodePoint(code))} (U+${code.toString(16).toUpperCase().padStart(4, '0')})`;
}

function quote(text: string, limit = 60): string {
  return JSON.stringify(text.length > limit ? `${text.slice(0, limit)}…` : text);
}

/**
 * The piece of `text` that starts at index `at`. A character no match covers, or an empty match,
 * throws an Error naming the index (`offset` is added to it: the position of `text` in a larger
 * text). `regex` must have the `y` (sticky) flag.
 */
export function nextPiece(regex: RegExp, text: string, at: number, offset = 0): string {
  regex.lastIndex = at;
  let match: RegExpExecArray | null;
  try {
    match = regex.exec(text);
  } catch (error) {
    // V8's regex engine recurses per character of some runs: a run of millions exhausts its stack.
    if (!(error instanceof RangeError)) throw error;
    throw new Error(
      `the pre-tokenisation pattern ${quote(regex.source)} reads the text from index ${offset + at} (${quote(text.slice(at, at + 20), 20)}) as one piece longer than the regex engine can match; break such a run (with spaces or line breaks) before tokenizing`,
    );
  }
  if (match === null) {
    throw new Error(
      `the pre-tokenisation pattern ${quote(regex.source)} matches nothing at index ${offset + at} (character ${describeChar(text, at)}), so that text would be dropped; a pattern must match every character`,
    );
  }
  const piece = match[0];
  if (piece.length === 0)
    throw new Error(`the pre-tokenisation pattern ${quote(regex.source)} matches the empty string at index ${offset + at}, so it would never advance`);
  return piece;
}

/** Calls `onPiece` with each piece of `text` in order (see `nextPiece`). */
export function splitPieces(regex: RegExp, text: string, onPiece: (piece: string) => void): void {
  for (let at = 0; at < text.length; ) {
    const piece = nextPiece(regex, text, at);
    onPiece(piece);
    at += piece.length;
  }
}

// Text every pattern meets: one or two of each kind of character, then each alone in runs.
const SAMPLES = [
  'a',
  'Z',
  'é',
  'ß',
  '日',
  'ア',
  '한',
  '𝔘',
  '😀',
  '\u0301',
  '0',
  '٣',
  '½',
  ' ',
  '\t',
  '\n',
  '\r',
  '\u00a0',
  '\u3000',
  '!',
  '?',
  '.',
  ',',
  "'",
  '"',
  '-',
  '_',
  '/',
  '\\',
  '(',
  '<',
  '|',
  '*',
  '$',
  '@',
  '#',
  '~',
  '\u0000',
  '\u200d',
  '\ud800',
  '\udc00',
];
const UNITS = ["'s", ' a', 'a ', ' 0', ' !', '\r\n', ' \n', 'a0', 'a!', '!a'];
const ENDINGS = ['', '!', 'a', ' '];
const PROSE = 'Hello, world! It\'s 3.14 naïve café. They\'ll say "42" -- 日本語のテキスト 😀👍🏽 e\u0301 \ud83d x\n\n\t  end  \r\n';

// Run lengths grow x1.5 a step; the long ones (for slow polynomial growth) only for single characters, with two endings.
const SHORT_LENGTHS = [4, 6, 9, 14, 21, 32, 48, 72, 108, 162, 243];
const LONG_LENGTHS = [548, 1233, 2775];

function structureError(pattern: string, what: string): Error {
  return new Error(`pattern ${quote(pattern)} ${what}`);
}

interface Frame {
  /** Quantifiers on the longest path so far through the finished alternatives. */
  bestPath: number;
  /** Quantifiers on the path through the current alternative. */
  path: number;
  hasQuantifier: boolean;
  hasAlternation: boolean;
  opensAt: number;
}

/** Rejects backreferences, repeated groups that hold quantifiers or alternations, and long quantifier chains. */
function checkStructure(pattern: string): void {
  const newFrame = (opensAt: number): Frame => ({ bestPath: 0, path: 0, hasQuantifier: false, hasAlternation: false, opensAt });
  const stack: Frame[] = [newFrame(-1)];
  let i = 0;
  // Reads a quantifier at `i`, if any: its bounds, advancing `i` past it (and a lazy `?`).
  const readQuantifier = (): { min: number; max: number; text: string } | undefined => {
    const start = i;
    let min: number;
    let max: number;
    const c = pattern[i];
    if (c === '*') [min, max] = [0, Infinity];
    else if (c === '+') [min, max] = [1, Infinity];
    else if (c === '?') [min, max] = [0, 1];
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
      if (!m) return undefined;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      i += m[0].length - 1;
    } else return undefined;
    i++;
    if (pattern[i] === '?') i++;
    return { min, max, text: pattern.slice(start, i) };
  };
  const addAtom = (quantifiers: number, group: Frame | undefined) => {
    const frame = stack[stack.length - 1]!;
    const quantifier = readQuantifier();
    let count = quantifiers;
    if (quantifier !== undefined) {
      if (group !== undefined && quantifier.max > 1 && (group.hasQuantifier || group.hasAlternation)) {
        throw structureError(
          pattern,
          `repeats the group at index ${group.opensAt} with "${quantifier.text}" although the group itself holds ${group.hasQuantifier ? 'a quantifier' : 'an alternation'} (as in "(a+)+" or "(a|ab)*"): nested repetition can take exponential time to match (catastrophic backtracking)`,
        );
      }
      if (quantifier.min !== quantifier.max) {
        count++;
        frame.hasQuantifier = true;
      }
    }
    if (group !== undefined) {
      frame.hasQuantifier ||= group.hasQuantifier;
      frame.hasAlternation ||= group.hasAlternation;
    }
    frame.path += count;
    if (frame.path > MAX_QUANTIFIERS_ON_A_PATH) {
      throw structureError(
        pattern,
        `has more than ${MAX_QUANTIFIERS_ON_A_PATH} quantifiers in a row (near index ${i}): each can make a backtracking engine retry the others, so matching time grows as a high power of the text length`,
      );
    }
  };
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      if (/[1-9]/.test(next) || next === 'k')
        throw structureError(pattern, `has a backreference at index ${i} ("\\${next}"), which can take exponential time to match`);
      if ((next === 'p' || next === 'P' || next === 'u') && pattern[i + 2] === '{') i = pattern.indexOf('}', i) + 1;
      else if (next === 'u') i += 6;
      else if (next === 'x') i += 4;
      else if (next === 'c') i += 3;
      else i += 2;
      addAtom(0, undefined);
    } else if (c === '[') {
      i++;
      if (pattern[i] === '^') i++;
      while (i < pattern.length && pattern[i] !== ']') i += pattern[i] === '\\' ? 2 : 1;
      i++;
      addAtom(0, undefined);
    } else if (c === '(') {
      stack.push(newFrame(i));
      const rest = pattern.slice(i, i + 4);
      if (rest.startsWith('(?<') && !rest.startsWith('(?<=') && !rest.startsWith('(?<!')) i = pattern.indexOf('>', i) + 1;
      else if (rest.startsWith('(?')) i = /^\(\?[-a-z]*[:=!]|^\(\?<[=!]/.exec(pattern.slice(i))![0].length + i;
      else i++;
    } else if (c === ')') {
      const group = stack.pop()!;
      group.bestPath = Math.max(group.bestPath, group.path);
      i++;
      addAtom(group.bestPath, group);
    } else if (c === '|') {
      const frame = stack[stack.length - 1]!;
      frame.bestPath = Math.max(frame.bestPath, frame.path);
      frame.path = 0;
      frame.hasAlternation = true;
      i++;
    } else if (c === '^' || c === '$') {
      i++;
    } else {
      i += c.codePointAt(0)! > 0xffff ? 2 : 1;
      addAtom(0, undefined);
    }
  }
}

/**
 * Milliseconds of this process's CPU where Node reports it, else of the wall clock. CPU time
 * leaves out the time other processes held the core: on a busy machine a 0.3 ms split could
 * read as several wall-clock milliseconds and a linear pattern be taken for backtracking.
 */
const cpuUsage = (globalThis as { process?: { cpuUsage?: () => { user: number; system: number } } }).process?.cpuUsage;
const nowMs = cpuUsage
  ? () => {
      const { user, system } = cpuUsage();
      return (user + system) / 1000;
    }
  : () => performance.now();

/** Milliseconds one split of `text` takes (the best of `tries`); errors name the probe text. */
function timeSplit(regex: RegExp, text: string, tries: number): number {
  let best = Infinity;
  for (let t = 0; t < tries; t++) {
    const start = nowMs();
    try {
      splitPieces(regex, text, () => {});
    } catch (error) {
      throw new Error(`${(error as Error).message} (probe text ${quote(text)})`);
    }
    best = Math.min(best, nowMs() - start);
  }
  return best;
}

function probe(regex: RegExp, pattern: string): void {
  const literal = [...new Set(pattern)].filter((c) => c.trim() !== '').slice(0, 32);
  const units = [...new Set([...SAMPLES, ...literal, ...UNITS])];
  timeSplit(regex, PROSE, 1);
  timeSplit(regex, units.join(''), 1);
  for (const unit of units) {
    for (const ending of ENDINGS) {
      if (ending === unit) continue;
      const long = [...unit].length === 1 && (ending === '' || ending === (unit === '!' ? 'a' : '!'));
      // Time a character takes on the longest short run: long runs may cost at most GROWTH times as much.
      let perChar = 0;
      for (const length of long ? [...SHORT_LENGTHS, ...LONG_LENGTHS] : SHORT_LENGTHS) {
        const text = unit.repeat(length) + ending;
        const slow = (ms: number) => ms > PROBE_BUDGET_MS || (length > SHORT_LENGTHS.at(-1)! && ms > GROWTH_MIN_MS && ms / text.length > GROWTH * perChar);
        if (long && length === SHORT_LENGTHS.at(-1)) perChar = Math.max(timeSplit(regex, text, 3) / text.length, MIN_MS_PER_CHAR);
        if (slow(timeSplit(regex, text, 1)) && slow(timeSplit(regex, text, 5))) {
          const ms = timeSplit(regex, text, 1);
          throw new Error(
            `pattern ${quote(pattern)} takes ${ms.toFixed(0)} ms to split ${text.length} characters (${quote(unit)} repeated, then ${quote(ending)}): its matching time grows faster than the text (backtracking), so long inputs would hang`,
          );
        }
      }
    }
  }
}

/**
 * Compiles a pre-tokenisation pattern with flags `uy` after vetting it (see the module comment).
 * Errors start with `source` (the file and field). Vetted patterns are remembered, so each is
 * probed once per process.
 */
export function compilePattern(pattern: unknown, source: string): RegExp {
  if (typeof pattern !== 'string' || pattern === '')
    throw new Error(`${source}: the pattern must be a non-empty string (a regular expression), got ${JSON.stringify(pattern)}`);
  if (pattern.length > MAX_PATTERN_LENGTH)
    throw new Error(`${source}: the pattern is ${pattern.length} characters long; at most ${MAX_PATTERN_LENGTH} are allowed`);
  let regex: RegExp;
  try {
    regex = new RegExp(pattern, 'uy');
  } catch (error) {
    throw new Error(`${source}: pattern ${quote(pattern)} is not a valid regular expression: ${(error as Error).message}`);
  }
  if (vetted.has(pattern)) return regex;
  try {
    checkStructure(pattern);
    probe(regex, pattern);
  } catch (error) {
    throw new Error(`${source}: ${(error as Error).message}`);
  }
  vetted.add(pattern);
  return regex;
}
