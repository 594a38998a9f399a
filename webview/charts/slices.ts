/**
 * Slice plots: the score against each searched parameter, one small chart per parameter (as
 * optuna-dashboard's slice plot), every feasible trial a point (evenly thinned past 1,500 per
 * parameter), the selected trial ringed. Hover a point for its trial, click it to open it.
 */
import type { TrialRow } from '../../protocol/messages';
import { el } from '../dom';
import { fmt } from '../format';
import type { Links } from '../links';
import { objectiveTitle } from '../metric-info';
import { firstScore, type PanelStore, type XY } from '../store';
import { readPalette, withAlpha } from '../theme';
import { trialLines } from '../trial-text';
import { applyDefaults, axis, Chart, makeChart, probePlugin, tipPlugin } from './chartjs';

const MAX_POINTS = 1500;

/** One parameter's slice: its points (x = the value, or a category's index) and category names. */
export interface Slice {
  param: string;
  points: XY[];
  categories: string[] | null;
}

/** The slices of every parameter that varied, from the store's complete trials (pure). */
export function slicesOf(store: PanelStore): Slice[] {
  const rows = store.rows;
  const ok: number[] = [];
  for (let i = 0; i < rows.length; i++) if (rows[i]!.st === 'complete' && firstScore(rows[i]!.sc) !== null) ok.push(i);
  const stride = Math.max(1, Math.ceil(ok.length / MAX_POINTS));
  const out: Slice[] = [];
  store.tables.params.forEach((param, pi) => {
    const values = new Set<string>();
    let numeric = true;
    for (const i of ok) {
      const v = rows[i]!.p[pi];
      if (v === null || v === undefined) continue;
      if (typeof v !== 'number') numeric = false;
      if (values.size < 2) values.add(String(v));
      else if (numeric) break;
    }
    if (values.size < 2) return;
    const cats = numeric ? null : [...new Set(ok.map((i) => rows[i]!.p[pi]).filter((v) => v !== null && v !== undefined).map(String))].sort();
    const points: XY[] = [];
    for (let k = 0; k < ok.length; k += stride) {
      const r: TrialRow = rows[ok[k]!]!;
      const v = r.p[pi];
      if (v === null || v === undefined) continue;
      points.push({ x: typeof v === 'number' ? v : cats!.indexOf(String(v)), y: firstScore(r.sc)!, i: ok[k] });
    }
    // Chart.js takes unparsed data as sorted by x (it reads the x range from the ends).
    points.sort((a, b) => a.x - b.x);
    out.push({ param, points, categories: cats });
  });
  return out;
}

export class SliceCharts {
  private charts: Chart<'scatter', XY[]>[] = [];
  private sig = '';

  constructor(private readonly host: HTMLElement, private readonly store: PanelStore, private readonly links: Links) {
    host.classList.add('small-multiples');
  }

  update(rebuild = false): void {
    const slices = slicesOf(this.store);
    const sig = `${this.store.epoch}|${slices.map((s) => s.param).join(',')}|${this.links.selected}`;
    if (!rebuild && sig === this.sig && this.charts.length === slices.length) {
      slices.forEach((s, k) => {
        this.charts[k]!.data.datasets[0]!.data = s.points;
        this.charts[k]!.update('none');
      });
      return;
    }
    this.sig = sig;
    this.destroy();
    const pal = readPalette();
    applyDefaults(pal);
    const store = this.store;
    const title = objectiveTitle(store.header?.objectives?.[0]);
    const sel = this.links.selected === undefined ? undefined : store.row(this.links.selected);
    const boxes = slices.map((s) => {
      const box = el('div', 'chart slice');
      const pi = store.paramIndex(s.param);
      const selPoint: XY[] = sel && sel.p[pi] !== null && sel.p[pi] !== undefined && firstScore(sel.sc) !== null
        ? [{ x: typeof sel.p[pi] === 'number' ? (sel.p[pi] as number) : (s.categories ?? []).indexOf(String(sel.p[pi])), y: firstScore(sel.sc)! }]
        : [];
      this.host.append(box);
      this.charts.push(makeChart<'scatter', XY[]>(box, {
        type: 'scatter',
        data: {
          datasets: [
            { label: s.param, data: s.points, pointRadius: 2, pointHoverRadius: 4, pointBorderWidth: 0, backgroundColor: withAlpha(pal.series[0]!, 0.5) },
            { label: 'selected', data: selPoint, pointRadius: 6, pointBorderWidth: 2, borderColor: pal.fg, backgroundColor: 'transparent' },
          ],
        },
        options: {
          parsing: false,
          scales: {
            x: {
              ...axis(pal, s.param),
              ...(s.categories ? { min: -0.5, max: s.categories.length - 0.5 } : {}),
              ticks: { color: pal.muted, maxTicksLimit: 6, maxRotation: 0, callback: (v: number | string) => (s.categories ? (s.categories[Number(v)] ?? '') : fmt(Number(v), 3)) },
            },
            y: { ...axis(pal, title), ticks: { color: pal.muted, maxTicksLimit: 5, callback: (v: number | string) => fmt(Number(v), 3) } },
          },
          plugins: { legend: { display: false }, tooltip: { enabled: false } },
        },
        plugins: [
          probePlugin(`slice:${s.param}`),
          tipPlugin((items) => {
            const i = (items[0]!.raw as XY).i;
            return i === undefined ? null : trialLines(store, store.rows[i]!);
          }, {
            intersect: true,
            onClick: (it, ev) => {
              const i = (it.raw as XY).i;
              if (i !== undefined) this.links.open(store.rows[i]!.n, ev?.shiftKey);
            },
          }),
        ],
      }));
      return box;
    });
    if (!boxes.length) this.host.append(el('p', 'note', 'Waiting for complete trials with parameters that vary…'));
  }

  destroy(): void {
    for (const c of this.charts) c.destroy();
    this.charts = [];
    this.host.replaceChildren();
  }
}
