/**
 * Parallel coordinates: one vertical axis per searched parameter plus the score, one line per
 * trial. Only the best trials are coloured (by score) and a thinned sample of the rest is drawn
 * faintly behind them, so 100,000 trials still draw in a few milliseconds and the picture shows
 * where the good region lies on each axis.
 */
import type { TrialRow } from '../../protocol/messages';
import { Ranking } from '../ranking';
import { firstScore, type PanelStore } from '../store';
import { ensureContrast, readPalette, scaleColor, withAlpha } from '../theme';
import type { Links } from '../links';
import { fmt } from '../format';
import { objectiveTitle } from '../metric-info';
import { probeDraw, sizedCanvas, valueAxis } from './canvas';

const TOP = 300;
const BACKGROUND = 700;

export class ParallelCoordinates {
  /** The best trials, kept incrementally (a delta costs O(TOP + new rows), not a full sort). */
  private readonly best = new Ranking(TOP);

  constructor(private readonly host: HTMLElement, private readonly store: PanelStore, private readonly links: Links) {}

  draw(): void {
    const store = this.store;
    const { ctx, w, h } = sizedCanvas(this.host);
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
    const params = store.tables.params.map((name, i) => ({ name, i })).filter(({ i }) => scored.some((r) => r.p[i] !== null && r.p[i] !== undefined));
    if (params.length === 0 || scored.length === 0) {
      ctx.fillStyle = pal.muted;
      ctx.fillText('Waiting for complete trials…', 12, 24);
      probeDraw('parallel', 0);
      return;
    }
    // A parameter that never varied (fixed by an earlier stage) adds an axis without information.
    const axes = params
      .map(({ name, i }) => ({ name, axis: valueAxis(scored.map((r) => r.p[i])), get: (r: TrialRow) => r.p[i] }))
      .filter((a) => (a.axis.numeric ? a.axis.max > a.axis.min : a.axis.categories.length > 1));
    const scoreAxis = valueAxis(scored.map((r) => firstScore(r.sc)));
    const objName = store.header?.objectives?.[0];
    const all = [...axes, { name: objectiveTitle(objName), axis: scoreAxis, get: (r: TrialRow) => firstScore(r.sc) }];
    const padX = 48;
    // Axis names staggered on two rows when neighbours would touch, shortened when even that is not enough.
    const spacing = all.length > 1 ? (w - 2 * padX) / (all.length - 1) : w;
    // A name's horizontal extent: the first axis' name is left-aligned, the last right-aligned, the others centred.
    const extent = (k: number): [number, number] => {
      const x = padX + k * spacing;
      const nw = ctx.measureText(all[k]!.name).width;
      return k === 0 ? [x, x + nw] : k === all.length - 1 ? [x - nw, x] : [x - nw / 2, x + nw / 2];
    };
    const stagger = all.some((_, k) => k > 0 && extent(k - 1)[1] + 8 > extent(k)[0]);
    const fit = (text: string) => {
      const room = (stagger ? 2 : 1) * spacing - 10;
      if (ctx.measureText(text).width <= room) return text;
      let t = text;
      while (t.length > 3 && ctx.measureText(`${t}…`).width > room) t = t.slice(0, -1);
      return `${t}…`;
    };
    const padTop = stagger ? 54 : 38;
    const padBottom = 22;
    const gh = h - padTop - padBottom;
    const xs = all.map((_, k) => padX + (all.length === 1 ? 0 : (k * (w - 2 * padX)) / (all.length - 1)));
    const yOf = (k: number, r: TrialRow) => {
      const p = all[k]!.axis.pos(all[k]!.get(r));
      return p === null ? null : padTop + gh - p * gh;
    };
    const line = (r: TrialRow) => {
      ctx.beginPath();
      let pen = false;
      for (let k = 0; k < all.length; k++) {
        const y = yOf(k, r);
        if (y === null) {
          pen = false;
          continue;
        }
        if (pen) ctx.lineTo(xs[k]!, y);
        else ctx.moveTo(xs[k]!, y);
        pen = true;
      }
      ctx.stroke();
    };
    ctx.lineWidth = 1;
    ctx.strokeStyle = withAlpha(pal.muted, 0.12);
    for (const r of background) line(r);
    const sLo = scoreAxis.min;
    const sHi = scoreAxis.max;
    const minimize = store.directions[0] === 'minimize';
    for (let k = top.length - 1; k >= 0; k--) {
      const s = firstScore(top[k]!.sc)!;
      const t = sHi > sLo ? (s - sLo) / (sHi - sLo) : 1;
      // The best line is opaque and thick: it must stand out from the background (yellow on white does not).
      ctx.strokeStyle = k === 0 ? ensureContrast(scaleColor(minimize ? 1 - t : t), pal.bg, 3) : scaleColor(minimize ? 1 - t : t, 0.55);
      ctx.lineWidth = k === 0 ? 2.5 : 1.2;
      line(top[k]!);
    }
    // Axes on top of the lines.
    ctx.strokeStyle = pal.fg;
    ctx.lineWidth = 1;
    ctx.fillStyle = pal.fg;
    all.forEach((a, k) => {
      const x = xs[k]!;
      ctx.beginPath();
      ctx.moveTo(x + 0.5, padTop);
      ctx.lineTo(x + 0.5, padTop + gh);
      ctx.stroke();
      ctx.textAlign = k === 0 ? 'left' : k === all.length - 1 ? 'right' : 'center';
      ctx.textBaseline = 'bottom';
      ctx.fillStyle = pal.fg;
      ctx.fillText(fit(a.name), x, padTop - 18 - (stagger && k % 2 === 1 ? 16 : 0));
      ctx.fillStyle = pal.muted;
      ctx.textBaseline = 'top';
      ctx.fillText(a.axis.numeric ? fmt(a.axis.min, 3) : a.axis.label(0), x, padTop + gh + 4);
      ctx.textBaseline = 'bottom';
      ctx.fillText(a.axis.numeric ? fmt(a.axis.max, 3) : a.axis.label(1), x, padTop - 3);
    });
    probeDraw('parallel', top.length + background.length);
  }
}
