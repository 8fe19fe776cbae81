// The reports of `minigpt compare`: a table for the terminal, CSV, and an SVG chart drawn by
// Apache ECharts' server-side renderer (no browser, no DOM).
import type { VariantResult } from '@embedlab/mini-gpt';
import * as echarts from 'echarts';

const loss = (value: number | null) => (value === null ? 'n/a' : value.toFixed(3));

/** One row per variant: parameters and the loss at each multiple of the training length. */
export function resultsTable(rows: VariantResult[]): string {
  const multiples = rows[0]?.contexts.map((c) => c.multiple) ?? [];
  const header = ['variant', 'parameters', ...multiples.map((m) => `loss @${m}x`)];
  const body = rows.map((r) => [r.name, r.parameters.toLocaleString('en-US'), ...r.contexts.map((c) => loss(c.loss))]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(header), `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...body.map(line)].join('\n');
}

export function resultsCsv(rows: VariantResult[]): string {
  const multiples = rows[0]?.contexts.map((c) => c.multiple) ?? [];
  const header = ['variant', 'position', 'tied', 'rope_scaling', 'parameters', ...multiples.flatMap((m) => [`loss_${m}x`, `perplexity_${m}x`])];
  const body = rows.map((r) => [
    r.name,
    r.position,
    String(r.tieWeights),
    r.ropeScaling ?? '',
    String(r.parameters),
    ...r.contexts.flatMap((c) => [c.loss ?? '', c.perplexity ?? ''].map(String)),
  ]);
  return `${[header, ...body].map((cells) => cells.join(',')).join('\n')}\n`;
}

/** The mean of each value and its neighbours within `radius` (the per-position loss of a small text is noisy). */
function smoothed(values: number[], radius: number): number[] {
  return values.map((_, i) => {
    const window = values.slice(Math.max(0, i - radius), i + radius + 1);
    return window.reduce((a, b) => a + b, 0) / window.length;
  });
}

/**
 * Loss at each position of the longest window each variant can read, with the training length
 * marked: where a curve leaves the others past the line is where its encoding stops extrapolating.
 */
export function lossByPositionSvg(rows: VariantResult[], trainedLength: number, data: string): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: 900, height: 520 });
  const radius = Math.max(1, Math.round(trainedLength / 8));
  const longestContext = Math.max(trainedLength, ...rows.flatMap((row) => row.contexts.filter((c) => c.byPosition.length > 0).map((c) => c.context)));
  const series = rows.map((row, i) => {
    const longest = [...row.contexts].reverse().find((c) => c.byPosition.length > 0);
    const points = smoothed(longest?.byPosition ?? [], radius).map((value, position) => [position, Number(value.toFixed(4))]);
    const marker = {
      symbol: 'none',
      lineStyle: { type: 'dashed', color: '#555' },
      label: { formatter: `trained length ${trainedLength}` },
      data: [{ xAxis: trainedLength }],
    };
    return { name: row.name, type: 'line' as const, showSymbol: false, data: points, ...(i === 0 ? { markLine: marker } : {}) };
  });
  chart.setOption({
    animation: false,
    title: {
      text: 'Loss by position: how far each position encoding extrapolates',
      subtext: `${data}; trained on ${trainedLength} positions (dashed line); mean of ${2 * radius + 1} neighbouring positions`,
      left: 'center',
    },
    legend: { type: 'plain', bottom: 0 },
    grid: { top: 85, bottom: 90, left: 70, right: 30 },
    xAxis: { type: 'value', name: 'position in the window', nameLocation: 'middle', nameGap: 28, min: 0, max: longestContext },
    yAxis: { type: 'value', name: 'loss (nats per token)', nameLocation: 'middle', nameGap: 48, scale: true },
    series,
  });
  const svg = chart.renderToSVGString();
  chart.dispose();
  return withTextAlternative(
    svg,
    `Loss by position for ${rows.map((r) => r.name).join(', ')}`,
    rows.map((r) => `${r.name}: ${r.contexts.map((c) => `${c.multiple}x ${loss(c.loss)}`).join(', ')}`).join('; '),
  );
}

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A title and a description (the table's numbers) for screen readers and for readers of the file. */
function withTextAlternative(svg: string, title: string, description: string): string {
  const open = svg.indexOf('>') + 1;
  return `${svg.slice(0, open).replace('<svg ', '<svg role="img" ')}<title>${escapeXml(title)}</title><desc>${escapeXml(description)}</desc>${svg.slice(open)}`;
}
