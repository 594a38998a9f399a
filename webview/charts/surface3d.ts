/**
 * A 3-D surface of the score over the surface card's two parameters (as MetaTrader 5 shows):
 * the cell grid of the 2-D surface lifted to the score's height, drawn as shaded quads, far ones
 * first (painter's algorithm), on a plain canvas — no 3-D library. Drag to turn it, hover a
 * vertex for its cell and best trial, click to open that trial.
 */
import type { TrialRow } from '../../protocol/messages';
import { fmt } from '../format';
import type { Links } from '../links';
import { objectiveTitle } from '../metric-info';
import type { PanelStore } from '../store';
import { readPalette, scaleColor, withAlpha } from '../theme';
import { hideTip, showTip } from '../tooltip';
import { trialLines } from '../trial-text';
import { probeDraw, sizedCanvas } from './canvas';
import { scoreGrid, type Cell, type ScoreGrid } from './heatmap';

type V3 = [number, number, number];
type Projected = { x: number; y: number; depth: number };
type Palette = ReturnType<typeof readPalette>;

/** Rotates a point of the unit cube (centred) by azimuth `az` and elevation `el` and projects it (pure). */
export function project(p: V3, az: number, el: number): Projected {
  const [x, y, z] = p;
  const cx = x * Math.cos(az) - y * Math.sin(az);
  const cy = x * Math.sin(az) + y * Math.cos(az);
  // Tilt: the viewer looks down by `el`.
  const sy = cy * Math.sin(el) - z * Math.cos(el);
  const depth = cy * Math.cos(el) + z * Math.sin(el);
  return { x: cx, y: sy, depth };
}

export class Surface3d {
  private az = -0.7;
  private el = 0.6;
  private canvas: HTMLCanvasElement | null = null;
  private last: { xName: string; yName: string; agg: 'mean' | 'best' } | null = null;
  private vertices: { x: number; y: number; cell: Cell; i: number; j: number; rows: TrialRow[]; xl: string; yl: string }[] = [];

  constructor(private readonly host: HTMLElement, private readonly store: PanelStore, private readonly links: Links) {}

  draw(xName: string, yName: string, agg: 'mean' | 'best'): void {
    this.last = { xName, yName, agg };
    const store = this.store;
    const { ctx, w, h, canvas } = sizedCanvas(this.host);
    this.wire(canvas);
    const pal = readPalette();
    ctx.font = `${Math.max(11, pal.fontSize - 1)}px ${pal.font}`;
    const xi = store.paramIndex(xName);
    const yi = store.paramIndex(yName);
    if (xi < 0 || yi < 0 || xi === yi) return drawMessage(ctx, pal, 'Needs two searched parameters.');
    const s = scoreGrid(store, xi, yi, agg);
    const { lo, hi } = s;
    const nx = s.bx.labels.length;
    const ny = s.by.labels.length;
    if (!(hi >= lo) || nx < 2 || ny < 2) return drawMessage(ctx, pal, 'Waiting for feasible trials on a grid of at least 2 × 2 values…');
    const grid = filled(s.values);
    const view = this.viewOf(s, w, h);
    // The floor and its edges first, then the quads far to near.
    this.drawFloor(ctx, view.screen, pal, s.bx.labels, s.by.labels, xName, yName);
    const quads = quadsOf(grid, view.at);
    drawQuads(ctx, quads, lo, hi, store.directions[0] === 'minimize', pal);
    this.drawVertices(ctx, s, view.at, pal);
    ctx.fillStyle = pal.muted;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'top';
    const gaps = grid.some((row) => row.some((x) => !x.real));
    ctx.fillText(`${objectiveTitle(store.header?.objectives?.[0])} (${agg}): ${fmt(lo, 3)} … ${fmt(hi, 3)}${gaps ? ' · pale: not tried, interpolated' : ''}`, 8, 6);
    probeDraw('surface3d', quads.length);
  }

  /**
   * The projection at the current turn: `screen` takes a point of the unit cube (centred), `at`
   * cell (i, j) lifted to value v (the score's range spans 0.8 of the cube's height).
   */
  private viewOf(s: ScoreGrid, w: number, h: number): { screen: (p: V3) => Projected; at: (i: number, j: number, v: number) => Projected } {
    const { lo, hi } = s;
    const nx = s.bx.labels.length;
    const ny = s.by.labels.length;
    const zOf = (v: number) => (hi > lo ? (v - lo) / (hi - lo) : 0.5) - 0.5;
    const scale = Math.min(w, h) * 0.62;
    const ox = w / 2;
    const oy = h / 2 + 10;
    const screen = (p: V3) => {
      const q = project(p, this.az, this.el);
      return { x: ox + q.x * scale, y: oy + q.y * scale, depth: q.depth };
    };
    return { screen, at: (i, j, v) => screen([i / (nx - 1) - 0.5, j / (ny - 1) - 0.5, zOf(v) * 0.8]) };
  }

  /** A dot at every cell with a value, remembered for hover and click. */
  private drawVertices(ctx: CanvasRenderingContext2D, s: ScoreGrid, at: (i: number, j: number, v: number) => Projected, pal: Palette): void {
    this.vertices = [];
    for (let j = 0; j < s.by.labels.length; j++) for (let i = 0; i < s.bx.labels.length; i++) {
      const v = s.values[j]![i]!;
      if (v === null) continue;
      const p = at(i, j, v);
      this.vertices.push({ x: p.x, y: p.y, cell: s.cells[j]![i]!, i, j, rows: s.rows, xl: s.bx.names[i]!, yl: s.by.names[j]! });
      ctx.fillStyle = pal.fg;
      ctx.fillRect(p.x - 1, p.y - 1, 2, 2);
    }
  }

  private drawFloor(ctx: CanvasRenderingContext2D, screen: (p: V3) => { x: number; y: number }, pal: Palette, xl: string[], yl: string[], xName: string, yName: string): void {
    const z = -0.4;
    const c = [screen([-0.5, -0.5, z]), screen([0.5, -0.5, z]), screen([0.5, 0.5, z]), screen([-0.5, 0.5, z])];
    ctx.strokeStyle = pal.grid;
    ctx.lineWidth = 1;
    ctx.beginPath();
    c.forEach((p, k) => (k ? ctx.lineTo(p.x, p.y) : ctx.moveTo(p.x, p.y)));
    ctx.closePath();
    ctx.stroke();
    ctx.fillStyle = pal.muted;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    const label = (a: { x: number; y: number }, b: { x: number; y: number }, text: string) => ctx.fillText(text, (a.x + b.x) / 2, (a.y + b.y) / 2 + 14);
    ctx.fillStyle = pal.fg;
    label(c[0]!, c[1]!, `${xName} ${xl[0]} → ${xl[xl.length - 1]}`);
    label(c[1]!, c[2]!, `${yName} ${yl[0]} → ${yl[yl.length - 1]}`);
  }

  private wire(canvas: HTMLCanvasElement): void {
    if (this.canvas === canvas || !(canvas instanceof HTMLCanvasElement)) return;
    this.canvas = canvas;
    let drag: { x: number; y: number; az: number; el: number; moved: boolean } | null = null;
    canvas.addEventListener('mousedown', (ev) => {
      drag = { x: ev.clientX, y: ev.clientY, az: this.az, el: this.el, moved: false };
      ev.preventDefault();
    });
    window.addEventListener('mousemove', (ev) => {
      if (!drag || !this.last) return;
      drag.moved ||= Math.abs(ev.clientX - drag.x) + Math.abs(ev.clientY - drag.y) > 3;
      this.az = drag.az + (ev.clientX - drag.x) / 120;
      this.el = Math.min(1.45, Math.max(0.1, drag.el + (ev.clientY - drag.y) / 160));
      this.draw(this.last.xName, this.last.yName, this.last.agg);
    });
    window.addEventListener('mouseup', (ev) => {
      const d = drag;
      drag = null;
      if (!d || d.moved || ev.target !== canvas) return;
      const v = this.vertexAt(ev);
      const best = v && v.cell.bestAt >= 0 ? v.rows[v.cell.bestAt] : undefined;
      if (best) this.links.open(best.n, ev.shiftKey);
    });
    canvas.addEventListener('mousemove', (ev) => {
      if (drag) return;
      const v = this.vertexAt(ev);
      if (!v) {
        canvas.style.cursor = 'grab';
        return hideTip();
      }
      canvas.style.cursor = 'pointer';
      const best = v.cell.bestAt >= 0 ? v.rows[v.cell.bestAt] : undefined;
      const head = `${this.last!.xName} = ${v.xl}, ${this.last!.yName} = ${v.yl}`;
      const what = `mean ${fmt(v.cell.sum / Math.max(1, v.cell.ok))}, best ${fmt(v.cell.best)} over ${v.cell.ok} trial(s)`;
      showTip(best ? [head, what, ...trialLines(this.store, best).map((l, k) => (k === 0 ? `best: ${l}` : l))] : [head, what], ev.clientX, ev.clientY);
    });
    canvas.addEventListener('mouseleave', () => hideTip());
  }

  private vertexAt(ev: MouseEvent): (typeof this.vertices)[number] | undefined {
    const r = this.canvas!.getBoundingClientRect();
    const x = ev.clientX - r.left;
    const y = ev.clientY - r.top;
    let best: (typeof this.vertices)[number] | undefined;
    let d = 8;
    for (const v of this.vertices) {
      const dd = Math.hypot(v.x - x, v.y - y);
      if (dd < d) (d = dd), (best = v);
    }
    return best;
  }
}

function drawMessage(ctx: CanvasRenderingContext2D, pal: Palette, text: string): void {
  ctx.fillStyle = pal.muted;
  ctx.textBaseline = 'top';
  ctx.fillText(text, 12, 12);
  probeDraw('surface3d', 0);
}

interface Quad {
  pts: Projected[];
  depth: number;
  /** The mean of its corners' values. */
  v: number;
  /** Every corner measured (none interpolated). */
  real: boolean;
}

/** One quad per square of neighbouring cells, far ones first (painter's algorithm). */
function quadsOf(grid: { v: number; real: boolean }[][], at: (i: number, j: number, v: number) => Projected): Quad[] {
  const quads: Quad[] = [];
  for (let j = 0; j + 1 < grid.length; j++) {
    for (let i = 0; i + 1 < grid[j]!.length; i++) {
      const corners: [number, number][] = [[i, j], [i + 1, j], [i + 1, j + 1], [i, j + 1]];
      const vs = corners.map(([a, b]) => grid[b]![a]!);
      const pts = corners.map(([a, b], k) => at(a, b, vs[k]!.v));
      quads.push({ pts, depth: pts.reduce((s, p) => s + p.depth, 0) / 4, v: vs.reduce((s, x) => s + x.v, 0) / 4, real: vs.every((x) => x.real) });
    }
  }
  return quads.sort((a, b) => b.depth - a.depth);
}

function drawQuads(ctx: CanvasRenderingContext2D, quads: Quad[], lo: number, hi: number, minimize: boolean, pal: Palette): void {
  ctx.lineWidth = 0.6;
  ctx.strokeStyle = withAlpha(pal.bg, 0.6);
  for (const q of quads) {
    const t = hi > lo ? (q.v - lo) / (hi - lo) : 0.5;
    // Cells no trial reached are interpolated from their neighbours and drawn paler.
    ctx.fillStyle = scaleColor(minimize ? 1 - t : t, q.real ? 0.95 : 0.35);
    ctx.beginPath();
    q.pts.forEach((p, k) => (k ? ctx.lineTo(p.x, p.y) : ctx.moveTo(p.x, p.y)));
    ctx.closePath();
    ctx.fill();
    ctx.stroke();
  }
}

/**
 * The grid with its empty cells filled by inverse-distance weighting of the cells that have a
 * value, so a sparse search (bayes, random) still draws a surface; `real` marks measured cells.
 */
export function filled(grid: (number | null)[][]): { v: number; real: boolean }[][] {
  const known: { i: number; j: number; v: number }[] = [];
  grid.forEach((row, j) => row.forEach((v, i) => v !== null && known.push({ i, j, v })));
  return grid.map((row, j) => row.map((v, i) => {
    if (v !== null) return { v, real: true };
    let num = 0;
    let den = 0;
    for (const k of known) {
      const w = 1 / ((k.i - i) ** 2 + (k.j - j) ** 2);
      num += w * k.v;
      den += w;
    }
    return { v: den > 0 ? num / den : 0, real: false };
  }));
}
