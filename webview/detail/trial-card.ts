/**
 * The trial card. Selecting a trial shows what the run recorded (parameters, score, metrics);
 * opening it (double-click, Enter, a chart click, "Run backtest") asks the extension to re-run
 * it and draws the answer: per-bar equity against buy-and-hold, the underwater plot, the trades,
 * per-symbol metrics of a basket. Pinned trials stay overlaid on the next ones.
 *
 * Why the card never re-opens a trial by itself (#19 defect 1): the extension re-sends the whole
 * panel state when a trial opens; re-opening on every snapshot re-ran the backtest forever.
 * Details are cached per run and belong to one run: a new run, or a late answer from the old
 * one, never shows another run's trial (#19 defect 6).
 */
import type { TrialDetail, TrialRow } from '../../protocol/messages';
import { el, kv, simpleTable, type Card } from '../dom';
import { fmt, fmtScore, fmtValue } from '../format';
import type { Links } from '../links';
import { metricInfo, metricTitle, objectiveTitle } from '../metric-info';
import type { PanelStore } from '../store';
import { button, spinner } from '../ui';
import { post } from '../vscode-api';
import { KEY_METRICS } from '../table/columns';
import { EquityChart } from './equity-chart';

const MAX_TRADES = 500;

export class TrialCard {
  /** The run the cached details belong to. */
  private runId: string | undefined;
  private readonly details = new Map<number, TrialDetail>();
  private readonly pending = new Set<number>();
  private readonly pinned: number[] = [];
  private shown: number | undefined;
  private readonly chart: EquityChart;
  private readonly side = el('div', 'detail-side');
  private readonly main = el('div', 'detail-main');
  private readonly status = el('div', 'detail-status');
  private readonly extra = el('div', 'detail-extra');

  constructor(private readonly card: Card, private readonly store: PanelStore, private readonly links: Links, private readonly onClose: () => void, private readonly save?: HTMLElement) {
    card.card.hidden = true;
    card.body.classList.add('detail');
    this.chart = new EquityChart(el('div', 'equity-stack'));
    this.main.append(this.status, this.chart.host, this.extra);
    card.body.append(this.side, this.main);
  }

  /** A run was loaded: a different run drops everything of the old one. Returns true when it was a new run. */
  setRun(runId: string | undefined): boolean {
    if (runId === this.runId) return false;
    this.runId = runId;
    this.details.clear();
    this.pending.clear();
    this.pinned.length = 0;
    this.hide();
    return true;
  }

  /** Shows the selected trial (what the run recorded, plus its re-run when cached). */
  show(n: number | undefined): void {
    const row = n === undefined ? undefined : this.store.row(n);
    if (!row) return this.hide();
    this.shown = n;
    this.render(row);
  }

  /**
   * Re-runs a trial (once: a pending or cached trial is not run again). `overlay`: keep the
   * trial shown and draw this one's equity over it (Shift+double-click, Shift+click on a chart).
   */
  open(n: number, overlay = false): void {
    const row = this.store.row(n);
    if (!row) return;
    const asOverlay = overlay && this.shown !== undefined && this.shown !== n;
    if (asOverlay && !this.pinned.includes(n)) this.pinned.push(n);
    if (!this.details.has(n) && !this.pending.has(n)) {
      this.pending.add(n);
      post({ type: 'openTrial', n, stage: this.store.header?.stages[row.s]?.name, params: this.store.paramsOf(row), ...(this.runId ? { runId: this.runId } : {}), ...(asOverlay ? { intent: 'overlay' as const } : {}) });
    }
    if (asOverlay) return this.render(this.store.row(this.shown!)!);
    this.links.select(n);
    this.shown = n;
    this.render(row);
  }

  /** True when a trial has a re-run answer or one on its way. */
  has(n: number): boolean {
    return this.details.has(n) || this.pending.has(n);
  }

  /** The extension's answer. Dropped when it belongs to another run. */
  receive(d: TrialDetail): void {
    if (d.runId !== undefined && d.runId !== this.runId) return;
    const row = this.store.row(d.n);
    // An older host sends no run id: then the parameters must be the row's.
    if (!row || (d.runId === undefined && !sameParams(this.store.paramsOf(row), d.params))) return;
    this.pending.delete(d.n);
    this.details.set(d.n, d);
    // An overlaid trial joins the chart of the trial shown.
    if ((d.intent === 'overlay' || this.pinned.includes(d.n)) && this.shown !== undefined && this.shown !== d.n) {
      if (!this.pinned.includes(d.n)) this.pinned.push(d.n);
      return this.render(this.store.row(this.shown)!);
    }
    // The Open Trial command (not the panel) may have asked: then the answer chooses the trial.
    if (this.shown !== d.n) this.links.select(d.n);
    this.shown = d.n;
    this.render(row);
  }

  /** Redraws the charts (theme change). */
  redraw(): void {
    if (this.shown !== undefined && !this.card.card.hidden) this.show(this.shown);
  }

  hide(): void {
    this.shown = undefined;
    this.card.card.hidden = true;
    this.chart.destroy();
  }

  private render(row: TrialRow): void {
    const c = this.card;
    c.card.hidden = false;
    const d = this.details.get(row.n);
    const pending = this.pending.has(row.n);
    const h = this.store.header;
    const stage = h && h.stages.length > 1 ? ` · stage ${h.stages[row.s]?.name ?? ''}` : '';
    c.title.textContent = `Trial #${row.n}${stage}`;
    const params = this.store.paramsOf(row);
    const tools: HTMLElement[] = [];
    if (!d && !pending) tools.push(button('Run backtest', { appearance: 'primary', onClick: () => this.open(row.n), title: 'Re-run this trial to see its equity curve, drawdowns and trades' }));
    tools.push(button('Apply to study', { appearance: d || pending ? 'primary' : 'secondary', onClick: () => post({ type: 'applyParams', params, n: row.n, which: 'trial' }), title: 'Write these parameters into the study as strategy overrides (undoable)' }));
    if (d && !d.error) {
      const pinned = this.pinned.includes(row.n);
      tools.push(button(pinned ? 'Unpin' : 'Pin to compare', {
        onClick: () => {
          if (pinned) this.pinned.splice(this.pinned.indexOf(row.n), 1);
          else this.pinned.push(row.n);
          this.render(row);
        },
        title: 'Keep this equity curve on the chart while you open other trials',
      }));
    }
    tools.push(button('Close', { onClick: () => { this.links.select(undefined); this.hide(); this.onClose(); } }));
    c.tools.replaceChildren(...tools, ...(this.save && d && !d.error ? [this.save] : []));
    this.renderSide(row, params, d);
    this.renderMain(row, d, pending);
  }

  private renderSide(row: TrialRow, params: Record<string, number | string | boolean>, d: TrialDetail | undefined): void {
    const h = this.store.header;
    const scoreTitle = (h?.directions.length ?? 1) > 1 ? 'Score' : objectiveTitle(h?.objectives[0]);
    // The re-run reports every metric; until it answers, the row's (the panel's subset).
    // The study's metrics (the names the run's rows carry), from the re-run when it answered.
    const names = this.store.tables.metrics;
    const metrics: [string, number | null][] = names.map((m, i) => [m, d?.metrics && m in d.metrics ? (d.metrics[m] ?? null) : (row.m[i] ?? null)]);
    this.side.replaceChildren(
      el('h3', undefined, 'Parameters'),
      kv(Object.entries(params).map(([k, v]) => [k, fmtValue(v)])),
      el('h3', undefined, `${scoreTitle}: ${fmtScore(row.sc)}`),
      ...(row.st !== 'complete' ? [el('p', 'warn-text', `${row.st}${row.e ? `: ${row.e}` : ''}`)] : []),
      kv(metrics.map(([m, v]) => [metricTitle(m), fmt(v), metricInfo(m).title ?? m])),
    );
  }

  private renderMain(row: TrialRow, d: TrialDetail | undefined, pending: boolean): void {
    this.extra.replaceChildren();
    if (pending) {
      this.status.replaceChildren(spinner(), el('span', undefined, ' Running the backtest…'));
      this.chart.destroy();
      return;
    }
    if (!d) {
      this.status.replaceChildren(el('span', 'note', 'Double-click the row, or "Run backtest", to re-run this trial and see its equity curve.'));
      this.chart.destroy();
      return;
    }
    if (d.error) {
      this.status.replaceChildren(el('span', 'warn-text', `Could not re-run the trial: ${d.error}`));
      this.chart.destroy();
      return;
    }
    const span = d.equity.length ? `${d.equityFromTrades ? 'Closed-trade equity (the backtest reported no per-bar value)' : 'Equity per bar'} from ${d.equity[0]!.date} to ${d.equity[d.equity.length - 1]!.date}` : 'No equity curve (no closed trade)';
    const pins = this.pinned.filter((n) => n !== row.n).map((n) => this.details.get(n)).filter((x): x is TrialDetail => !!x && !x.error);
    const waiting = this.pinned.filter((n) => this.pending.has(n));
    this.status.replaceChildren(el('span', 'note', `${d.trades.length} trades. ${span}.${d.benchmark?.length ? ' Dashed: buy and hold.' : ''}${pins.length ? ` Overlaid: ${pins.map((p) => `#${p.n}`).join(', ')}.` : ''}${waiting.length ? ` Re-running ${waiting.map((n) => `#${n}`).join(', ')}…` : ''} Shift+double-click another trial to overlay it.${d.note ? ` ${d.note}` : ''}`));
    if (d.equity.length) this.chart.draw(EquityChart.curves(d, pins));
    else this.chart.destroy();
    if (d.symbols?.length) {
      // The table's key metrics when the symbols report them, else their first few.
      const all = [...new Set(d.symbols.flatMap((s) => Object.keys(s.metrics)))];
      const key = ['final_value', ...KEY_METRICS].filter((m) => all.includes(m));
      const names = key.length ? key : all.slice(0, 8);
      this.extra.append(el('h3', undefined, 'Per symbol'), simpleTable('symbols', ['symbol', ...names.map(metricTitle)], d.symbols.map((s) => [s.symbol, ...names.map((m) => fmt(s.metrics[m] ?? null))]), [false, ...names.map(() => true)]));
    }
    if (d.trades.length) {
      const rows = d.trades.slice(0, MAX_TRADES).map((t) => [t.entry_date, t.exit_date, fmt(t.size, 6), fmt(t.entry_price, 6), fmt(t.exit_price, 6), fmt(t.pnlcomm, 6)]);
      const table = simpleTable('trades', ['entry', 'exit', 'size', 'entry price', 'exit price', 'P&L (net)'], rows, [false, false, true, true, true, true]);
      table.querySelectorAll('tbody tr').forEach((tr, i) => tr.lastElementChild?.classList.add(d.trades[i]!.pnlcomm >= 0 ? 'pos' : 'neg'));
      const wrap = el('div', 'trades-wrap');
      wrap.append(table);
      this.extra.append(wrap);
      if (d.trades.length > MAX_TRADES) this.extra.append(el('p', 'note', `First ${MAX_TRADES} of ${d.trades.length} trades.`));
    }
  }
}

function sameParams(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => String(a[k]) === String(b[k]));
}
