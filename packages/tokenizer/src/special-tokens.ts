import type { EncodeOptions } from './types.js';

/** A run of ordinary text (`start` is its index in the whole text), or one special token. */
export type Segment = { special: false; text: string; start: number } | { special: true; id: number };

/** Thrown when the text holds a special token that is not allowed. */
class DisallowedSpecialTokenError extends Error {}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function resolveSet(option: 'all' | Iterable<string> | undefined, all: ReadonlyMap<string, number>, fallback: 'all' | 'none'): Set<string> {
  const chosen = option ?? fallback;
  if (chosen === 'none') return new Set();
  if (chosen === 'all') return new Set(all.keys());
  const set = new Set(chosen);
  for (const token of set)
    if (!all.has(token)) throw new Error(`unknown special token ${JSON.stringify(token)}; this tokenizer has ${JSON.stringify([...all.keys()])}`);
  return set;
}

/**
 * Splits text around the special tokens that are allowed, and refuses disallowed ones, the way
 * tiktoken does: a special token is text unless the caller opts in, so user input cannot inject
 * control tokens by accident.
 */
export class SpecialTokenSplitter {
  private readonly matcher: RegExp | undefined;

  constructor(private readonly specialTokens: ReadonlyMap<string, number>) {
    // An empty name would match everywhere without advancing.
    if (specialTokens.has('')) throw new Error('a special token cannot be the empty string');
    // Longest first, so a token that is a prefix of another never wins.
    const names = [...specialTokens.keys()].sort((a, b) => b.length - a.length);
    this.matcher = names.length === 0 ? undefined : new RegExp(names.map(escapeRegExp).join('|'), 'g');
  }

  split(text: string, options: EncodeOptions = {}): Segment[] {
    if (this.matcher === undefined) return [{ special: false, text, start: 0 }];
    const allowed = resolveSet(options.allowedSpecial, this.specialTokens, 'none');
    const disallowed = options.disallowedSpecial === undefined ? undefined : resolveSet(options.disallowedSpecial, this.specialTokens, 'all');
    const segments: Segment[] = [];
    let start = 0;
    this.matcher.lastIndex = 0;
    for (let match = this.matcher.exec(text); match !== null; match = this.matcher.exec(text)) {
      const token = match[0];
      if (allowed.has(token)) {
        if (match.index > start) segments.push({ special: false, text: text.slice(start, match.index), start });
        segments.push({ special: true, id: this.specialTokens.get(token)! });
        start = match.index + token.length;
      } else if (disallowed === undefined || disallowed.has(token)) {
        throw new DisallowedSpecialTokenError(
          `the text contains the special token ${JSON.stringify(token)} at index ${match.index}; pass { allowedSpecial: [${JSON.stringify(token)}] } to encode it as a special token, or { disallowedSpecial: [] } to encode it as plain text`,
        );
      }
    }
    if (start < text.length) segments.push({ special: false, text: text.slice(start), start });
    return segments;
  }

  /** `split`, or undefined where `split` would refuse a special token (for `canEncode`). */
  splitIfAllowed(text: string, options?: EncodeOptions): Segment[] | undefined {
    try {
      return this.split(text, options);
    } catch (error) {
      if (error instanceof DisallowedSpecialTokenError) return undefined;
      throw error;
    }
  }
}
