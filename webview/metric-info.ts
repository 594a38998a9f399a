/**
 * How the panel names metrics: a word label and a unit for each study metric (DESIGN.md's
 * names), so tables and axes read "Return %" rather than `total_return_pct`. Unknown metrics
 * (a user analyzer's `vwr.vwr`, a future engine metric) get a label derived from their name.
 */
import type { MetricLabel } from '../protocol/analysis';

export interface MetricInfo {
  label: string;
  /** `%`, or empty for plain numbers and money. */
  unit: string;
  /** A sentence for the header's tooltip. */
  title?: string;
}

const KNOWN: Record<string, MetricInfo> = {
  final_value: { label: 'Final value', unit: '', title: 'Portfolio value at the end' },
  total_return_pct: { label: 'Return', unit: '%', title: 'Total return over the run' },
  cagr_pct: { label: 'CAGR', unit: '%', title: 'Compound annual growth rate' },
  trades: { label: 'Trades', unit: '', title: 'Closed trades' },
  trades_long: { label: 'Long trades', unit: '' },
  trades_short: { label: 'Short trades', unit: '' },
  won: { label: 'Won', unit: '', title: 'Winning trades' },
  lost: { label: 'Lost', unit: '', title: 'Losing trades' },
  win_rate_pct: { label: 'Win rate', unit: '%', title: 'Winning trades / closed trades' },
  gross_profit: { label: 'Gross profit', unit: '' },
  gross_loss: { label: 'Gross loss', unit: '' },
  profit_factor: { label: 'Profit factor', unit: '', title: 'Gross profit / gross loss' },
  max_drawdown_pct: { label: 'Max drawdown', unit: '%', title: 'Largest peak-to-trough fall of the portfolio value' },
  max_drawdown: { label: 'Max drawdown', unit: '', title: 'Largest peak-to-trough fall, in money' },
  sharpe: { label: 'Sharpe', unit: '', title: 'Sharpe ratio of daily returns, annualised (√252), risk-free 0' },
  sortino: { label: 'Sortino', unit: '' },
  calmar: { label: 'Calmar', unit: '' },
  sqn: { label: 'SQN', unit: '', title: 'System quality number' },
  exposure_pct: { label: 'Exposure', unit: '%', title: 'Share of bars in the market' },
  avg_trade_pnl: { label: 'Avg trade P&L', unit: '' },
  pnl_net_total: { label: 'Net P&L', unit: '' },
  pnl_gross_total: { label: 'Gross P&L', unit: '' },
  negative_years: { label: 'Losing years', unit: '' },
  final_cash: { label: 'Final cash', unit: '' },
};

/** Labels the run's analysis sent (the engine's metric catalogue); they win over the table above. */
let catalogue: Record<string, MetricLabel> | undefined;

/** Uses the run's metric catalogue (AnalysisSnapshot.metricInfo) from now on. */
export function setMetricCatalogue(c: Record<string, MetricLabel> | undefined): void {
  catalogue = c;
}

const UNIT: Record<MetricLabel['unit'], string> = { money: '', percent: '%', ratio: '', count: '', bars: 'bars', fraction: '' };

/** Label and unit of a metric. */
export function metricInfo(name: string): MetricInfo {
  const c = catalogue?.[name];
  const k = KNOWN[name];
  // The catalogue's labels carry their unit ("Total return (%)"); the panel adds its own.
  if (c) return { label: c.label.replace(/\s*\((%|bars)\)$/, ''), unit: UNIT[c.unit] ?? '', title: k?.title };
  if (k) return k;
  const pct = /_pct$/.test(name);
  const base = name.replace(/_pct$/, '').replace(/_/g, ' ');
  return { label: base.charAt(0).toUpperCase() + base.slice(1), unit: pct ? '%' : '' };
}

/** `Return %`, `Sharpe`: a label with its unit, for column headers and axis titles. */
export function metricTitle(name: string): string {
  const i = metricInfo(name);
  return i.unit ? `${i.label} ${i.unit}` : i.label;
}

/** An objective's short title: the metric's label when it is one metric, else `score`. */
export function objectiveTitle(expr: string | undefined, index = 0, count = 1): string {
  const e = (expr ?? '').trim();
  if (/^[A-Za-z_][\w.]*$/.test(e)) return metricTitle(e);
  return count > 1 ? `objective ${index + 1}` : 'score';
}
