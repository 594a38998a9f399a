/**
 * A trial's equity over time, with buy-and-hold of the same data for reference and any pinned
 * trials overlaid, and below it the underwater plot: how far each curve stands under its own
 * running peak (the drawdown, in %). Both share the time axis.
 */
import type { TrialDetail } from '../../protocol/messages';
import { fmt } from '../format';
import { readPalette, withAlpha } from '../theme';
import { applyDefaults, axis, Chart, makeChart, probePlugin, tipPlugin } from '../charts/chartjs';

type Pt = { x: number; y: number };
const day = (t: number) => new Date(t).toISOString().slice(0, 10);

/** Date strings to points, dropping unparseable dates. */
export function toPoints(curve: { date: string; value: number }[]): Pt[] {
  return curve.map((p) => ({ x: Date.parse(p.date), y: p.value })).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
}

/** Drawdown from the running peak, in % (0 at a new high, negative below it). */
export function underwater(points: Pt[]): Pt[] {
  let peak = -Infinity;
  return points.map((p) => {
    peak = Math.max(peak, p.y);
    return { x: p.x, y: peak > 0 ? (100 * (p.y - peak)) / peak : 0 };
  });
}

export interface Curve {
  label: string;
  points: Pt[];
  kind: 'trial' | 'benchmark' | 'pinned';
}

export class EquityChart {
  private equity: Chart<'line', Pt[]> | null = null;
  private water: Chart<'line', Pt[]> | null = null;
  readonly equityHost: HTMLElement;
  readonly waterHost: HTMLElement;

  constructor(readonly host: HTMLElement) {
    this.equityHost = document.createElement('div');
    this.equityHost.className = 'chart equity';
    this.waterHost = document.createElement('div');
    this.waterHost.className = 'chart underwater';
    host.append(this.equityHost, this.waterHost);
  }

  /** Curves from a detail and the pinned details (already fetched). */
  static curves(d: TrialDetail, pinned: TrialDetail[]): Curve[] {
    const out: Curve[] = [{ label: `trial #${d.n}`, points: toPoints(d.equity), kind: 'trial' }];
    for (const p of pinned) if (p.n !== d.n) out.push({ label: `trial #${p.n}`, points: toPoints(p.equity), kind: 'pinned' });
    if (d.benchmark?.length) out.push({ label: 'buy and hold', points: toPoints(d.benchmark), kind: 'benchmark' });
    return out;
  }

  draw(curves: Curve[]): void {
    this.destroy();
    const pal = readPalette();
    applyDefaults(pal);
    const colour = (c: Curve, k: number) => (c.kind === 'benchmark' ? pal.muted : pal.series[k % pal.series.length]!);
    const xs = curves.flatMap((c) => (c.points.length ? [c.points[0]!.x, c.points[c.points.length - 1]!.x] : []));
    const xmin = Math.min(...xs);
    const xmax = Math.max(...xs);
    const xAxis = { ...axis(pal), min: xmin, max: xmax, ticks: { color: pal.muted, maxTicksLimit: 6, maxRotation: 0, callback: (v: number | string) => day(Number(v)) } };
    const dataset = (c: Curve, k: number, data: Pt[], fill: boolean) => ({
      label: c.label,
      data,
      borderColor: colour(c, k),
      backgroundColor: withAlpha(colour(c, k), 0.18),
      borderWidth: c.kind === 'trial' ? 1.8 : 1.2,
      borderDash: c.kind === 'benchmark' ? [5, 4] : [],
      pointRadius: 0,
      fill: fill && c.kind === 'trial' ? 'origin' : false,
    });
    // Both y axes get the same width, so the two plots' time axes line up.
    const yWidth = { afterFit: (scale: { width: number }) => { scale.width = 78; } };
    const tooltip = (unit: string) => tipPlugin((items) => [day(items[0]!.x), ...items.map((i) => `${i.label}: ${fmt(i.y, 6)}${unit}`)]);
    this.equity = makeChart<'line', Pt[]>(this.equityHost, {
      type: 'line',
      data: { datasets: curves.map((c, k) => dataset(c, k, c.points, false)) },
      options: {
        parsing: false,
        normalized: true,
        interaction: { mode: 'nearest', intersect: false, axis: 'x' },
        scales: { x: { ...xAxis, ticks: { ...xAxis.ticks, display: false } }, y: { ...axis(pal, 'portfolio value'), ...yWidth, grace: '5%', ticks: { color: pal.muted, maxTicksLimit: 6, callback: (v: number | string) => fmt(Number(v), 3) } } },
        plugins: { legend: { display: curves.length > 1, position: 'top', align: 'end' }, decimation: { enabled: true, algorithm: 'lttb', samples: 600 }, tooltip: { enabled: false } },
      },
      plugins: [probePlugin('equity'), tooltip('')],
    });
    this.water = makeChart<'line', Pt[]>(this.waterHost, {
      type: 'line',
      data: { datasets: curves.map((c, k) => dataset(c, k, underwater(c.points), true)) },
      options: {
        parsing: false,
        normalized: true,
        interaction: { mode: 'nearest', intersect: false, axis: 'x' },
        scales: { x: xAxis, y: { ...axis(pal, 'drawdown %'), ...yWidth, max: 0, ticks: { color: pal.muted, maxTicksLimit: 4, callback: (v: number | string) => fmt(Number(v), 3) } } },
        plugins: { legend: { display: false }, decimation: { enabled: true, algorithm: 'lttb', samples: 600 }, tooltip: { enabled: false } },
      },
      plugins: [probePlugin('underwater'), tooltip(' %')],
    });
  }

  destroy(): void {
    this.equity?.destroy();
    this.water?.destroy();
    this.equity = this.water = null;
  }
}
