// Charts with Apache ECharts: line charts, heatmaps and labelled scatter plots from one library.
import { init, type EChartsOption } from 'echarts';

const charts = new WeakMap<HTMLElement, ReturnType<typeof init>>();

export function chart(container: HTMLElement, option: EChartsOption): void {
  let instance = charts.get(container);
  if (!instance) {
    instance = init(container, undefined, { renderer: 'canvas' });
    charts.set(container, instance);
    new ResizeObserver(() => instance!.resize()).observe(container);
  }
  instance.setOption(option, true);
}

/** A heatmap of a matrix (rows top to bottom). */
export function heatmap(container: HTMLElement, title: string, rows: number[][], labels: { x?: string; y?: string } = {}): void {
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
  chart(container, {
    title: { text: title, textStyle: { fontSize: 13 } },
    tooltip: { position: 'top' },
    grid: { top: 30, bottom: 40, left: 50, right: 20 },
    xAxis: { type: 'category', name: labels.x ?? '', data: rows[0]?.map((_, i) => i) ?? [] },
    yAxis: { type: 'category', name: labels.y ?? '', inverse: true, data: rows.map((_, i) => i) },
    visualMap: { min, max, calculable: false, orient: 'horizontal', left: 'center', bottom: 0, itemHeight: 120, inRange: { color: ['#313695', '#f7f7f7', '#a50026'] } },
    series: [{ type: 'heatmap', data, progressive: 0 }],
  });
}
