/** The equity curve of one re-run trial (trial detail). */
import type { TrialDetail } from '../../protocol/messages';
import { readPalette, withAlpha } from '../theme';
import { applyDefaults, axis, Chart, fmt, makeChart, probePlugin } from './chartjs';

const day = (t: number) => new Date(t).toISOString().slice(0, 10);

export class EquityChart {
  private chart: Chart<'line', { x: number; y: number }[]> | null = null;

  constructor(private readonly host: HTMLElement) {}

  draw(detail: TrialDetail): void {
    this.chart?.destroy();
    const pal = readPalette();
    applyDefaults(pal);
    const data = detail.equity.map((p) => ({ x: Date.parse(p.date), y: p.value })).filter((p) => Number.isFinite(p.x));
    this.chart = makeChart<'line', { x: number; y: number }[]>(this.host, {
      type: 'line',
      data: {
        datasets: [{
          label: 'portfolio value',
          data,
          borderColor: pal.series[0],
          backgroundColor: withAlpha(pal.series[0]!, 0.15),
          borderWidth: 1.5,
          pointRadius: 0,
        }],
      },
      options: {
        parsing: false,
        normalized: true,
        interaction: { mode: 'nearest', intersect: false, axis: 'x' },
        scales: {
          x: { ...axis(pal), min: data[0]?.x, max: data[data.length - 1]?.x, ticks: { color: pal.muted, maxTicksLimit: 6, callback: (v) => day(Number(v)) } },
          y: { ...axis(pal, 'value'), grace: '5%' },
        },
        plugins: {
          legend: { display: false },
          decimation: { enabled: true, algorithm: 'lttb', samples: 600 },
          tooltip: { callbacks: { title: (items) => day((items[0]!.raw as { x: number }).x), label: (c) => fmt((c.raw as { y: number }).y, 8) } },
        },
      },
      plugins: [probePlugin('equity')],
    });
  }

  destroy(): void {
    this.chart?.destroy();
    this.chart = null;
  }
}
