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

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, ScatterController, Tooltip, Legend, Decimation);

export { Chart };

/** Draw hooks for the tests and the benchmark: the last draw time and point count per chart. */
export interface DrawProbe {
  draws: number;
  lastDrawAt: number;
  points: number;
}
export const probes: Record<string, DrawProbe> = {};
(globalThis as unknown as { __optstudyProbes: typeof probes }).__optstudyProbes = probes;

/** A plugin recording each draw of a chart under `name`. */
export function probePlugin(name: string): Plugin {
  return {
    id: `probe-${name}`,
    afterDraw(chart) {
      const p = (probes[name] ??= { draws: 0, lastDrawAt: 0, points: 0 });
      p.draws++;
      p.lastDrawAt = performance.now();
      p.points = chart.data.datasets.reduce((n, d) => n + ((d as { _data?: unknown[] })._data ?? d.data).length, 0);
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

/** Short number for ticks and cells. */
export function fmt(v: number | null | undefined, digits = 4): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(2);
  if (a >= 1000) return v.toFixed(0);
  return String(Number(v.toPrecision(digits)));
}
