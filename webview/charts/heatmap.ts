/**
 * The 2-D surface: the score over two chosen parameters, aggregated in the panel from the
 * trials it holds (mean or best per cell). Parameters with many distinct values (continuous
 * searches) are binned. Cells no trial reached are hatched; cells whose trials all failed or
 * were infeasible are crossed — a gap is never drawn as a low score.
 */
import type { TrialRow } from '../../protocol/messages';
import { firstScore, type PanelStore } from '../store';
import { readPalette, scaleColor, withAlpha } from '../theme';
import { fmt } from '../format';
import type { Links } from '../links';
import { hideTip, showTip } from '../tooltip';
import { trialLines } from '../trial-text';
import { probeDraw, sizedCanvas, type Value } from './canvas';

const MAX_BINS = 16;

/** The distinct cells of one parameter: exact values when few, equal-width bins when many. */
export interface Bins {
  /** Short axis labels (a bin's midpoint when binned). */
  labels: string[];
  /** Full names for tooltips (a bin's range when binned). */
  names: string[];
  index(v: Value): number;
}

export function makeBins(values: Value[]): Bins {
  const distinct = new Map<string, Value>();
  let numeric = true;
  for (const v of values) {
    if (v === null || v === undefined) continue;
    distinct.set(String(v), v);
    if (typeof v !== 'number') numeric = false;
  }
  const vals = [...distinct.values()];
  if (numeric && vals.length > 24) {
    const nums = vals as number[];
    const min = Math.min(...nums);
    const max = Math.max(...nums);
    const w = (max - min) / MAX_BINS || 1;
    const names = Array.from({ length: MAX_BINS }, (_, i) => `${fmt(min + i * w, 3)} – ${fmt(min + (i + 1) * w, 3)}`);
    const labels = Array.from({ length: MAX_BINS }, (_, i) => `≈${fmt(min + (i + 0.5) * w, 3)}`);
    return { labels, names, index: (v) => (typeof v === 'number' ? Math.min(MAX_BINS - 1, Math.max(0, Math.floor((v - min) / w))) : -1) };
  }
  if (numeric) (vals as number[]).sort((a, b) => a - b);
  else vals.sort((a, b) => String(a).localeCompare(String(b)));
  const labels = vals.map((v) => String(v));
  const idx = new Map(labels.map((l, i) => [l, i] as const));
  return { labels, names: labels, index: (v) => idx.get(String(v)) ?? -1 };
}

export interface Cell {
  n: number;
  ok: number;
  sum: number;
  best: number | null;
  /** Index (into the rows given) of the cell's best trial. */
  bestAt: number;
}

/** Aggregates rows into a grid of cells (pure; the tests call it too). */
export function aggregate(rows: TrialRow[], xi: number, yi: number, better: (a: number, b: number) => boolean) {
  const bx = makeBins(rows.map((r) => r.p[xi]));
  const by = makeBins(rows.map((r) => r.p[yi]));
  const cells: Cell[][] = by.labels.map(() => bx.labels.map(() => ({ n: 0, ok: 0, sum: 0, best: null, bestAt: -1 })));
  rows.forEach((r, k) => {
    const cx = bx.index(r.p[xi]);
    const cy = by.index(r.p[yi]);
    if (cx < 0 || cy < 0) return;
    const c = cells[cy]![cx]!;
    c.n++;
    const s = r.st === 'complete' ? firstScore(r.sc) : null;
    if (s === null) return;
    c.ok++;
    c.sum += s;
    if (c.best === null || better(s, c.best)) {
      c.best = s;
      c.bestAt = k;
    }
  });
  return { bx, by, cells };
}

/**
 * Contour segments of a grid of values at `level` (marching squares over the cell centres);
 * null values break the lines. Coordinates are in cell units (centre of cell i = i + 0.5).
 */
export function contourSegments(grid: (number | null)[][], level: number): [number, number, number, number][] {
  const out: [number, number, number, number][] = [];
  for (let j = 0; j + 1 < grid.length; j++) {
    for (let i = 0; i + 1 < grid[j]!.length; i++) {
      const a = grid[j]![i];
      const b = grid[j]![i + 1];
      const c = grid[j + 1]![i + 1];
      const d = grid[j + 1]![i];
      if (a == null || b == null || c == null || d == null) continue;
      // Crossing points on the square's four edges (bottom a-b, right b-c, top d-c, left a-d).
      const pts: [number, number][] = [];
      const cross = (v0: number, v1: number, x0: number, y0: number, x1: number, y1: number) => {
        if ((v0 < level) === (v1 < level)) return;
        const t = (level - v0) / (v1 - v0);
        pts.push([x0 + (x1 - x0) * t, y0 + (y1 - y0) * t]);
      };
      const x = i + 0.5;
      const y = j + 0.5;
      cross(a, b, x, y, x + 1, y);
      cross(b, c, x + 1, y, x + 1, y + 1);
      cross(d, c, x, y + 1, x + 1, y + 1);
      cross(a, d, x, y, x, y + 1);
      if (pts.length >= 2) out.push([pts[0]![0], pts[0]![1], pts[1]![0], pts[1]![1]]);
      if (pts.length === 4) out.push([pts[2]![0], pts[2]![1], pts[3]![0], pts[3]![1]]);
    }
  }
  return out;
}

/** The score per cell over two parameters, from the trials that set both. */
export interface ScoreGrid {
  /** The trials drawn (a cell's `bestAt` indexes these). */
  rows: TrialRow[];
  bx: Bins;
  by: Bins;
  cells: Cell[][];
  /** Each cell's value (mean or best score), null when none of its trials is feasible. */
  values: (number | null)[][];
  /** The values' range; lo > hi when no cell has a value. */
  lo: number;
  hi: number;
}

/** A cell's value: the mean or best score of its feasible trials, null when it has none. */
export function cellValue(c: Cell, agg: 'mean' | 'best'): number | null {
  return c.ok === 0 ? null : agg === 'mean' ? c.sum / c.ok : c.best;
}

/** Aggregates the store's trials that set both parameters into cells and their values. */
export function scoreGrid(store: PanelStore, xi: number, yi: number, agg: 'mean' | 'best'): ScoreGrid {
  const rows = store.rows.filter((r) => r.p[xi] !== null && r.p[xi] !== undefined && r.p[yi] !== null && r.p[yi] !== undefined);
  const { bx, by, cells } = aggregate(rows, xi, yi, (a, b) => store.better(a, b));
  const values = cells.map((row) => row.map((c) => cellValue(c, agg)));
  let lo = Infinity;
  let hi = -Infinity;
  for (const row of values) for (const v of row) if (v !== null) (lo = Math.min(lo, v), (hi = Math.max(hi, v)));
  return { rows, bx, by, cells, values, lo, hi };
}

/** Where the grid sits on the canvas (CSS pixels): its box, a cell's size, the canvas height. */
interface Frame {
  left: number;
  top: number;
  gw: number;
  gh: number;
  cw: number;
  ch: number;
  h: number;
}

type Palette = ReturnType<typeof readPalette>;

export class Heatmap {
  constructor(private readonly host: HTMLElement, private readonly store: PanelStore, private readonly links: Links) {}

  draw(xName: string, yName: string, agg: 'mean' | 'best'): void {
    const store = this.store;
    const { ctx, w, h, canvas } = sizedCanvas(this.host);
    const pal = readPalette();
    const xi = store.paramIndex(xName);
    const yi = store.paramIndex(yName);
    ctx.font = `${Math.max(11, pal.fontSize - 1)}px ${pal.font}`;
    if (xi < 0 || yi < 0 || xi === yi) {
      ctx.fillStyle = pal.muted;
      ctx.textBaseline = 'top';
      ctx.fillText(xi === yi && xi >= 0 ? 'Pick two different parameters.' : 'Needs two searched parameters.', 12, 12);
      probeDraw('heatmap', 0);
      return;
    }
    const s = scoreGrid(store, xi, yi, agg);
    const g = frameOf(ctx, s, w, h);
    const minimize = store.directions[0] === 'minimize';
    drawCells(ctx, g, s, minimize, pal);
    drawContours(ctx, g, s, pal);
    ctx.strokeStyle = pal.grid;
    ctx.strokeRect(g.left + 0.5, g.top + 0.5, g.gw, g.gh);
    this.drawAxes(ctx, g, s.bx.labels, s.by.labels, xName, yName, pal);
    drawLegend(ctx, g, s, minimize, pal);
    this.listen(canvas, g, s, xName, yName, agg);
    probeDraw('heatmap', s.rows.length);
  }

  /** A cell's tooltip on hover (its best trial's lines when it has one); a click opens that trial. */
  private listen(canvas: HTMLCanvasElement, g: Frame, s: ScoreGrid, xName: string, yName: string, agg: 'mean' | 'best'): void {
    const bestOf = (c: Cell) => (c.bestAt >= 0 ? s.rows[c.bestAt] : undefined);
    canvas.onmousemove = (ev) => {
      const hit = cellAt(canvas, g, s.cells, ev);
      if (!hit) return hideTip();
      const { c, i, j } = hit;
      const v = cellValue(c, agg);
      const head = `${xName} = ${s.bx.names[i]}, ${yName} = ${s.by.names[j]}`;
      const what = c.n === 0 ? 'not tried' : v === null ? `${c.n} trial(s), none feasible` : `${agg} score ${fmt(v)} over ${c.ok} trial(s)`;
      const best = bestOf(c);
      showTip(best ? [head, what, ...trialLines(this.store, best).map((l, k) => (k === 0 ? `best: ${l}` : l))] : [head, what], ev.clientX, ev.clientY);
      canvas.style.cursor = best ? 'pointer' : 'default';
    };
    canvas.onmouseleave = () => hideTip();
    canvas.onclick = (ev) => {
      const hit = cellAt(canvas, g, s.cells, ev);
      const best = hit ? bestOf(hit.c) : undefined;
      if (best) this.links.open(best.n, ev.shiftKey);
    };
  }

  private drawAxes(ctx: CanvasRenderingContext2D, g: Frame, xl: string[], yl: string[], xName: string, yName: string, pal: Palette): void {
    // Tick labels thinned so they never overlap.
    ctx.fillStyle = pal.muted;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    const widest = Math.max(1, ...xl.map((l) => ctx.measureText(l).width)) + 10;
    const xEvery = Math.max(1, Math.ceil(xl.length / Math.max(1, Math.floor(g.gw / widest))));
    xl.forEach((l, i) => {
      if (i % xEvery === 0) ctx.fillText(l, g.left + (i + 0.5) * g.cw, g.top + g.gh + 4);
    });
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    const yEvery = Math.max(1, Math.ceil(yl.length / Math.max(1, Math.floor(g.gh / 16))));
    yl.forEach((l, j) => {
      if (j % yEvery === 0) ctx.fillText(l, g.left - 6, g.top + g.gh - (j + 0.5) * g.ch);
    });
    ctx.fillStyle = pal.fg;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    ctx.fillText(xName, g.left + g.gw / 2, g.h - 2);
    ctx.save();
    ctx.translate(2, g.top + g.gh / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = 'top';
    ctx.fillText(yName, 0, 0);
    ctx.restore();
  }
}

/**
 * The grid's place: room on the left for the widest y label plus the rotated axis title, on the
 * right for the legend and its labels, below for the x labels and title.
 */
function frameOf(ctx: CanvasRenderingContext2D, s: ScoreGrid, w: number, h: number): Frame {
  const yLabelW = Math.ceil(Math.max(0, ...s.by.labels.map((l) => ctx.measureText(l).width)));
  const left = Math.min(140, yLabelW + 30);
  const legendLabels = s.hi >= s.lo ? [fmt(s.lo, 3), fmt(s.hi, 3)] : [];
  const legendW = 26 + Math.ceil(Math.max(0, ...legendLabels.map((l) => ctx.measureText(l).width)));
  const bottom = 40;
  const top = 10;
  const gw = Math.max(10, w - left - legendW - 8);
  const gh = Math.max(10, h - top - bottom);
  return { left, top, gw, gh, cw: gw / s.bx.labels.length, ch: gh / s.by.labels.length, h };
}

/** The cells: coloured by value, crossed when tried but never feasible, hatched when never tried. */
function drawCells(ctx: CanvasRenderingContext2D, g: Frame, s: ScoreGrid, minimize: boolean, pal: Palette): void {
  const { lo, hi } = s;
  const t = (v: number) => (hi > lo ? (v - lo) / (hi - lo) : 0.5);
  // y grows upward like a plot, so the first value sits at the bottom.
  for (let j = 0; j < s.by.labels.length; j++) {
    for (let i = 0; i < s.bx.labels.length; i++) {
      const c = s.cells[j]![i]!;
      const x = g.left + i * g.cw;
      const y = g.top + g.gh - (j + 1) * g.ch;
      const v = s.values[j]![i]!;
      if (v !== null) {
        ctx.fillStyle = scaleColor(minimize ? 1 - t(v) : t(v));
        ctx.fillRect(x, y, g.cw + 0.5, g.ch + 0.5);
      } else if (c.n > 0) drawCross(ctx, x, y, g.cw, g.ch, withAlpha(pal.bad, 0.8));
      else drawHatch(ctx, x, y, g.cw, g.ch, withAlpha(pal.muted, 0.35));
    }
  }
}

/** Contours at five evenly spaced levels, in the background colour (readable over any cell colour). */
function drawContours(ctx: CanvasRenderingContext2D, g: Frame, s: ScoreGrid, pal: Palette): void {
  const { lo, hi } = s;
  if (!(hi > lo)) return;
  ctx.lineWidth = 1;
  ctx.strokeStyle = withAlpha(pal.bg, 0.7);
  ctx.beginPath();
  for (let k = 1; k <= 5; k++) {
    for (const [x0, y0, x1, y1] of contourSegments(s.values, lo + ((hi - lo) * k) / 6)) {
      ctx.moveTo(g.left + x0 * g.cw, g.top + g.gh - y0 * g.ch);
      ctx.lineTo(g.left + x1 * g.cw, g.top + g.gh - y1 * g.ch);
    }
  }
  ctx.stroke();
}

/** The colour scale right of the grid, best at the top, with the range's ends. */
function drawLegend(ctx: CanvasRenderingContext2D, g: Frame, s: ScoreGrid, minimize: boolean, pal: Palette): void {
  const { lo, hi } = s;
  if (!(hi >= lo)) return;
  const lx = g.left + g.gw + 10;
  for (let k = 0; k < g.gh; k++) {
    const tt = 1 - k / g.gh;
    ctx.fillStyle = scaleColor(minimize ? 1 - tt : tt);
    ctx.fillRect(lx, g.top + k, 12, 1.5);
  }
  ctx.fillStyle = pal.muted;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'top';
  ctx.fillText(fmt(minimize ? lo : hi, 3), lx + 15, g.top);
  ctx.textBaseline = 'bottom';
  ctx.fillText(fmt(minimize ? hi : lo, 3), lx + 15, g.top + g.gh);
}

/** The cell under the mouse, if any. */
function cellAt(canvas: HTMLCanvasElement, g: Frame, cells: Cell[][], ev: MouseEvent): { c: Cell; i: number; j: number } | null {
  const r = canvas.getBoundingClientRect();
  const i = Math.floor((ev.clientX - r.left - g.left) / g.cw);
  const j = Math.floor((g.top + g.gh - (ev.clientY - r.top)) / g.ch);
  const c = cells[j]?.[i];
  return c ? { c, i, j } : null;
}

function drawCross(ctx: CanvasRenderingContext2D, x: number, y: number, cw: number, ch: number, color: string): void {
  ctx.strokeStyle = color;
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  ctx.moveTo(x + cw * 0.3, y + ch * 0.3);
  ctx.lineTo(x + cw * 0.7, y + ch * 0.7);
  ctx.moveTo(x + cw * 0.7, y + ch * 0.3);
  ctx.lineTo(x + cw * 0.3, y + ch * 0.7);
  ctx.stroke();
}

function drawHatch(ctx: CanvasRenderingContext2D, x: number, y: number, cw: number, ch: number, color: string): void {
  ctx.save();
  ctx.beginPath();
  ctx.rect(x, y, cw, ch);
  ctx.clip();
  ctx.strokeStyle = color;
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let k = -ch; k < cw; k += 6) {
    ctx.moveTo(x + k, y + ch);
    ctx.lineTo(x + k + ch, y);
  }
  ctx.stroke();
  ctx.restore();
}
