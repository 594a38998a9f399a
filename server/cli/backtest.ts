/**
 * `optstudy backtest`: one backtest of a built-in strategy on one or several price files,
 * printed as a table or, with `--json`, as `{"metrics":{...},"trades":[...],"fills":[...],
 * "rejected":[...]}` (the CLI contract in DESIGN.md).
 */
import { BacktestError, DEFAULT_CONFIG, PriceDataError, getStrategy, listStrategies, loadPrices, runBacktest, type BacktestResult } from '../engine/index';
import { ArgError, parseBacktestArgs, type BacktestArgs } from './backtest-args';
import type { Command } from './main';
import { backtraderBacktestCommand } from '../strategies/backtrader/backtest-command';

const HELP = `Usage: optstudy backtest --data FILE [--data FILE2 …] --strategy NAME [options]

One backtest with backtrader's semantics (market orders fill at the next open).

Options:
  --data FILE              a price file, CSV or Parquet (daily or intraday); repeat for several feeds (the first is data 0)
  --strategy NAME          a built-in strategy: ${'{'}NAMES}
  --param k=v              a strategy parameter (repeat for several); every strategy also takes
                           direction=long|short|both, stop_loss_pct, take_profit_pct, trail_pct (percent, 0 = off)
  --cash N                 starting cash (default ${DEFAULT_CONFIG.cash})
  --commission C           per side: 0.1% (or 0.001) of the traded value, 0.005/share,
                           or 2.5/contract with --margin N --mult N (futures); default 0.1%
  --slippage S             0.05% of the price, or 0.02 (a fixed price amount); default none
  --sizing fixed:N|percent:N   units per entry, or percent of the portfolio value (default percent:95)
  --from DATE, --to DATE   inclusive range, YYYY-MM-DD (whole days) or YYYY-MM-DDTHH:MM
  --json                   print {"metrics":{...},"trades":[...],"fills":[...],"rejected":[...]}

A backtrader cerebro factory or strategy class: optstudy backtest --backtrader FILE.py:NAME
(optstudy backtest --backtrader --help; docs/backtrader.md).
`;

function helpText(): string {
  return HELP.replace('{NAMES}', listStrategies().map((s) => s.name).join(', '));
}

/** `optstudy backtest`. Exit 0 on success, 2 on bad arguments, data or parameters. */
export const backtestCommand: Command = async (args, io) => {
  // A backtrader factory or class runs through its bridge (server/strategies/backtrader).
  if (args.includes('--backtrader')) return backtraderBacktestCommand(args, io);
  let p: BacktestArgs | 'help';
  try {
    p = parseBacktestArgs(args);
  } catch (e) {
    if (e instanceof ArgError) {
      io.err(`optstudy backtest: ${e.message}\n\n${helpText()}`);
      return 2;
    }
    throw e;
  }
  if (p === 'help') {
    io.out(helpText());
    return 0;
  }
  const def = getStrategy(p.strategy);
  if (!def) {
    io.err(`optstudy backtest: unknown strategy '${p.strategy}'; built-ins are ${listStrategies().map((s) => s.name).join(', ')}.\n`);
    return 2;
  }
  let result: BacktestResult;
  try {
    const feeds = p.data.map((f) => loadPrices(f, { from: p.from, to: p.to }));
    result = runBacktest(feeds, def, p.params, p.config, { trades: true });
  } catch (e) {
    if (e instanceof PriceDataError || e instanceof BacktestError) {
      io.err(`optstudy backtest: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  for (const w of result.warnings) io.err(`optstudy backtest: warning: ${w}\n`);
  if (p.json) io.out(toJson(result) + '\n');
  else io.out(formatTable(def.name, p, result));
  return 0;
};

/**
 * The JSON result in the oracle's conventions (golden/SEMANTICS.md §7): every golden metric
 * key, NaN as null, ±inf as "inf"/"-inf".
 */
function toJson(r: BacktestResult): string {
  const metrics: Record<string, unknown> = { ...r.metrics, yearly_returns: r.yearly, first_next_date: r.first_next_date };
  if (r.end_positions) metrics.end_positions = r.end_positions;
  return JSON.stringify({ metrics, trades: r.trades, fills: r.fills, rejected: r.rejected, warnings: r.warnings }, (_k, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? (Number.isNaN(v) ? null : v > 0 ? 'inf' : '-inf') : v,
  );
}

const TABLE_METRICS = [
  'final_value',
  'total_return_pct',
  'cagr_pct',
  'trades',
  'trades_long',
  'trades_short',
  'won',
  'lost',
  'win_rate_pct',
  'profit_factor',
  'max_drawdown_pct',
  'max_drawdown',
  'sharpe',
  'sortino',
  'calmar',
  'sqn',
  'exposure_pct',
  'avg_trade_pnl',
  'negative_years',
  'rejected_orders',
  'trades_open',
  'bars',
];

function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 1000 ? v.toFixed(2) : v.toPrecision(6);
}

function formatTable(name: string, p: BacktestArgs, r: BacktestResult): string {
  const params = Object.entries(p.params)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const lines = [`${name}${params ? ' ' + params : ''} on ${p.data.join(', ')}`, ''];
  const w = Math.max(...TABLE_METRICS.map((k) => k.length));
  for (const k of TABLE_METRICS) lines.push(`  ${k.padEnd(w)}  ${fmt(r.metrics[k])}`);
  lines.push('');
  if (r.trades.length) {
    const shown = r.trades.slice(0, 20);
    const dw = Math.max(10, ...shown.map((t) => t.entry_date.length));
    lines.push(`  ${'entry'.padEnd(dw)}  ${'exit'.padEnd(dw)}  side        size    entry px     exit px     pnl (net)  exit`);
    for (const t of shown) {
      const why = t.exit_reason === 'signal' && t.exit_signal ? t.exit_signal : t.exit_reason;
      lines.push(
        `  ${t.entry_date.padEnd(dw)}  ${t.exit_date.padEnd(dw)}  ${t.direction.padEnd(5)}  ${String(t.size).padStart(8)}  ${fmt(t.entry_price).padStart(10)}  ${fmt(t.exit_price).padStart(10)}  ${t.pnlcomm.toFixed(2).padStart(12)}  ${why}`,
      );
    }
    if (r.trades.length > shown.length) lines.push(`  … ${r.trades.length - shown.length} more (use --json for all)`);
  } else lines.push('  no closed trades');
  return lines.join('\n') + '\n';
}
