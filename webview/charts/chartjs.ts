/**
 * Chart.js with only what the panel uses registered (no `chart.js/auto`: a smaller bundle),
 * and the defaults every chart shares: no animation, no parsing (data arrive as {x, y}),
 * theme colours applied at draw time.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Decimation,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  ScatterController,
  Tooltip,
  type ChartConfiguration,
  type ChartType,
  type DefaultDataPoint,
  type Plugin,
} from 'chart.js';
import type { Palette } from '../theme';
import { hideTip, showTip } from '../tooltip';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, ScatterController, Tooltip, Legend, Decimation);

export { Chart };

/** Draw hooks for the tests and the benchmark: the last draw time and point count per chart. */
export interface DrawProbe {
  draws: number;
  lastDrawAt: number;
  points: number;
  /** Points per dataset label (Chart.js charts). */
  series?: Record<string, number>;
}
export const probes: Record<string, DrawProbe> = {};
(globalThis as unknown as { __optstudyProbes: typeof probes }).__optstudyProbes = probes;

/**
 * For the tests: where point `index` of the dataset labelled `label` sits on the chart in the
 * canvas `selector` (CSS pixels from the canvas' top-left corner), or null.
 */
(globalThis as unknown as Record<string, unknown>)['__optstudyPointOf'] = (selector: string, label: string, index = 0) => {
  const canvas = document.querySelector(selector) as HTMLCanvasElement | null;
  const chart = canvas ? Chart.getChart(canvas) : undefined;
  const di = chart?.data.datasets.findIndex((d) => String(d.label).startsWith(label)) ?? -1;
  const el = di >= 0 ? chart!.getDatasetMeta(di).data[index] : undefined;
  return el ? { x: el.x, y: el.y } : null;
};

/** A plugin recording each draw of a chart under `name`. */
export function probePlugin(name: string): Plugin {
  return {
    id: `probe-${name}`,
    afterDraw(chart) {
      const p = (probes[name] ??= { draws: 0, lastDrawAt: 0, points: 0 });
      p.draws++;
      p.lastDrawAt = performance.now();
      const series: Record<string, number> = {};
      for (const d of chart.data.datasets) series[String(d.label).replace(/ \(.*$/, '')] = ((d as { _data?: unknown[] })._data ?? d.data).length;
      p.series = series;
      p.points = Object.values(series).reduce((a, b) => a + b, 0);
    },
  };
}

/** Applies the palette to Chart.js' global defaults (read at draw time, so call before each redraw). */
export function applyDefaults(pal: Palette): void {
  Chart.defaults.color = pal.fg;
  Chart.defaults.borderColor = pal.grid;
  Chart.defaults.font.family = pal.font;
  Chart.defaults.font.size = Math.max(11, pal.fontSize - 1);
  Chart.defaults.animation = false;
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.plugins.legend.labels.boxWidth = 10;
  Chart.defaults.plugins.legend.labels.boxHeight = 10;
  Chart.defaults.plugins.tooltip.backgroundColor = pal.bg;
  Chart.defaults.plugins.tooltip.titleColor = pal.fg;
  Chart.defaults.plugins.tooltip.bodyColor = pal.fg;
  Chart.defaults.plugins.tooltip.borderColor = pal.grid;
  Chart.defaults.plugins.tooltip.borderWidth = 1;
}

/** Axis styling for one scale. */
export function axis(pal: Palette, title?: string): Record<string, unknown> {
  return {
    type: 'linear',
    grid: { color: pal.grid, drawTicks: false },
    border: { color: pal.grid },
    ticks: { color: pal.muted, padding: 4, maxTicksLimit: 8 },
    title: title ? { display: true, text: title, color: pal.muted } : { display: false },
  };
}

/** Creates a chart on a fresh canvas in `host`. */
export function makeChart<T extends ChartType, D = DefaultDataPoint<T>>(host: HTMLElement, config: ChartConfiguration<T, D>): Chart<T, D> {
  const canvas = document.createElement('canvas');
  host.replaceChildren(canvas);
  return new Chart<T, D>(canvas, config);
}

/** One hovered or clicked point: its dataset, label and raw data object. */
export interface HitItem {
  datasetIndex: number;
  index: number;
  label: string;
  x: number;
  y: number;
  raw: unknown;
}

/**
 * The panel's tooltip and clicks for a Chart.js chart: `lines` builds the tooltip's text from
 * the points under the pointer (null hides it), `onClick` gets the nearest point. Chart.js' own
 * canvas tooltip is turned off where this is used, so every chart shows the same DOM tooltip.
 */
export function tipPlugin(lines: (items: HitItem[]) => string[] | null, opts: { mode?: 'nearest' | 'index' | 'x'; intersect?: boolean; onClick?: (item: HitItem, ev?: MouseEvent) => void } = {}): Plugin {
  return {
    id: 'optstudy-tip',
    afterEvent(chart, args) {
      const e = args.event;
      if (e.type === 'mouseout') return hideTip();
      if (e.type !== 'mousemove' && e.type !== 'click') return;
      const els = chart.getElementsAtEventForMode(e.native as Event, opts.mode ?? 'nearest', { intersect: opts.intersect ?? false, axis: 'xy' }, false);
      const items: HitItem[] = els.map((h) => {
        const ds = chart.data.datasets[h.datasetIndex]!;
        const raw = (ds.data as unknown[])[h.index] as { x?: number; y?: number } | number;
        const p = h.element as unknown as { $context?: { parsed?: { x: number; y: number } } };
        const parsed = p.$context?.parsed;
        return {
          datasetIndex: h.datasetIndex,
          index: h.index,
          label: String(ds.label ?? ''),
          x: typeof raw === 'object' && raw && typeof raw.x === 'number' ? raw.x : (parsed?.x ?? h.index),
          y: typeof raw === 'object' && raw && typeof raw.y === 'number' ? raw.y : typeof raw === 'number' ? raw : (parsed?.y ?? NaN),
          raw,
        };
      });
      const native = e.native as MouseEvent | null;
      if (e.type === 'click') {
        if (items[0] && opts.onClick) opts.onClick(items[0], native ?? undefined);
        return;
      }
      const text = items.length ? lines(items) : null;
      if (!text || !native) hideTip();
      else showTip(text, native.clientX, native.clientY);
      chart.canvas.style.cursor = items.length && opts.onClick ? 'pointer' : 'default';
    },
  };
}
