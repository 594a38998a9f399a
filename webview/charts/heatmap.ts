/**
 * The 2-D surface: the score over two chosen parameters, aggregated in the panel from the
 * trials it holds (mean or best per cell). Parameters with many distinct values (continuous
 * searches) are binned. Cells no trial reached are hatched; cells whose trials all failed or
 * were infeasible are crossed — a gap is never drawn as a low score.
 */
import type { TrialRow } from '../../protocol/messages';
import { firstScore, type PanelStore } from '../store';
import { readPalette, scaleColor, withAlpha } from '../theme';
import { fmt } from './chartjs';
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
}

/** Aggregates rows into a grid of cells (pure; the tests call it too). */
export function aggregate(rows: TrialRow[], xi: number, yi: number, better: (a: number, b: number) => boolean) {
  const bx = makeBins(rows.map((r) => r.p[xi]));
  const by = makeBins(rows.map((r) => r.p[yi]));
  const cells: Cell[][] = by.labels.map(() => bx.labels.map(() => ({ n: 0, ok: 0, sum: 0, best: null })));
  for (const r of rows) {
    const cx = bx.index(r.p[xi]);
    const cy = by.index(r.p[yi]);
    if (cx < 0 || cy < 0) continue;
    const c = cells[cy]![cx]!;
    c.n++;
    const s = r.st === 'complete' ? firstScore(r.sc) : null;
    if (s === null) continue;
    c.ok++;
    c.sum += s;
    if (c.best === null || better(s, c.best)) c.best = s;
  }
  return { bx, by, cells };
}

export class Heatmap {
  constructor(private readonly host: HTMLElement) {}

  draw(store: PanelStore, xName: string, yName: string, agg: 'mean' | 'best'): void {
    const { ctx, w, h, canvas } = sizedCanvas(this.host);
    const pal = readPalette();
    const xi = store.paramIndex(xName);
    const yi = store.paramIndex(yName);
    ctx.font = `${Math.max(11, pal.fontSize - 1)}px ${pal.font}`;
    if (xi < 0 || yi < 0 || xi === yi) {
      ctx.fillStyle = pal.muted;
      ctx.fillText(xi === yi && xi >= 0 ? 'Pick two different parameters.' : 'Needs two searched parameters.', 12, 24);
      probeDraw('heatmap', 0);
      return;
    }
    const rows = store.rows.filter((r) => r.p[xi] !== null && r.p[xi] !== undefined && r.p[yi] !== null && r.p[yi] !== undefined);
    const { bx, by, cells } = aggregate(rows, xi, yi, (a, b) => store.better(a, b));
    const value = (c: Cell) => (c.ok === 0 ? null : agg === 'mean' ? c.sum / c.ok : c.best);
    let lo = Infinity;
    let hi = -Infinity;
    for (const row of cells) for (const c of row) {
      const v = value(c);
      if (v !== null) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
    // Room for the widest y label plus the rotated axis title.
    const left = Math.min(140, Math.ceil(Math.max(0, ...by.labels.map((l) => ctx.measureText(l).width))) + 34);
    const bottom = 44;
    const top = 8;
    const legendW = 78;
    const gw = Math.max(10, w - left - legendW - 8);
    const gh = Math.max(10, h - top - bottom);
    const cw = gw / bx.labels.length;
    const ch = gh / by.labels.length;
    const minimize = store.directions[0] === 'minimize';
    const t = (v: number) => (hi > lo ? (v - lo) / (hi - lo) : 0.5);
    // Cells: y grows upward like a plot, so the first value sits at the bottom.
    for (let j = 0; j < by.labels.length; j++) {
      for (let i = 0; i < bx.labels.length; i++) {
        const c = cells[j]![i]!;
        const x = left + i * cw;
        const y = top + gh - (j + 1) * ch;
        const v = value(c);
        if (v !== null) {
          ctx.fillStyle = scaleColor(minimize ? 1 - t(v) : t(v));
          ctx.fillRect(x, y, cw + 0.5, ch + 0.5);
        } else if (c.n > 0) {
          ctx.strokeStyle = withAlpha(pal.bad, 0.8);
          ctx.lineWidth = 1.5;
          ctx.beginPath();
          ctx.moveTo(x + cw * 0.3, y + ch * 0.3);
          ctx.lineTo(x + cw * 0.7, y + ch * 0.7);
          ctx.moveTo(x + cw * 0.7, y + ch * 0.3);
          ctx.lineTo(x + cw * 0.3, y + ch * 0.7);
          ctx.stroke();
        } else {
          ctx.save();
          ctx.beginPath();
          ctx.rect(x, y, cw, ch);
          ctx.clip();
          ctx.strokeStyle = withAlpha(pal.muted, 0.35);
          ctx.lineWidth = 1;
          for (let k = -ch; k < cw; k += 6) {
            ctx.moveTo(x + k, y + ch);
            ctx.lineTo(x + k + ch, y);
          }
          ctx.stroke();
          ctx.restore();
        }
      }
    }
    ctx.strokeStyle = pal.grid;
    ctx.lineWidth = 1;
    ctx.strokeRect(left + 0.5, top + 0.5, gw, gh);
    // Axis labels: thinned so they never overlap.
    ctx.fillStyle = pal.muted;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    const widest = Math.max(1, ...bx.labels.map((l) => ctx.measureText(l).width)) + 10;
    const xEvery = Math.max(1, Math.ceil(bx.labels.length / Math.max(1, Math.floor(gw / widest))));
    bx.labels.forEach((l, i) => {
      if (i % xEvery === 0) ctx.fillText(l, left + (i + 0.5) * cw, top + gh + 4);
    });
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    const yEvery = Math.max(1, Math.ceil(by.labels.length / Math.max(1, Math.floor(gh / 16))));
    by.labels.forEach((l, j) => {
      if (j % yEvery === 0) ctx.fillText(l, left - 6, top + gh - (j + 0.5) * ch, left - 8);
    });
    ctx.fillStyle = pal.fg;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    ctx.fillText(xName, left + gw / 2, h - 2);
    ctx.save();
    ctx.translate(10, top + gh / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = 'middle';
    ctx.fillText(yName, 0, 0);
    ctx.restore();
    // Colour legend.
    if (hi >= lo) {
      const lx = left + gw + 14;
      const lh = gh;
      for (let k = 0; k < lh; k++) {
        const tt = 1 - k / lh;
        ctx.fillStyle = scaleColor(minimize ? 1 - tt : tt);
        ctx.fillRect(lx, top + k, 12, 1.5);
      }
      ctx.fillStyle = pal.muted;
      ctx.textAlign = 'left';
      ctx.textBaseline = 'top';
      ctx.fillText(fmt(minimize ? lo : hi, 3), lx + 15, top);
      ctx.textBaseline = 'bottom';
      ctx.fillText(fmt(minimize ? hi : lo, 3), lx + 15, top + lh);
    }
    canvas.onmousemove = (ev) => {
      const r = canvas.getBoundingClientRect();
      const i = Math.floor((ev.clientX - r.left - left) / cw);
      const j = Math.floor((top + gh - (ev.clientY - r.top)) / ch);
      const c = cells[j]?.[i];
      if (!c) {
        canvas.title = '';
        return;
      }
      const v = value(c);
      canvas.title = `${xName} = ${bx.names[i]}, ${yName} = ${by.names[j]}\n` +
        (c.n === 0 ? 'not tried' : v === null ? `${c.n} trial(s), none feasible` : `${agg} score ${fmt(v)} over ${c.ok} trial(s)`);
    };
    probeDraw('heatmap', rows.length);
  }
}
