/**
 * Best-so-far history: every complete trial's score (first objective) by arrival, infeasible
 * trials greyed, and the running best as a step line. The trial series are the store's own
 * arrays (appended in place), so a streaming update is `update('none')` with no copying;
 * decimation (min-max) keeps 100,000 points to a few per pixel column.
 */
import type { PanelStore, XY } from '../store';
import { readPalette, withAlpha } from '../theme';
import { applyDefaults, axis, Chart, fmt, makeChart, probePlugin } from './chartjs';

export class HistoryChart {
  private chart: Chart<'line', XY[]> | null = null;
  private epoch = -1;

  constructor(private readonly host: HTMLElement) {}

  /** Redraws; `rebuild` after a theme change or a new run. */
  update(store: PanelStore, rebuild = false): void {
    if (!this.chart || rebuild || this.epoch !== store.epoch) this.build(store);
    const x = this.chart!.options.scales!['x']!;
    // The axis ends at the trials seen so far (or the run's total once it is close), never at a rounder empty number.
    x.max = Math.max(1, store.count);
    this.chart!.update('none');
  }

  private build(store: PanelStore): void {
    this.chart?.destroy();
    this.epoch = store.epoch;
    const pal = readPalette();
    applyDefaults(pal);
    const o = store.header?.objectives?.[0];
    // A composite expression is too long for an axis title; the card's note spells it out.
    const objective = o && o.length <= 24 ? o : 'score';
    const dir = store.directions[0];
    this.chart = makeChart<'line', XY[]>(this.host, {
      type: 'line',
      data: {
        datasets: [
          {
            label: 'trial score',
            data: store.history,
            showLine: false,
            pointRadius: 1.6,
            pointHoverRadius: 4,
            pointBackgroundColor: withAlpha(pal.series[0]!, 0.55),
            pointBorderWidth: 0,
            borderColor: withAlpha(pal.series[0]!, 0.55),
            backgroundColor: withAlpha(pal.series[0]!, 0.55),
          },
          {
            label: 'infeasible',
            data: store.infeasible,
            showLine: false,
            pointRadius: 1.4,
            pointBackgroundColor: withAlpha(pal.muted, 0.45),
            pointBorderWidth: 0,
            borderColor: withAlpha(pal.muted, 0.45),
            backgroundColor: withAlpha(pal.muted, 0.45),
            hidden: store.infeasible.length === 0,
          },
          {
            label: `best so far (${dir})`,
            data: store.runningBest,
            stepped: 'after',
            borderColor: pal.series[1],
            backgroundColor: pal.series[1],
            borderWidth: 2,
            pointRadius: 0,
          },
        ],
      },
      options: {
        parsing: false,
        normalized: true,
        interaction: { mode: 'nearest', intersect: false, axis: 'x' },
        scales: {
          x: { ...axis(pal, 'trials completed'), min: 0, ticks: { color: pal.muted, maxTicksLimit: 8, precision: 0 } },
          y: axis(pal, objective),
        },
        plugins: {
          decimation: { enabled: true, algorithm: 'min-max' },
          legend: { position: 'top', align: 'end', labels: { filter: (i) => !(i.text === 'infeasible' && store.infeasible.length === 0) } },
          tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${fmt((c.raw as { y: number }).y)}` } },
        },
      },
      plugins: [probePlugin('history')],
    });
  }
}
