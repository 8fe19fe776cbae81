// Small DOM helpers shared by the panels.
export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

export function field(labelText: string, control: HTMLElement): HTMLLabelElement {
  return element('label', {}, labelText, control);
}

export function select(options: [string, string][], selected?: string): HTMLSelectElement {
  const node = element('select');
  for (const [value, text] of options) node.append(element('option', { value, ...(value === selected ? { selected: '' } : {}) }, text));
  return node;
}

export function numberInput(value: number, min: number, max: number, step = 1): HTMLInputElement {
  return element('input', { type: 'number', value: String(value), min: String(min), max: String(max), step: String(step) });
}

/** An error about one input: shown next to it, and the input marked invalid. */
export class InputError extends Error {
  constructor(
    readonly input: HTMLElement,
    message: string,
  ) {
    super(message);
  }
}

/** A whole number from an input, checked against its own min and max; the message names the field. */
export function readInteger(input: HTMLInputElement, name: string): number {
  const raw = input.value.trim();
  const value = Number(raw);
  const min = Number(input.min);
  const max = Number(input.max);
  if (raw === '' || !Number.isInteger(value) || value < min || value > max) {
    throw new InputError(
      input,
      `${name} must be a whole number from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}; got ${raw === '' ? 'an empty field' : raw}`,
    );
  }
  return value;
}

/**
 * An error box that sits next to the controls it is about (role=alert, so it is announced):
 * each panel has its own, so an error never shows on another panel.
 */
export function errorBox(id: string): HTMLParagraphElement {
  return element('p', { class: 'error', id, role: 'alert', hidden: '' });
}

/** Shows an error in its box, scrolled into view (the app keeps working). */
export function showError(box: HTMLElement, error: unknown): void {
  box.textContent = error instanceof Error ? error.message : String(error);
  box.hidden = false;
  if (error instanceof InputError) error.input.setAttribute('aria-invalid', 'true');
  box.scrollIntoView({ block: 'nearest' });
}

/** Hides a box's error and unmarks the inputs of its panel. */
export function clearError(box: HTMLElement): void {
  box.hidden = true;
  box.textContent = '';
  for (const input of box.closest('section')?.querySelectorAll('[aria-invalid]') ?? []) input.removeAttribute('aria-invalid');
}

/** Clears a panel's error whenever one of its inputs changes (the state the error was about is gone). */
export function clearOnChange(root: HTMLElement, box: HTMLElement): void {
  // Capture: cleared before the control's own listener runs (which may show a new error).
  root.addEventListener('input', () => clearError(box), true);
  root.addEventListener('change', () => clearError(box), true);
}

/** "1 character", "2 characters". */
export function plural(count: number, noun: string): string {
  return `${count.toLocaleString('en-US')} ${noun}${count === 1 ? '' : 's'}`;
}

/** Characters as people count them: code points, so an emoji is one (a string's length counts UTF-16 units, two). */
export function characters(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** "850 ms", "4.2 s", "12 s", "3 min 5 s". */
export function duration(seconds: number): string {
  if (seconds < 1) return `${Math.max(1, Math.round(seconds * 1000))} ms`;
  if (seconds < 90) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

/** A number with 4 significant digits, as charts and tooltips show it. */
export function short(value: unknown): string {
  const n = Number(value);
  return Number.isFinite(n) ? String(Number(n.toPrecision(4))) : String(value);
}

/** Whitespace and control characters made visible: a space as ␣, a newline as ⏎, a tab as ⇥. */
export function visible(token: string): string {
  return token.replace(/[\p{Cc} ]/gu, (c) =>
    c === ' '
      ? '␣'
      : c === '\n'
        ? '⏎'
        : c === '\t'
          ? '⇥'
          : c.charCodeAt(0) < 0x20
            ? String.fromCharCode(0x2400 + c.charCodeAt(0))
            : `\\u{${c.charCodeAt(0).toString(16)}}`,
  );
}

/** A token in running text, isolated so right-to-left tokens do not reorder the list around them. */
export function tokenText(token: string): HTMLElement {
  return element('bdi', { class: 'token' }, visible(token));
}

/** A stable, readable colour per id. */
export function colourFor(id: number): string {
  return `hsl(${(id * 137.508) % 360} 70% 85%)`;
}
