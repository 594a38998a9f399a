/**
 * Compare runs: a second saved run (picked with "Compare…", sent by the extension as
 * `compareRun`) overlaid on this one — both histories of the best score, both parameter
 * importances, and both bests side by side (parameters, score, key metrics).
 */
import type { RunSnapshot } from '../../protocol/messages';
import { el, simpleTable, type Card } from '../dom';
import { fmt, fmtCount, fmtScore, fmtValue } from '../format';
import { metricTitle, objectiveTitle } from '../metric-info';
import { PanelStore, type XY } from '../store';
import { readPalette, withAlpha } from '../theme';
import { applyDefaults, axis, Chart, makeChart, probePlugin, tipPlugin } from '../charts/chartjs';
import { edfSeries } from '../charts/edf';
import { estimateImportance } from '../charts/importance';

const KEY = ['total_return_pct', 'max_drawdown_pct', 'sharpe', 'profit_factor', 'trades'];

export class CompareCard {
  /** The other run, or null. */
  readonly other = new PanelStore();
  private loaded = false;
  private history: Chart<'line', XY[]> | null = null;
  private importance: Chart<'bar', number[]> | null = null;
  private readonly histHost = el('div', 'chart');
  private readonly impHost = el('div', 'chart');
  private readonly bests = el('div', 'compare-bests');

  constructor(private readonly card: Card, private readonly store: PanelStore, private readonly changed: () => void) {
    card.card.hidden = true;
    const charts = el('div', 'compare-charts');
    charts.append(this.histHost, this.impHost);
    card.body.append(charts, this.bests);
  }

  /** The extension's answer to "Compare…". */
  load(run: RunSnapshot | null): void {
    this.other.loadSnapshot(run);
    this.loaded = !!run;
    this.changed();
  }

  clear(): void {
    this.load(null);
  }

  /** EDF lines of the other run (for the EDF card). */
  edf(): { label: string; points: XY[] }[] {
    if (!this.loaded) return [];
    const all = edfSeries(this.other);
    return all.map((s) => ({ label: `${this.other.header?.study ?? 'other run'}${all.length > 1 ? ` ${s.label}` : ''}`, points: s.points.map((p) => ({ x: p.x, y: p.y })) }));
  }

  draw(): void {
    const a = this.store;
    const b = this.other;
    this.card.card.hidden = !this.loaded || !a.header || !b.header;
    if (this.card.card.hidden) {
      this.history?.destroy();
      this.importance?.destroy();
      this.history = this.importance = null;
      return;
    }
    const name = (s: PanelStore, fallback: string) => `${s.header?.study ?? fallback} (${s.header?.id === a.header?.id ? 'this run' : s.header?.runDir?.split(/[\\/]/).pop() ?? 'other'})`;
    const clear = el('button', 'tool-button', 'Clear');
    clear.addEventListener('click', () => this.clear());
    for (const b of this.card.tools.querySelectorAll('.clear-compare')) b.remove();
    clear.classList.add('clear-compare');
    this.card.tools.prepend(clear);
    this.card.note.textContent = `${name(a, 'this run')}: ${fmtCount(a.rows.length)} trials · ${name(b, 'other run')}: ${fmtCount(b.rows.length)} trials. Dashed: the other run.`;
    this.drawHistory(a, b);
    this.drawImportance(a, b);
    this.drawBests(a, b);
  }

  private drawHistory(a: PanelStore, b: PanelStore): void {
    this.history?.destroy();
    const pal = readPalette();
    applyDefaults(pal);
    const line = (s: PanelStore, k: number, dash: number[]) => ({ label: `${s === a ? 'this run' : 'other run'}: best so far`, data: s.runningBest, stepped: 'after' as const, borderColor: pal.series[k], backgroundColor: pal.series[k], borderWidth: 2, borderDash: dash, pointRadius: 0 });
    const dots = (s: PanelStore, k: number) => ({ label: `${s === a ? 'this run' : 'other run'}: trials`, data: s.history, showLine: false, pointRadius: 1.3, pointBorderWidth: 0, backgroundColor: withAlpha(pal.series[k]!, 0.35), borderColor: withAlpha(pal.series[k]!, 0.35) });
    this.history = makeChart<'line', XY[]>(this.histHost, {
      type: 'line',
      data: { datasets: [dots(a, 0), dots(b, 1), line(a, 0, []), line(b, 1, [6, 4])] },
      options: {
        parsing: false,
        normalized: true,
        scales: { x: { ...axis(pal, 'trials completed'), min: 0, ticks: { color: pal.muted, maxTicksLimit: 6, precision: 0 } }, y: axis(pal, objectiveTitle(a.header?.objectives?.[0])) },
        plugins: { legend: { position: 'top', align: 'end', labels: { filter: (i) => /best/.test(i.text) } }, decimation: { enabled: true, algorithm: 'min-max' }, tooltip: { enabled: false } },
      },
      plugins: [probePlugin('compare-history'), tipPlugin((items) => [`${items[0]!.label}`, `trial ${fmt(items[0]!.x)}: ${fmt(items[0]!.y)}`], { intersect: false })],
    });
  }

  private drawImportance(a: PanelStore, b: PanelStore): void {
    this.importance?.destroy();
    const pal = readPalette();
    applyDefaults(pal);
    const imp = (s: PanelStore) => new Map((s.analysis?.importance?.length ? s.analysis.importance : estimateImportance(s)).map((i) => [i.param, i.importance * 100]));
    const ia = imp(a);
    const ib = imp(b);
    const params = [...new Set([...ia.keys(), ...ib.keys()])].sort((x, y) => (ia.get(y) ?? 0) - (ia.get(x) ?? 0));
    this.importance = makeChart<'bar', number[]>(this.impHost, {
      type: 'bar',
      data: {
        labels: params,
        datasets: [
          { label: 'this run', data: params.map((p) => ia.get(p) ?? 0), backgroundColor: withAlpha(pal.series[0]!, 0.8), maxBarThickness: 14 },
          { label: 'other run', data: params.map((p) => ib.get(p) ?? 0), backgroundColor: withAlpha(pal.series[1]!, 0.8), maxBarThickness: 14 },
        ],
      },
      options: {
        indexAxis: 'y',
        scales: { x: { ...axis(pal, 'importance (%)'), min: 0 }, y: { type: 'category', grid: { display: false }, ticks: { color: pal.fg } } },
        plugins: { legend: { position: 'top', align: 'end' }, tooltip: { enabled: false } },
      },
      plugins: [probePlugin('compare-importance'), tipPlugin((items) => [`${params[items[0]!.index]}`, ...items.map((i) => `${i.label}: ${fmt(i.x, 3)} %`)], { mode: 'index', intersect: false })],
    });
  }

  private drawBests(a: PanelStore, b: PanelStore): void {
    const ba = a.best;
    const bb = b.best;
    const params = [...new Set([...Object.keys(ba?.params ?? {}), ...Object.keys(bb?.params ?? {})])];
    const metrics = KEY.filter((m) => ba?.metrics?.[m] !== undefined || bb?.metrics?.[m] !== undefined);
    const rows: string[][] = [
      ['score', fmtScore(ba?.score), fmtScore(bb?.score)],
      ...params.map((p) => [p, fmtValue(ba?.params[p]), fmtValue(bb?.params[p])]),
      ...metrics.map((m) => [metricTitle(m), fmt(ba?.metrics?.[m] ?? null), fmt(bb?.metrics?.[m] ?? null)]),
    ];
    this.bests.replaceChildren(el('h3', undefined, 'Bests side by side'), simpleTable('compare', ['', `this run${ba?.number !== undefined ? ` (#${ba.number})` : ''}`, `other run${bb?.number !== undefined ? ` (#${bb.number})` : ''}`], rows, [false, true, true]));
  }
}
