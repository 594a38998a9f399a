/**
 * The metric catalogue: every name a study may use in objectives, constraints and reports.
 * Names are contract (../shared/DESIGN.md). The engine reports each of these keys; the
 * language uses this list for checks, completion and hover.
 */

export interface MetricInfo {
  name: string;
  /** What it measures, one or two sentences. */
  doc: string;
  /** Unit shown in hovers and tables. */
  unit: 'money' | 'percent' | 'ratio' | 'count' | 'bars' | 'fraction';
  /** Which way is better, when one is. */
  better: 'higher' | 'lower' | 'neither';
  /** The golden-file key this friendly name stands for. */
  aliasOf?: string;
}

export const METRICS: readonly MetricInfo[] = [
  { name: 'final_value', unit: 'money', better: 'higher', doc: 'Portfolio value (cash plus the open position marked to the last close) at the last bar.' },
  { name: 'total_return_pct', unit: 'percent', better: 'higher', doc: 'final_value / cash − 1, in percent.' },
  { name: 'cagr_pct', unit: 'percent', better: 'higher', doc: 'Compound annual growth rate over the calendar span from the first to the last bar (365.25-day years), in percent.' },
  { name: 'trades', unit: 'count', better: 'neither', aliasOf: 'trades_closed', doc: 'Closed round-trip trades (an open position at the end is not counted).' },
  { name: 'won', unit: 'count', better: 'higher', doc: 'Closed trades with a net P&L ≥ 0 (backtrader counts a zero-P&L trade as won).' },
  { name: 'lost', unit: 'count', better: 'lower', doc: 'Closed trades with a negative net P&L.' },
  { name: 'win_rate_pct', unit: 'percent', better: 'higher', doc: 'won / trades, in percent.' },
  { name: 'gross_profit', unit: 'money', better: 'higher', doc: 'Sum of net P&L of winning trades (after commission).' },
  { name: 'gross_loss', unit: 'money', better: 'higher', doc: 'Sum of net P&L of losing trades (after commission; zero or negative).' },
  { name: 'profit_factor', unit: 'ratio', better: 'higher', doc: 'gross_profit / |gross_loss|, net of commission. Undefined without a losing trade.' },
  { name: 'max_drawdown_pct', unit: 'percent', better: 'lower', doc: 'Largest peak-to-trough fall of the portfolio value, in percent of the peak (backtrader DrawDown).' },
  { name: 'max_drawdown', unit: 'money', better: 'lower', aliasOf: 'max_drawdown_money', doc: 'Largest peak-to-trough fall of the portfolio value, in money.' },
  { name: 'sharpe', unit: 'ratio', better: 'higher', aliasOf: 'sharpe_days_ann_rf0', doc: 'Sharpe ratio of daily returns, annualized with √252, risk-free rate 0.' },
  { name: 'sortino', unit: 'ratio', better: 'higher', doc: 'Mean daily return over downside deviation (root mean square of the negative daily returns, over all bars), annualized with √252, target 0.' },
  { name: 'calmar', unit: 'ratio', better: 'higher', doc: 'cagr_pct / max_drawdown_pct.' },
  { name: 'sqn', unit: 'ratio', better: 'higher', doc: "Van Tharp's System Quality Number: √trades · mean(pnl) / std(pnl) (backtrader SQN)." },
  { name: 'exposure_pct', unit: 'percent', better: 'neither', doc: 'Share of bars with an open position, in percent.' },
  { name: 'avg_trade_pnl', unit: 'money', better: 'higher', doc: 'Mean net P&L per closed trade.' },
  { name: 'negative_years', unit: 'count', better: 'lower', doc: 'Calendar years with a negative return.' },
  // Golden-file keys (backtrader analyzers), reported under the same names.
  { name: 'final_cash', unit: 'money', better: 'neither', doc: 'Cash at the last bar.' },
  { name: 'end_position_size', unit: 'count', better: 'neither', doc: 'Shares held at the last bar.' },
  { name: 'end_position_price', unit: 'money', better: 'neither', doc: 'Average entry price of the position held at the last bar.' },
  { name: 'trades_total', unit: 'count', better: 'neither', doc: 'Trades opened, closed or not (TradeAnalyzer total).' },
  { name: 'trades_closed', unit: 'count', better: 'neither', doc: 'Closed trades (TradeAnalyzer total.closed).' },
  { name: 'trades_open', unit: 'count', better: 'neither', doc: 'Trades still open at the end.' },
  { name: 'pnl_gross_total', unit: 'money', better: 'higher', doc: 'Sum of closed trades’ P&L before commission.' },
  { name: 'pnl_net_total', unit: 'money', better: 'higher', doc: 'Sum of closed trades’ P&L after commission.' },
  { name: 'gross_profit_pre_comm', unit: 'money', better: 'higher', doc: 'Sum of winning trades’ P&L before commission.' },
  { name: 'gross_loss_pre_comm', unit: 'money', better: 'higher', doc: 'Sum of losing trades’ P&L before commission.' },
  { name: 'profit_factor_pre_comm', unit: 'ratio', better: 'higher', doc: 'Profit factor before commission.' },
  { name: 'max_drawdown_money', unit: 'money', better: 'lower', doc: 'Largest drawdown in money (backtrader DrawDown max.moneydown).' },
  { name: 'max_drawdown_len', unit: 'bars', better: 'lower', doc: 'Longest drawdown, in bars.' },
  { name: 'sharpe_days_ann_rf0', unit: 'ratio', better: 'higher', doc: 'SharpeRatio(timeframe=Days, annualize=True, riskfreerate=0).' },
  { name: 'sharpe_default', unit: 'ratio', better: 'higher', doc: 'SharpeRatio() with backtrader defaults (yearly returns, risk-free 1%).' },
  { name: 'sharpe_a', unit: 'ratio', better: 'higher', doc: 'SharpeRatio_A with backtrader defaults.' },
  { name: 'returns_rtot', unit: 'fraction', better: 'higher', doc: 'Total log return (backtrader Returns rtot).' },
  { name: 'returns_ravg', unit: 'fraction', better: 'higher', doc: 'Average log return per bar (Returns ravg).' },
  { name: 'returns_rnorm', unit: 'fraction', better: 'higher', doc: 'Annualized return (Returns rnorm).' },
  { name: 'returns_rnorm100', unit: 'percent', better: 'higher', doc: 'Annualized return in percent (Returns rnorm100).' },
  { name: 'sqn_trades', unit: 'count', better: 'neither', doc: 'Trades counted by the SQN analyzer.' },
  { name: 'rejected_orders', unit: 'count', better: 'lower', doc: 'Orders the broker rejected for lack of cash.' },
  { name: 'bars', unit: 'bars', better: 'neither', doc: 'Bars in the backtest range.' },
  { name: 'trades_long', unit: 'count', better: 'neither', doc: 'Closed long trades.' },
  { name: 'trades_short', unit: 'count', better: 'neither', doc: 'Closed short trades (direction short or both).' },
];

/** Looks a metric up by name (friendly or golden-file). */
export function findMetric(name: string): MetricInfo | undefined {
  return METRICS.find((m) => m.name === name);
}
