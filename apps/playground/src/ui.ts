// Small DOM helpers shared by the panels.
export function element<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
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

/** Shows an error to the person (and keeps the app usable). */
export function showError(error: unknown): void {
  const box = document.getElementById('error')!;
  box.textContent = error instanceof Error ? error.message : String(error);
  box.hidden = false;
}

export function clearError(): void {
  document.getElementById('error')!.hidden = true;
}

/** A stable, readable colour per id. */
export function colourFor(id: number): string {
  return `hsl(${(id * 137.508) % 360} 70% 85%)`;
}
