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
import { aggregate, type Cell } from './heatmap';

type V3 = [number, number, number];

/** Rotates a point of the unit cube (centred) by azimuth `az` and elevation `el` and projects it (pure). */
export function project(p: V3, az: number, el: number): { x: number; y: number; depth: number } {
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
    if (xi < 0 || yi < 0 || xi === yi) {
      ctx.fillStyle = pal.muted;
      ctx.textBaseline = 'top';
      ctx.fillText('Needs two searched parameters.', 12, 12);
      probeDraw('surface3d', 0);
      return;
    }
    const rows = store.rows.filter((r) => r.p[xi] !== null && r.p[xi] !== undefined && r.p[yi] !== null && r.p[yi] !== undefined);
    const { bx, by, cells } = aggregate(rows, xi, yi, (a, b) => store.better(a, b));
    const value = (c: Cell) => (c.ok === 0 ? null : agg === 'mean' ? c.sum / c.ok : c.best);
    let lo = Infinity;
    let hi = -Infinity;
    for (const row of cells) for (const c of row) {
      const v = value(c);
      if (v !== null) (lo = Math.min(lo, v), (hi = Math.max(hi, v)));
    }
    const nx = bx.labels.length;
    const ny = by.labels.length;
    if (!(hi >= lo) || nx < 2 || ny < 2) {
      ctx.fillStyle = pal.muted;
      ctx.textBaseline = 'top';
      ctx.fillText('Waiting for feasible trials on a grid of at least 2 × 2 values…', 12, 12);
      probeDraw('surface3d', 0);
      return;
    }
    const minimize = store.directions[0] === 'minimize';
    const grid = filled(cells.map((row) => row.map(value)));
    const zOf = (v: number) => (hi > lo ? (v - lo) / (hi - lo) : 0.5) - 0.5;
    const pos = (i: number, j: number, v: number): V3 => [i / (nx - 1) - 0.5, j / (ny - 1) - 0.5, zOf(v) * 0.8];
    const scale = Math.min(w, h) * 0.62;
    const ox = w / 2;
    const oy = h / 2 + 10;
    const screen = (p: V3) => {
      const q = project(p, this.az, this.el);
      return { x: ox + q.x * scale, y: oy + q.y * scale, depth: q.depth };
    };
    // The floor and its edges first, then the quads far to near.
    this.drawFloor(ctx, screen, pal, bx.labels, by.labels, xName, yName);
    const quads: { pts: { x: number; y: number }[]; depth: number; v: number; real: boolean }[] = [];
    for (let j = 0; j + 1 < ny; j++) {
      for (let i = 0; i + 1 < nx; i++) {
        const corners: [number, number][] = [[i, j], [i + 1, j], [i + 1, j + 1], [i, j + 1]];
        const vs = corners.map(([a, b]) => grid[b]![a]!);
        const pts = corners.map(([a, b], k) => screen(pos(a, b, vs[k]!.v)));
        quads.push({ pts, depth: pts.reduce((s, p) => s + p.depth, 0) / 4, v: vs.reduce((s, x) => s + x.v, 0) / 4, real: vs.every((x) => x.real) });
      }
    }
    quads.sort((a, b) => b.depth - a.depth);
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
    this.vertices = [];
    for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
      const c = cells[j]![i]!;
      const v = value(c);
      if (v === null) continue;
      const p = screen(pos(i, j, v));
      this.vertices.push({ x: p.x, y: p.y, cell: c, i, j, rows, xl: bx.names[i]!, yl: by.names[j]! });
      ctx.fillStyle = pal.fg;
      ctx.fillRect(p.x - 1, p.y - 1, 2, 2);
    }
    ctx.fillStyle = pal.muted;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'top';
    const gaps = grid.some((row) => row.some((x) => !x.real));
    ctx.fillText(`${objectiveTitle(store.header?.objectives?.[0])} (${agg}): ${fmt(lo, 3)} … ${fmt(hi, 3)}${gaps ? ' · pale: not tried, interpolated' : ''}`, 8, 6);
    probeDraw('surface3d', quads.length);
  }

  private drawFloor(ctx: CanvasRenderingContext2D, screen: (p: V3) => { x: number; y: number }, pal: ReturnType<typeof readPalette>, xl: string[], yl: string[], xName: string, yName: string): void {
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
