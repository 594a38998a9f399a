/**
 * The Pareto scatter for several objectives: every feasible trial on two chosen objectives
 * (thinned to a few thousand points), the non-dominated front of that pair highlighted and
 * joined, and the run's own front over all objectives (from the host) ringed.
 */
import type { TrialRow } from '../../protocol/messages';
import type { TrialSummary } from '../../protocol/run-events';
import { scoreAt, type PanelStore, type XY } from '../store';
import { readPalette, withAlpha } from '../theme';
import { fmt } from '../format';
import type { Links } from '../links';
import { objectiveTitle } from '../metric-info';
import { trialLines } from '../trial-text';
import { applyDefaults, axis, Chart, makeChart, probePlugin, tipPlugin } from './chartjs';

const MAX_POINTS = 4000;

/** The non-dominated points of a 2-D set, sorted by x (pure; `maxX`/`maxY` give the directions). */
export function front2d(points: XY[], maxX: boolean, maxY: boolean): XY[] {
  const sx = maxX ? -1 : 1;
  const sy = maxY ? -1 : 1;
  // Sort so the best x comes first (ties: best y first); sweep keeping strictly improving y.
  const sorted = [...points].sort((a, b) => sx * (a.x - b.x) || sy * (a.y - b.y));
  const out: XY[] = [];
  let bestY = Infinity;
  for (const p of sorted) {
    const y = sy * p.y;
    if (y < bestY) {
      out.push(p);
      bestY = y;
    }
  }
  return out.sort((a, b) => a.x - b.x);
}

export class ParetoChart {
  private chart: Chart<'scatter', XY[]> | null = null;
  private key = '';

  constructor(private readonly host: HTMLElement, private readonly store: PanelStore, private readonly links: Links) {}

  update(xi: number, yi: number, rebuild = false): void {
    const store = this.store;
    const dirs = store.directions;
    const names = store.header?.objectives ?? [];
    const pts: XY[] = [];
    const ok: TrialRow[] = store.rows.filter((r) => r.st === 'complete');
    const stride = Math.max(1, Math.ceil(ok.length / MAX_POINTS));
    const all: XY[] = [];
    ok.forEach((r, k) => {
      const x = scoreAt(r.sc, xi);
      const y = scoreAt(r.sc, yi);
      if (x === null || y === null) return;
      const p = { x, y, i: store.indexOf(r.n) };
      all.push(p);
      if (k % stride === 0) pts.push(p);
    });
    const front = front2d(all, dirs[xi] !== 'minimize', dirs[yi] !== 'minimize');
    // Chart.js takes unparsed data as sorted by x (it reads the x range from the ends).
    pts.sort((a, b) => a.x - b.x);
    const hostFront: XY[] = (store.pareto ?? store.analysis?.pareto ?? [])
      .map((t: TrialSummary) => ({ x: scoreAt(t.score, xi), y: scoreAt(t.score, yi), i: t.number === undefined ? -1 : store.indexOf(t.number) }))
      .filter((p): p is { x: number; y: number; i: number } => p.x !== null && p.y !== null)
      .sort((a, b) => a.x - b.x);
    const key = `${store.epoch}|${xi}|${yi}`;
    if (this.chart && !rebuild && key === this.key) {
      const ds = this.chart.data.datasets;
      ds[0]!.data = pts;
      ds[1]!.data = hostFront;
      ds[2]!.data = front;
      this.chart.update('none');
      return;
    }
    this.key = key;
    this.chart?.destroy();
    const pal = readPalette();
    applyDefaults(pal);
    const label = (i: number) => `${objectiveTitle(names[i], i, dirs.length)} (${dirs[i] ?? 'maximize'})`;
    this.chart = makeChart<'scatter', XY[]>(this.host, {
      type: 'scatter',
      data: {
        datasets: [
          { label: 'trials', data: pts, pointRadius: 2, pointBorderWidth: 0, backgroundColor: withAlpha(pal.muted, 0.4), borderColor: withAlpha(pal.muted, 0.4) },
          { label: 'non-dominated (all objectives)', data: hostFront, pointRadius: 5, pointBorderWidth: 1.5, backgroundColor: 'transparent', borderColor: pal.series[2], pointStyle: 'circle' },
          { label: 'front of these two', data: front, showLine: true, borderColor: pal.series[1], backgroundColor: pal.series[1], pointRadius: 3, borderWidth: 1.5 },
        ],
      },
      options: {
        parsing: false,
        scales: { x: axis(pal, label(xi)), y: axis(pal, label(yi)) },
        plugins: {
          legend: { position: 'top', align: 'end' },
          tooltip: { enabled: false },
        },
      },
      plugins: [
        probePlugin('pareto'),
        tipPlugin((items) => {
          const p = items[0]!.raw as XY;
          const row = p.i !== undefined && p.i >= 0 ? store.rows[p.i] : undefined;
          return row ? trialLines(store, row) : [`${fmt(p.x)}, ${fmt(p.y)}`];
        }, {
          intersect: true,
          onClick: (it, ev) => {
            const p = it.raw as XY;
            const row = p.i !== undefined && p.i >= 0 ? store.rows[p.i] : undefined;
            if (row) this.links.open(row.n, ev?.shiftKey);
          },
        }),
      ],
    });
  }
}
