// The one way options and file metadata are described and checked: valibot schemas (small, typed,
// tree-shaken in the browser bundle), with rules written as "what a value must be", and errors
// that name the field's path, the rule and the value given.
import * as v from 'valibot';

/** A field that holds a value when `check` accepts it; `rule` says what it must be ("a positive integer"). */
export function field<T>(check: (value: unknown) => boolean, rule: string): v.CustomSchema<T, string> {
  return v.custom<T, string>(check, rule);
}

export const positiveInteger = field<number>((x) => Number.isSafeInteger(x) && (x as number) >= 1, 'a positive integer');
export const nonNegativeInteger = field<number>((x) => Number.isSafeInteger(x) && (x as number) >= 0, 'an integer >= 0');
export const nonNegativeNumber = field<number>((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0, 'a non-negative number');
export const boolean = field<boolean>((x) => typeof x === 'boolean', 'true or false');
export const text = field<string>((x) => typeof x === 'string', 'a string');

/** One of `choices`, said as `'a', 'b' or 'c'`. */
export function oneOf<const T extends string>(choices: readonly T[]): v.CustomSchema<T, string> {
  const said = choices.map((choice) => `'${choice}'`);
  return field<T>((x) => choices.includes(x as T), said.length > 1 ? `${said.slice(0, -1).join(', ')} or ${said.at(-1)}` : said[0]!);
}

/** A plain object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value for messages: numbers as JavaScript writes them (JSON would show Infinity and NaN as null). */
export function shown(value: unknown): string {
  return typeof value === 'number' ? String(value) : value === undefined ? 'nothing' : (JSON.stringify(value) ?? String(value));
}

const UNKNOWN_KEY = 'unknown key';
const REQUIRED = 'required';

/** What is wrong with one field: its path (`rope.base`), the rule and the value given. */
export interface FieldProblem {
  path: string;
  rule: string;
  value: unknown;
}

/**
 * Options or a file that a schema refused. The message names the first problem; `problems` lists
 * them all, and `fields` the paths involved, so that a front end can say where each came from
 * (a CLI flag, a config file's key).
 */
export class OptionsError extends RangeError {
  constructor(
    readonly label: string,
    readonly problems: FieldProblem[],
  ) {
    const first = problems[0]!;
    super(
      first.path === ''
        ? `${label} must be ${first.rule}, got ${shown(first.value)}`
        : first.rule === UNKNOWN_KEY
          ? `${label}: unknown key ${first.path}`
          : first.rule === REQUIRED
            ? `${label}: ${first.path} is required`
            : `${label}: ${first.path} must be ${first.rule}, got ${shown(first.value)}`,
    );
    this.name = 'OptionsError';
  }

  /** The fields the problems name. */
  get fields(): string[] {
    return [...new Set(this.problems.map((problem) => problem.path).filter(Boolean))];
  }
}

function problemOf(issue: v.BaseIssue<unknown>): FieldProblem {
  const path = (issue.path ?? []).map((item) => String(item.key)).join('.');
  // A rule on several fields is checked on the whole object: the value is the field's.
  const value = issue.path?.length ? issue.path.at(-1)!.value : issue.input;
  // A strict object's unknown key: the key is the path.
  if (issue.type === 'strict_object' && issue.expected === 'never') return { path, rule: UNKNOWN_KEY, value };
  if ((issue.type === 'strict_object' || issue.type === 'object') && issue.received === 'undefined' && path !== '') return { path, rule: REQUIRED, value };
  if (issue.expected === 'Object') return { path, rule: 'an object', value };
  // A variant's tag (a data source's `kind`): one of its values.
  if (issue.type === 'variant')
    return {
      path,
      rule: `one of ${issue.expected
        ?.replace(/^\(|\)$/g, '')
        .split(' | ')
        .join(', ')}`,
      value,
    };
  return { path, rule: issue.message, value };
}

/** Adds a problem with a field (`keys`: its path) of an object being checked by a rule on several fields. */
export function fieldIssue(
  addIssue: (info: { message: string; path: [v.ObjectPathItem, ...v.ObjectPathItem[]] }) => void,
  input: Record<string, unknown>,
  keys: string | [string, ...string[]],
  rule: string,
): void {
  const path: v.ObjectPathItem[] = [];
  let object = input;
  for (const key of typeof keys === 'string' ? [keys] : keys) {
    path.push({ type: 'object', origin: 'value', input: object, key, value: object[key] });
    object = object[key] as Record<string, unknown>;
  }
  addIssue({ message: rule, path: path as [v.ObjectPathItem, ...v.ObjectPathItem[]] });
}

/** `input` checked and completed by `schema` (defaults filled in), or an `OptionsError` labelled `label`. */
export function parseWith<S extends v.GenericSchema>(schema: S, input: unknown, label: string): v.InferOutput<S> {
  const result = v.safeParse(schema, input, { abortPipeEarly: true });
  if (result.success) return result.output;
  throw new OptionsError(label, result.issues.map(problemOf));
}
