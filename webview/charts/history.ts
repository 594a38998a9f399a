/**
 * Best-so-far history: every complete trial's score (first objective) by arrival, infeasible
 * trials as crosses at the score they would have had without the constraint, failed trials as
 * ticks along the bottom, and the running best as a step line. The trial series are the store's
 * own arrays (appended in place), so a streaming update is `update('none')` with no copying;
 * decimation (min-max) keeps 100,000 points to a few per pixel column. Hovering a point shows
 * the trial; a click opens it.
 */
import { fmt } from '../format';
import type { Links } from '../links';
import { objectiveTitle } from '../metric-info';
import type { PanelStore, XY } from '../store';
import { readPalette, withAlpha } from '../theme';
import { trialLines } from '../trial-text';
import { applyDefaults, axis, Chart, makeChart, probePlugin, tipPlugin } from './chartjs';

export class HistoryChart {
  private chart: Chart<'line', XY[]> | null = null;
  private sig = '';
  private readonly selected: XY[] = [];
  private readonly failedTicks: XY[] = [];

  constructor(private readonly host: HTMLElement, private readonly store: PanelStore, private readonly links: Links) {}

  /** Redraws; `rebuild` after a theme change. The chart is rebuilt when the run or the objective changes. */
  update(rebuild = false): void {
    const s = this.store;
    const sig = `${s.epoch}|${s.header?.objectives?.[0] ?? ''}|${s.directions[0]}`;
    if (!this.chart || rebuild || sig !== this.sig) this.build(sig);
    this.syncExtras();
    const x = this.chart!.options.scales!['x']!;
    // The axis ends at the trials seen so far, never at a rounder empty number.
    x.max = Math.max(1, s.count);
    this.chart!.update('none');
  }

  /** The selection ring and the failed ticks (kept outside the store's arrays). */
  private syncExtras(): void {
    const s = this.store;
    this.selected.length = 0;
    const n = this.links.selected;
    if (n !== undefined) {
      const i = s.indexOf(n);
      const p = s.history.find((h) => h.i === i) ?? s.infeasible.find((h) => h.i === i);
      if (p) this.selected.push(p);
    }
    if (this.failedTicks.length !== s.failed.length) {
      const ys = s.history.length ? s.history.map((p) => p.y) : [0];
      const lo = Math.min(...ys.slice(-5000));
      this.failedTicks.length = 0;
      for (const x of s.failed) this.failedTicks.push({ x, y: lo });
    }
  }

  private build(sig: string): void {
    this.chart?.destroy();
    this.sig = sig;
    const s = this.store;
    const pal = readPalette();
    applyDefaults(pal);
    const objective = objectiveTitle(s.header?.objectives?.[0], 0, s.header?.directions.length ?? 1);
    const dir = s.directions[0];
    const pointTip = (items: { raw: unknown; label: string }[]) => {
      const it = items.find((i) => (i.raw as XY).i !== undefined);
      const row = it ? s.rows[(it.raw as XY).i!] : undefined;
      if (row) return trialLines(s, row);
      const best = items.find((i) => i.label.startsWith('best'));
      return best ? [`best so far: ${fmt((best.raw as XY).y)}`] : null;
    };
    this.chart = makeChart<'line', XY[]>(this.host, {
      type: 'line',
      data: {
        datasets: [
          { label: 'trials', data: s.history, showLine: false, pointRadius: 1.6, pointHoverRadius: 4, pointBorderWidth: 0, borderColor: withAlpha(pal.series[0]!, 0.55), backgroundColor: withAlpha(pal.series[0]!, 0.55) },
          { label: 'infeasible', data: s.infeasible, showLine: false, pointStyle: 'crossRot', pointRadius: 3, pointHoverRadius: 5, pointBorderWidth: 1, borderColor: withAlpha(pal.muted, 0.8), backgroundColor: withAlpha(pal.muted, 0.8) },
          { label: 'failed', data: this.failedTicks, showLine: false, pointStyle: 'line', pointRotation: 90, pointRadius: 4, pointBorderWidth: 1, borderColor: withAlpha(pal.bad, 0.8), backgroundColor: withAlpha(pal.bad, 0.8) },
          { label: `best so far (${dir})`, data: s.runningBest, stepped: 'after', borderColor: pal.series[1], backgroundColor: pal.series[1], borderWidth: 2, pointRadius: 0, pointHitRadius: 0 },
          { label: 'selected', data: this.selected, showLine: false, pointRadius: 6, pointBorderWidth: 2, borderColor: pal.fg, backgroundColor: 'transparent', pointHitRadius: 0 },
        ],
      },
      options: {
        parsing: false,
        normalized: true,
        scales: {
          x: { ...axis(pal, 'trials completed'), min: 0, ticks: { color: pal.muted, maxTicksLimit: 8, precision: 0, maxRotation: 0 } },
          y: axis(pal, objective),
        },
        plugins: {
          decimation: { enabled: true, algorithm: 'min-max' },
          legend: {
            position: 'top',
            align: 'end',
            labels: { filter: (i) => !['selected'].includes(i.text) && !(i.text === 'infeasible' && s.infeasible.length === 0) && !(i.text === 'failed' && s.failed.length === 0) },
          },
          tooltip: { enabled: false },
        },
      },
      plugins: [
        probePlugin('history'),
        tipPlugin(pointTip, {
          mode: 'nearest',
          intersect: true,
          onClick: (it, ev) => {
            const i = (it.raw as XY).i;
            const row = i === undefined ? undefined : s.rows[i];
            if (row) this.links.open(row.n, ev?.shiftKey);
          },
        }),
      ],
    });
  }
}
