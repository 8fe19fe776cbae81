// Charts with Apache ECharts: line charts, heatmaps and labelled scatter plots from one library.
import { type EChartsOption, init } from 'echarts';
import { short } from './ui.js';

const charts = new WeakMap<HTMLElement, ReturnType<typeof init>>();
const drawn = new WeakMap<HTMLElement, { option: EChartsOption; description: string }>();

/**
 * Draws `option` in `container` (which must be in the page, so ECharts can measure it).
 * `description` is the chart's text alternative (role=img + aria-label) for people who cannot
 * see it. Long titles wrap to the container's width; values in tooltips have 4 significant digits.
 */
export function chart(container: HTMLElement, option: EChartsOption, description: string): void {
  let instance = charts.get(container);
  if (!instance) {
    instance = init(container, undefined, { renderer: 'canvas' });
    charts.set(container, instance);
    // A new width re-wraps the title too.
    new ResizeObserver(() => {
      instance!.resize();
      const last = drawn.get(container);
      if (last && container.clientWidth > 0) chart(container, last.option, last.description);
    }).observe(container);
  }
  drawn.set(container, { option, description });
  container.setAttribute('role', 'img');
  container.setAttribute('aria-label', description);
  const width = Math.max(160, container.clientWidth - 20);
  const title =
    option.title && !Array.isArray(option.title)
      ? { top: 5, ...option.title, textStyle: { fontSize: 13, lineHeight: 17, width, overflow: 'break' as const, ...option.title.textStyle } }
      : option.title;
  const tooltip = option.tooltip && !Array.isArray(option.tooltip) ? { valueFormatter: short, ...option.tooltip } : option.tooltip;
  // A title that wraps (a phone's width) pushes the plot down by its extra lines (~7 px a character).
  const text = title && !Array.isArray(title) ? String(title.text ?? '') : '';
  const extraLines = Math.max(0, Math.ceil((text.length * 7) / width) - 1);
  // A y-axis name in ECharts' default place sits above the plot: the plot starts below the title's
  // lines (from 5 px, 17 px each) and the name (~30 px), so a wrapped title never covers it.
  const yAxis = option.yAxis && !Array.isArray(option.yAxis) ? option.yAxis : undefined;
  const nameAbove = yAxis?.name && yAxis.nameLocation === undefined ? 5 + (extraLines + 1) * 17 + 30 : 0;
  const grid =
    option.grid && !Array.isArray(option.grid) && typeof option.grid.top === 'number'
      ? {
          ...option.grid,
          top: Math.max(option.grid.top + extraLines * 17, nameAbove),
          ...(typeof option.grid.bottom === 'number' ? { bottom: option.grid.bottom + (legendLines(option, width) - 1) * 22 } : {}),
        }
      : option.grid;
  instance.setOption({ ...option, ...(title ? { title } : {}), ...(tooltip ? { tooltip } : {}), ...(grid ? { grid } : {}) }, true);
}

/**
 * Lines a plain legend at the bottom wraps to (every name in view, unlike a scrolling legend):
 * each item is its 25 px icon, ~7 px a character of its name and a 10 px gap.
 */
function legendLines(option: EChartsOption, width: number): number {
  const legend = option.legend;
  if (!legend || Array.isArray(legend) || legend.type !== 'plain' || !Array.isArray(option.series)) return 1;
  let lines = 1;
  let used = 0;
  for (const series of option.series) {
    const item = 40 + 7 * String(series.name ?? '').length;
    if (used > 0 && used + item > width) {
      lines++;
      used = 0;
    }
    used += item;
  }
  return lines;
}

/** A heatmap of a matrix (rows top to bottom), its colour bar labelled with its range. */
export function heatmap(
  container: HTMLElement,
  title: string,
  rows: number[][],
  labels: { x?: string; y?: string; xLabels?: string[]; yLabels?: string[] } = {},
): void {
  const data: [number, number, number][] = [];
  let min = Infinity;
  let max = -Infinity;
  for (const [y, row] of rows.entries()) {
    for (const [x, value] of row.entries()) {
      data.push([x, y, value]);
      min = Math.min(min, value);
      max = Math.max(max, value);
    }
  }
  chart(
    container,
    {
      title: { text: title },
      tooltip: { position: 'top' },
      grid: { top: 50, bottom: 75, left: 55, right: 20 },
      xAxis: { type: 'category', name: labels.x ?? '', nameLocation: 'middle', nameGap: 22, data: labels.xLabels ?? rows[0]?.map((_, i) => i) ?? [] },
      // The rows' name along the axis: at its end (the bottom, the axis being inverted) it would sit on the x labels.
      yAxis: {
        type: 'category',
        name: labels.y ?? '',
        nameLocation: 'middle',
        nameRotate: 90,
        nameGap: 38,
        inverse: true,
        data: labels.yLabels ?? rows.map((_, i) => i),
      },
      visualMap: {
        min,
        max,
        calculable: false,
        orient: 'horizontal',
        left: 'center',
        bottom: 0,
        itemHeight: 120,
        itemWidth: 12,
        text: [short(max), short(min)],
        inRange: { color: ['#313695', '#f7f7f7', '#a50026'] },
      },
      series: [{ type: 'heatmap', data, progressive: 0 }],
    },
    `${title}: a heatmap of ${rows.length} rows (${labels.y ?? 'rows'}) by ${rows[0]?.length ?? 0} columns (${labels.x ?? 'columns'}), values from ${short(min)} to ${short(max)}`,
  );
}
