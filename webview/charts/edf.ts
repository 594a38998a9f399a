/**
 * The empirical distribution of scores (optuna-dashboard's EDF plot): for each score, the share
 * of feasible trials scoring at most that much — one line per stage, and the compared run's when
 * there is one. A steep rise near the best means many settings do about as well (a broad
 * optimum); a long flat tail before a lone jump means few do. Hover for the trial, click to open.
 */
import { fmt } from '../format';
import type { Links } from '../links';
import { objectiveTitle } from '../metric-info';
import { firstScore, type PanelStore, type XY } from '../store';
import { readPalette } from '../theme';
import { trialLines } from '../trial-text';
import { applyDefaults, axis, Chart, makeChart, probePlugin, tipPlugin } from './chartjs';

const MAX_POINTS = 800;
const SAMPLE = 20000;

/** EDF points of a set of (score, row index) pairs, thinned evenly to at most MAX_POINTS (pure). */
export function edfPoints(scores: { y: number; i: number }[]): XY[] {
  // Past SAMPLE trials an even sample stands for them (sorting 100,000 every redraw would stall a streaming panel).
  const step = Math.max(1, Math.ceil(scores.length / SAMPLE));
  const sample = step === 1 ? [...scores] : scores.filter((_, k) => k % step === 0);
  const sorted = sample.sort((a, b) => a.y - b.y);
  const n = sorted.length;
  const stride = Math.max(1, Math.ceil(n / MAX_POINTS));
  const out: XY[] = [];
  for (let k = 0; k < n; k += stride) out.push({ x: sorted[k]!.y, y: (k + 1) / n, i: sorted[k]!.i });
  if (n && out[out.length - 1]!.y !== 1) out.push({ x: sorted[n - 1]!.y, y: 1, i: sorted[n - 1]!.i });
  return out;
}

/** Per stage (or the whole run when it has one stage): label → EDF points. */
export function edfSeries(store: PanelStore): { label: string; points: XY[] }[] {
  const stages = store.header?.stages ?? [];
  const by = new Map<number, { y: number; i: number }[]>();
  store.rows.forEach((r, i) => {
    if (r.st !== 'complete') return;
    const y = firstScore(r.sc);
    if (y === null) return;
    const key = stages.length > 1 ? r.s : 0;
    (by.get(key) ?? by.set(key, []).get(key)!).push({ y, i });
  });
  return [...by.entries()].sort((a, b) => a[0] - b[0]).map(([s, v]) => ({ label: stages.length > 1 ? `stage ${stages[s]?.name ?? s}` : 'all trials', points: edfPoints(v) }));
}

export class EdfChart {
  private chart: Chart<'line', XY[]> | null = null;

  constructor(private readonly host: HTMLElement, private readonly store: PanelStore, private readonly links: Links, private readonly compare: () => { label: string; points: XY[] }[] = () => []) {}

  update(): void {
    this.chart?.destroy();
    const pal = readPalette();
    applyDefaults(pal);
    const s = this.store;
    const own = edfSeries(s);
    const other = this.compare();
    const series = [...own, ...other];
    this.chart = makeChart<'line', XY[]>(this.host, {
      type: 'line',
      data: {
        datasets: series.map((e, k) => ({
          label: e.label,
          data: e.points,
          stepped: 'before' as const,
          borderColor: pal.series[k % pal.series.length],
          backgroundColor: pal.series[k % pal.series.length],
          borderWidth: 1.5,
          borderDash: k >= own.length ? [5, 3] : [],
          pointRadius: 0,
          pointHitRadius: 4,
        })),
      },
      options: {
        parsing: false,
        scales: {
          x: { ...axis(pal, objectiveTitle(s.header?.objectives?.[0])), ticks: { color: pal.muted, maxTicksLimit: 7, maxRotation: 0, callback: (v: number | string) => fmt(Number(v), 3) } },
          y: { ...axis(pal, 'share of trials ≤ score'), min: 0, max: 1, ticks: { color: pal.muted, maxTicksLimit: 6, callback: (v: number | string) => `${fmt(Number(v) * 100, 3)} %` } },
        },
        plugins: { legend: { display: series.length > 1, position: 'top', align: 'end' }, tooltip: { enabled: false } },
      },
      plugins: [
        probePlugin('edf'),
        tipPlugin((items) => {
          const it = items[0]!;
          const p = it.raw as XY;
          const head = `${fmt(p.y * 100, 3)} % of ${it.label} score ≤ ${fmt(p.x)}`;
          return it.datasetIndex < own.length && p.i !== undefined ? [head, ...trialLines(s, s.rows[p.i]!)] : [head];
        }, {
          onClick: (it, ev) => {
            const p = it.raw as XY;
            if (it.datasetIndex < own.length && p.i !== undefined) this.links.open(s.rows[p.i]!.n, ev?.shiftKey);
          },
        }),
      ],
    });
  }
}
