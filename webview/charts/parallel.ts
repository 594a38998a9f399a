/**
 * Parallel coordinates: one vertical axis per searched parameter plus the score, one line per
 * trial. Only the best trials are coloured (by score) and a thinned sample of the rest is drawn
 * faintly behind them, so 100,000 trials still draw in a few milliseconds and the picture shows
 * where the good region lies on each axis.
 *
 * Brushing: drag along a numeric axis to keep only the trials inside that range — the same
 * column filter the trial table shows (and vice versa); a click on an axis clears its brush.
 * Lines outside the brushes fade. Hovering a coloured line shows its trial; a click opens it.
 */
import type { TrialRow } from '../../protocol/messages';
import { fmt } from '../format';
import type { Links } from '../links';
import { objectiveTitle } from '../metric-info';
import { Ranking } from '../ranking';
import { firstScore, type PanelStore } from '../store';
import { rowPredicate } from '../table/filters';
import { ensureContrast, readPalette, scaleColor, withAlpha, type Palette } from '../theme';
import { hideTip, showTip } from '../tooltip';
import { trialLines } from '../trial-text';
import { probeDraw, sizedCanvas, valueAxis, type ValueAxis } from './canvas';

const TOP = 300;
const BACKGROUND = 700;
const PAD_X = 48;
const PAD_BOTTOM = 22;

interface Axis {
  /** The table column this axis filters (`param:NAME` or `score`). */
  key: string;
  name: string;
  axis: ValueAxis;
  get: (r: TrialRow) => number | string | boolean | null | undefined;
  x: number;
}

export class ParallelCoordinates {
  /** The best trials, kept incrementally (a delta costs O(TOP + new rows), not a full sort). */
  private readonly best = new Ranking(TOP);
  private axes: Axis[] = [];
  private plot = { top: 38, gh: 100 };
  private drawn: TrialRow[] = [];
  private drag: { axis: Axis; y0: number; y1: number } | null = null;
  private canvas: HTMLCanvasElement | null = null;

  constructor(private readonly host: HTMLElement, private readonly store: PanelStore, private readonly links: Links) {}

  draw(): void {
    const store = this.store;
    const { ctx, w, h, canvas } = sizedCanvas(this.host);
    this.wire(canvas);
    const pal = readPalette();
    ctx.font = `${Math.max(11, pal.fontSize - 1)}px ${pal.font}`;
    this.best.update(store);
    const top = this.best.top.filter((r) => firstScore(r.sc) !== null);
    // A thinned, evenly spread sample of everything else, for context.
    const stride = Math.max(1, Math.ceil(store.rows.length / BACKGROUND));
    const inTop = new Set(top);
    const background: TrialRow[] = [];
    for (let k = 0; k < store.rows.length; k += stride) {
      const r = store.rows[k]!;
      if (r.st === 'complete' && firstScore(r.sc) !== null && !inTop.has(r)) background.push(r);
    }
    const scored = top.concat(background);
    this.axes = this.makeAxes(scored, w);
    if (this.axes.length < 2 || scored.length === 0) {
      ctx.fillStyle = pal.muted;
      ctx.textBaseline = 'top';
      ctx.fillText('Waiting for complete trials…', 12, 12);
      this.drawn = [];
      probeDraw('parallel', 0);
      return;
    }
    const stagger = this.labelsStagger(ctx, w);
    this.plot = { top: stagger ? 54 : 38, gh: h - (stagger ? 54 : 38) - PAD_BOTTOM };
    const keep = rowPredicate(store, this.links.filters);
    ctx.lineWidth = 1;
    ctx.strokeStyle = withAlpha(pal.muted, 0.12);
    for (const r of background) this.line(ctx, r);
    const sLo = this.axes[this.axes.length - 1]!.axis.min;
    const sHi = this.axes[this.axes.length - 1]!.axis.max;
    const minimize = store.directions[0] === 'minimize';
    this.drawn = [];
    for (let k = top.length - 1; k >= 0; k--) {
      const r = top[k]!;
      if (keep && !keep(r)) {
        ctx.strokeStyle = withAlpha(pal.muted, 0.18);
        ctx.lineWidth = 1;
      } else {
        const s = firstScore(r.sc)!;
        const t = sHi > sLo ? (s - sLo) / (sHi - sLo) : 1;
        const c = scaleColor(minimize ? 1 - t : t);
        // The best line is opaque and thick: it must stand out from the background (yellow on white does not).
        ctx.strokeStyle = k === 0 ? ensureContrast(c, pal.bg, 3) : scaleColor(minimize ? 1 - t : t, 0.55);
        ctx.lineWidth = k === 0 ? 2.5 : 1.2;
        this.drawn.push(r);
      }
      this.line(ctx, r);
    }
    const sel = this.links.selected === undefined ? undefined : store.row(this.links.selected);
    if (sel) {
      ctx.strokeStyle = pal.fg;
      ctx.lineWidth = 2;
      this.line(ctx, sel);
    }
    this.drawAxes(ctx, pal, stagger, w);
    probeDraw('parallel', top.length + background.length);
  }

  private makeAxes(scored: TrialRow[], w: number): Axis[] {
    const store = this.store;
    // A parameter that never varied (fixed by an earlier stage) adds an axis without information.
    const params = store.tables.params
      .map((name, i) => ({ key: `param:${name}`, name, axis: valueAxis(scored.map((r) => r.p[i])), get: (r: TrialRow) => r.p[i] }))
      .filter((a) => (a.axis.numeric ? a.axis.max > a.axis.min : a.axis.categories.length > 1));
    const score = { key: 'score', name: objectiveTitle(store.header?.objectives?.[0]), axis: valueAxis(scored.map((r) => firstScore(r.sc))), get: (r: TrialRow) => firstScore(r.sc) };
    const all = [...params, score];
    const spacing = all.length > 1 ? (w - 2 * PAD_X) / (all.length - 1) : w;
    return all.map((a, k) => ({ ...a, x: PAD_X + k * spacing }));
  }

  /** True when neighbouring axis names would touch on one row (then they alternate between two). */
  private labelsStagger(ctx: CanvasRenderingContext2D, w: number): boolean {
    const n = this.axes.length;
    const extent = (k: number): [number, number] => {
      const x = this.axes[k]!.x;
      const nw = ctx.measureText(this.axes[k]!.name).width;
      return k === 0 ? [x, x + nw] : k === n - 1 ? [x - nw, x] : [x - nw / 2, x + nw / 2];
    };
    return w > 0 && this.axes.some((_, k) => k > 0 && extent(k - 1)[1] + 8 > extent(k)[0]);
  }

  private y(a: Axis, r: TrialRow): number | null {
    const p = a.axis.pos(a.get(r));
    return p === null ? null : this.plot.top + this.plot.gh - p * this.plot.gh;
  }

  private line(ctx: CanvasRenderingContext2D, r: TrialRow): void {
    ctx.beginPath();
    let pen = false;
    for (const a of this.axes) {
      const y = this.y(a, r);
      if (y === null) {
        pen = false;
        continue;
      }
      if (pen) ctx.lineTo(a.x, y);
      else ctx.moveTo(a.x, y);
      pen = true;
    }
    ctx.stroke();
  }

  private drawAxes(ctx: CanvasRenderingContext2D, pal: Palette, stagger: boolean, w: number): void {
    const { top, gh } = this.plot;
    const n = this.axes.length;
    const spacing = n > 1 ? (w - 2 * PAD_X) / (n - 1) : w;
    const fit = (text: string) => {
      const room = (stagger ? 2 : 1) * spacing - 10;
      if (ctx.measureText(text).width <= room) return text;
      let t = text;
      while (t.length > 3 && ctx.measureText(`${t}…`).width > room) t = t.slice(0, -1);
      return `${t}…`;
    };
    this.axes.forEach((a, k) => {
      ctx.strokeStyle = pal.fg;
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(a.x + 0.5, top);
      ctx.lineTo(a.x + 0.5, top + gh);
      ctx.stroke();
      const f = this.links.filters.get(a.key);
      if (f && a.axis.numeric && (f.min !== undefined || f.max !== undefined)) {
        const span = a.axis.max - a.axis.min || 1;
        const yOf = (v: number) => top + gh - Math.min(1, Math.max(0, (v - a.axis.min) / span)) * gh;
        const y0 = yOf(f.max ?? a.axis.max);
        const y1 = yOf(f.min ?? a.axis.min);
        ctx.fillStyle = withAlpha(pal.accent, 0.25);
        ctx.fillRect(a.x - 7, y0, 14, Math.max(2, y1 - y0));
        ctx.strokeStyle = pal.accent;
        ctx.strokeRect(a.x - 7 + 0.5, y0 + 0.5, 13, Math.max(2, y1 - y0));
      }
      ctx.textAlign = k === 0 ? 'left' : k === n - 1 ? 'right' : 'center';
      ctx.textBaseline = 'bottom';
      ctx.fillStyle = pal.fg;
      ctx.fillText(fit(a.name), a.x, top - 18 - (stagger && k % 2 === 1 ? 16 : 0));
      ctx.fillStyle = pal.muted;
      ctx.textBaseline = 'top';
      ctx.fillText(a.axis.numeric ? fmt(a.axis.min, 3) : a.axis.label(0), a.x, top + gh + 4);
      ctx.textBaseline = 'bottom';
      ctx.fillText(a.axis.numeric ? fmt(a.axis.max, 3) : a.axis.label(1), a.x, top - 3);
    });
    if (this.drag) {
      const y0 = Math.min(this.drag.y0, this.drag.y1);
      ctx.fillStyle = withAlpha(pal.accent, 0.25);
      ctx.fillRect(this.drag.axis.x - 7, y0, 14, Math.abs(this.drag.y1 - this.drag.y0));
    }
  }

  /** Mouse handling, attached once per canvas. */
  private wire(canvas: HTMLCanvasElement): void {
    if (this.canvas === canvas || !(canvas instanceof HTMLCanvasElement)) return;
    this.canvas = canvas;
    const local = (ev: MouseEvent) => {
      const r = canvas.getBoundingClientRect();
      return { x: ev.clientX - r.left, y: ev.clientY - r.top };
    };
    const axisAt = (x: number) => this.axes.find((a) => Math.abs(a.x - x) <= 10);
    canvas.addEventListener('mousedown', (ev) => {
      const p = local(ev);
      const a = axisAt(p.x);
      if (!a || !a.axis.numeric) return;
      ev.preventDefault();
      this.drag = { axis: a, y0: p.y, y1: p.y };
    });
    window.addEventListener('mousemove', (ev) => {
      if (!this.drag || !this.canvas) return;
      this.drag.y1 = local(ev).y;
      this.draw();
    });
    window.addEventListener('mouseup', () => {
      const d = this.drag;
      if (!d) return;
      this.drag = null;
      const { top, gh } = this.plot;
      const value = (y: number) => d.axis.axis.min + ((top + gh - Math.min(top + gh, Math.max(top, y))) / gh) * (d.axis.axis.max - d.axis.axis.min);
      // A click (no drag) clears the axis' brush.
      if (Math.abs(d.y1 - d.y0) < 3) this.links.setFilter(d.axis.key, undefined);
      else this.links.setFilter(d.axis.key, { min: value(Math.max(d.y0, d.y1)), max: value(Math.min(d.y0, d.y1)) });
    });
    canvas.addEventListener('mousemove', (ev) => {
      if (this.drag) return;
      const p = local(ev);
      const r = this.lineAt(p.x, p.y);
      canvas.style.cursor = axisAt(p.x)?.axis.numeric ? 'ns-resize' : r ? 'pointer' : 'default';
      if (r) showTip(trialLines(this.store, r), ev.clientX, ev.clientY);
      else hideTip();
    });
    canvas.addEventListener('mouseleave', () => hideTip());
    canvas.addEventListener('click', (ev) => {
      const p = local(ev);
      if (axisAt(p.x)) return;
      const r = this.lineAt(p.x, p.y);
      if (r) this.links.open(r.n, ev.shiftKey);
    });
  }

  /** The coloured line nearest to (x, y), within 5 px, between the two axes around x. */
  lineAt(x: number, y: number): TrialRow | undefined {
    const k = this.axes.findIndex((a, i) => i + 1 < this.axes.length && x >= a.x && x <= this.axes[i + 1]!.x);
    if (k < 0) return undefined;
    const a = this.axes[k]!;
    const b = this.axes[k + 1]!;
    const t = (x - a.x) / (b.x - a.x);
    let best: TrialRow | undefined;
    let dist = 5;
    for (const r of this.drawn) {
      const ya = this.y(a, r);
      const yb = this.y(b, r);
      if (ya === null || yb === null) continue;
      const d = Math.abs(ya + (yb - ya) * t - y);
      if (d < dist) (dist = d), (best = r);
    }
    return best;
  }
}
