/**
 * Parameter importance bars, from the run host's analysis snapshot. Before the first snapshot
 * arrives (or when a host sends none) the panel estimates it itself: the share of the score's
 * variance explained by each parameter's values (one-way eta², normalised), labelled as an
 * estimate so nobody mistakes it for the host's fANOVA figure.
 */
import type { ParamImportance } from '../../protocol/analysis';
import { firstScore, type PanelStore } from '../store';
import { readPalette, withAlpha } from '../theme';
import { fmt } from '../format';
import { applyDefaults, axis, Chart, makeChart, probePlugin } from './chartjs';

/** One-way eta² per parameter over complete trials, normalised to sum to 1. */
export function estimateImportance(store: PanelStore): ParamImportance[] {
  const rows = store.rows.filter((r) => r.st === 'complete' && firstScore(r.sc) !== null);
  if (rows.length < 3) return [];
  const ys = rows.map((r) => firstScore(r.sc)!);
  const mean = ys.reduce((a, b) => a + b, 0) / ys.length;
  const total = ys.reduce((a, y) => a + (y - mean) ** 2, 0);
  if (!(total > 0)) return [];
  const out: ParamImportance[] = [];
  store.tables.params.forEach((name, pi) => {
    const groups = new Map<string, { n: number; sum: number }>();
    rows.forEach((r, k) => {
      const v = r.p[pi];
      if (v === null || v === undefined) return;
      const g = groups.get(String(v)) ?? { n: 0, sum: 0 };
      g.n++;
      g.sum += ys[k]!;
      groups.set(String(v), g);
    });
    if (groups.size < 2) return;
    let between = 0;
    for (const g of groups.values()) between += g.n * (g.sum / g.n - mean) ** 2;
    out.push({ param: name, importance: between / total });
  });
  const sum = out.reduce((a, b) => a + b.importance, 0);
  if (sum > 0) for (const o of out) o.importance /= sum;
  return out;
}

export class ImportanceChart {
  private chart: Chart<'bar', number[]> | null = null;
  private lastKey = '';
  /** True when the bars show the panel's own estimate. */
  estimated = false;

  constructor(private readonly host: HTMLElement, private readonly note: HTMLElement) {}

  private estimate: ParamImportance[] = [];
  private estimatedAt = -Infinity;

  update(store: PanelStore, rebuild = false): void {
    let items = store.analysis?.importance ?? [];
    this.estimated = items.length === 0;
    if (this.estimated) {
      // O(trials × params): on big runs re-estimated every few seconds, not on every redraw.
      const now = performance.now();
      const stale = now - this.estimatedAt > (store.rows.length > 5000 ? 3000 : 0);
      if (stale || rebuild || this.estimate.length === 0) {
        this.estimate = estimateImportance(store);
        this.estimatedAt = now;
      }
      items = this.estimate;
    }
    items = [...items].sort((a, b) => b.importance - a.importance);
    this.note.textContent = items.length === 0
      ? 'Waiting for enough trials to estimate importance…'
      : this.estimated
        ? `Estimated in the panel from ${store.rows.length} trials (share of score variance explained by each parameter).`
        : `From the run's analysis of ${store.analysis?.trials ?? 0} trials.`;
    const key = JSON.stringify(items.map((i) => [i.param, i.importance]));
    if (this.chart && !rebuild && key === this.lastKey) return;
    this.lastKey = key;
    const labels = items.map((i) => i.param);
    const data = items.map((i) => i.importance * 100);
    if (this.chart && !rebuild) {
      this.chart.data.labels = labels;
      this.chart.data.datasets[0]!.data = data;
      this.chart.update('none');
      return;
    }
    this.chart?.destroy();
    const pal = readPalette();
    applyDefaults(pal);
    this.chart = makeChart<'bar', number[]>(this.host, {
      type: 'bar',
      data: {
        labels,
        datasets: [{
          label: 'importance %',
          data,
          backgroundColor: withAlpha(pal.series[0]!, 0.75),
          borderColor: pal.series[0],
          borderWidth: 1,
          maxBarThickness: 22,
        }],
      },
      options: {
        indexAxis: 'y',
        scales: {
          x: { ...axis(pal, 'share of explained variance (%)'), min: 0, suggestedMax: 100 },
          y: { type: 'category', grid: { display: false }, ticks: { color: pal.fg } },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: (c) => {
                const it = items[c.dataIndex];
                const extra = it?.pValue !== undefined && it?.pValue !== null ? ` · p = ${fmt(it.pValue, 2)}` : '';
                return `${fmt(c.parsed.x, 3)} %${extra}`;
              },
            },
          },
        },
      },
      plugins: [probePlugin('importance')],
    });
  }
}
