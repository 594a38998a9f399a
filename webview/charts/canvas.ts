/**
 * Helpers for the charts Chart.js has no type for (heatmap, parallel coordinates): a canvas
 * sized to its box at the device pixel ratio, and value → position axes for numeric and
 * categorical parameters.
 */
import { probes } from './chartjs';

/** While an export re-draws a chart, the context it draws into instead of the host's canvas. */
let target: { host: HTMLElement; ctx: CanvasRenderingContext2D; w: number; h: number } | null = null;

/** Runs `draw` with `sizedCanvas(host)` answering `ctx` (a recording context of the same size). */
export function drawInto(host: HTMLElement, ctx: CanvasRenderingContext2D, w: number, h: number, draw: () => void): void {
  target = { host, ctx, w, h };
  try {
    draw();
  } finally {
    target = null;
  }
}

/** Makes (or reuses) a canvas filling `host`; returns its 2-D context in CSS pixels. */
export function sizedCanvas(host: HTMLElement): { ctx: CanvasRenderingContext2D; w: number; h: number; canvas: HTMLCanvasElement } {
  if (target && target.host === host) return { ctx: target.ctx, w: target.w, h: target.h, canvas: target.ctx.canvas };
  let canvas = host.querySelector('canvas');
  if (!canvas) {
    canvas = document.createElement('canvas');
    host.replaceChildren(canvas);
  }
  const w = Math.max(50, host.clientWidth);
  const h = Math.max(50, host.clientHeight);
  const dpr = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    canvas.style.width = `${w}px`;
    canvas.style.height = `${h}px`;
  }
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return { ctx, w, h, canvas };
}

/** Records a draw for the tests and the benchmark (same probes as the Chart.js charts). */
export function probeDraw(name: string, points: number): void {
  const p = (probes[name] ??= { draws: 0, lastDrawAt: 0, points: 0 });
  p.draws++;
  p.lastDrawAt = performance.now();
  p.points = points;
}

export type Value = number | string | boolean | null | undefined;

/** Maps a parameter's values to [0, 1]: numeric as a linear scale, anything else as evenly spaced categories. */
export interface ValueAxis {
  numeric: boolean;
  min: number;
  max: number;
  categories: string[];
  pos(v: Value): number | null;
  label(t: number): string;
}

export function valueAxis(values: Iterable<Value>): ValueAxis {
  let numeric = true;
  let min = Infinity;
  let max = -Infinity;
  const cats = new Set<string>();
  for (const v of values) {
    if (v === null || v === undefined) continue;
    if (typeof v === 'number' && Number.isFinite(v)) {
      if (v < min) min = v;
      if (v > max) max = v;
      if (cats.size <= 64) cats.add(String(v));
    } else {
      numeric = false;
      cats.add(String(v));
    }
  }
  if (numeric) {
    const span = max > min ? max - min : 1;
    return {
      numeric,
      min,
      max,
      categories: [],
      pos: (v) => (typeof v === 'number' ? (v - min) / span : null),
      label: (t) => {
        const x = min + t * (max > min ? max - min : 0);
        return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(3)));
      },
    };
  }
  const categories = [...cats].sort();
  const idx = new Map(categories.map((c, i) => [c, i] as const));
  const n = Math.max(1, categories.length - 1);
  return {
    numeric,
    min: 0,
    max: categories.length - 1,
    categories,
    pos: (v) => {
      const i = idx.get(String(v));
      return i === undefined ? null : categories.length === 1 ? 0.5 : i / n;
    },
    label: (t) => categories[Math.round(t * n)] ?? '',
  };
}
