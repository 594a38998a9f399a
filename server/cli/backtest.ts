/**
 * `optstudy backtest`: one backtest of a built-in strategy on a price file, printed as a table
 * or, with `--json`, as `{"metrics":{...},"trades":[...]}` (the CLI contract in DESIGN.md).
 */
import {
  BacktestError,
  DEFAULT_CONFIG,
  PriceDataError,
  getStrategy,
  listStrategies,
  loadPrices,
  runBacktest,
  type BacktestConfig,
  type BacktestResult,
} from '../engine/index';
import type { Command } from './main';

const HELP = `Usage: optstudy backtest --data FILE --strategy NAME [options]

One backtest with backtrader's semantics (market orders fill at the next open).

Options:
  --data FILE              daily price CSV (Date,Open,High,Low,Close[,Adj Close],Volume[,OpenInterest])
  --strategy NAME          a built-in strategy: ${'{'}NAMES}
  --param k=v              a strategy parameter (repeat for several)
  --cash N                 starting cash (default ${DEFAULT_CONFIG.cash})
  --commission C           per side: a percent with its sign (0.1%) or a fraction (0.001); default 0.1%
  --sizing fixed:N|percent:N   shares per entry, or percent of cash (default percent:95)
  --from DATE, --to DATE   inclusive date range, YYYY-MM-DD
  --json                   print {"metrics":{...},"trades":[...]}
`;

class ArgError extends Error {}

interface Parsed {
  data: string;
  strategy: string;
  params: Record<string, number | string | boolean>;
  config: BacktestConfig;
  from?: string;
  to?: string;
  json: boolean;
}

/** `0.1%` → 0.001; a bare number is a fraction. */
export function parseCommission(text: string): number {
  const t = text.trim();
  const pct = t.endsWith('%');
  const num = pct ? t.slice(0, -1).trim() : t;
  const v = Number(num);
  if (num === '' || !Number.isFinite(v) || v < 0) throw new ArgError(`--commission '${text}' is not a commission; write a percent like 0.1% or a fraction like 0.001.`);
  const f = pct ? v / 100 : v;
  if (f >= 1) throw new ArgError(`--commission '${text}' is 100% or more per side; write a percent like 0.1% or a fraction like 0.001.`);
  return f;
}

/** `fixed:10` / `percent:95`. */
export function parseSizing(text: string): BacktestConfig['sizing'] {
  const m = /^(fixed|percent):(.+)$/.exec(text.trim());
  const v = m ? Number(m[2]) : NaN;
  if (!m || !Number.isFinite(v)) throw new ArgError(`--sizing '${text}' is not a sizing; write fixed:N (shares) or percent:N (of cash), e.g. percent:95.`);
  if (m[1] === 'fixed' && !(Number.isInteger(v) && v > 0)) throw new ArgError(`--sizing '${text}': fixed sizing takes a whole number of shares > 0.`);
  if (m[1] === 'percent' && !(v > 0 && v <= 100)) throw new ArgError(`--sizing '${text}': percent sizing takes a value in (0, 100].`);
  return { kind: m[1] as 'fixed' | 'percent', value: v };
}

/** `k=v` with v a number, true/false or a string. */
function parseParam(text: string): [string, number | string | boolean] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new ArgError(`--param '${text}' is not k=v; write e.g. --param fast=10.`);
  const k = text.slice(0, eq).trim();
  const raw = text.slice(eq + 1).trim();
  if (raw === '') throw new ArgError(`--param '${text}' has no value; write e.g. --param ${k}=10.`);
  if (raw === 'true' || raw === 'false') return [k, raw === 'true'];
  const n = Number(raw);
  return [k, Number.isFinite(n) ? n : raw.replace(/^["']|["']$/g, '')];
}

function parseArgs(args: string[]): Parsed | 'help' {
  let data: string | undefined;
  let strategy: string | undefined;
  const params: Record<string, number | string | boolean> = {};
  const config: BacktestConfig = { ...DEFAULT_CONFIG, sizing: { ...DEFAULT_CONFIG.sizing } };
  let from: string | undefined;
  let to: string | undefined;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    let a = args[i]!;
    let inline: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      inline = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = args[++i];
      if (v === undefined || (v.startsWith('--') && v.length > 2)) throw new ArgError(`${a} needs a value.`);
      return v;
    };
    switch (a) {
      case '--help':
      case '-h':
        return 'help';
      case '--json':
        json = true;
        break;
      case '--data':
        data = value();
        break;
      case '--strategy':
        strategy = value();
        break;
      case '--param': {
        const [k, v] = parseParam(value());
        params[k] = v;
        break;
      }
      case '--cash': {
        const t = value();
        const v = Number(t);
        if (t.trim() === '' || !Number.isFinite(v) || v <= 0) throw new ArgError(`--cash '${t}' must be a positive number.`);
        config.cash = v;
        break;
      }
      case '--commission':
        config.commission = parseCommission(value());
        break;
      case '--sizing':
        config.sizing = parseSizing(value());
        break;
      case '--from':
        from = value();
        break;
      case '--to':
        to = value();
        break;
      default:
        throw new ArgError(`unknown option '${args[i]}'.`);
    }
  }
  if (!data) throw new ArgError('--data FILE is required.');
  if (!strategy) throw new ArgError('--strategy NAME is required.');
  return { data, strategy, params, config, from, to, json };
}

function helpText(): string {
  return HELP.replace('{NAMES}', listStrategies().map((s) => s.name).join(', '));
}

/** `optstudy backtest`. Exit 0 on success, 2 on bad arguments, data or parameters. */
export const backtestCommand: Command = async (args, io) => {
  let p: Parsed | 'help';
  try {
    p = parseArgs(args);
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
    const data = loadPrices(p.data, { from: p.from, to: p.to });
    result = runBacktest(data, def, p.params, p.config, { trades: true });
  } catch (e) {
    if (e instanceof PriceDataError || e instanceof BacktestError) {
      io.err(`optstudy backtest: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (p.json) {
    const metrics = { ...result.metrics, yearly_returns: result.yearly, first_next_date: result.first_next_date };
    io.out(JSON.stringify({ metrics, trades: result.trades, rejected: result.rejected }) + '\n');
  } else {
    io.out(formatTable(def.name, p, result));
  }
  return 0;
};

const TABLE_METRICS = [
  'final_value',
  'total_return_pct',
  'cagr_pct',
  'trades',
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

function formatTable(name: string, p: Parsed, r: BacktestResult): string {
  const params = Object.entries(p.params)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const lines = [`${name}${params ? ' ' + params : ''} on ${p.data}`, ''];
  const w = Math.max(...TABLE_METRICS.map((k) => k.length));
  for (const k of TABLE_METRICS) lines.push(`  ${k.padEnd(w)}  ${fmt(r.metrics[k])}`);
  lines.push('');
  if (r.trades.length) {
    const shown = r.trades.slice(0, 20);
    lines.push('  entry       exit        size      entry px    exit px       pnl (net)');
    for (const t of shown) {
      lines.push(
        `  ${t.entry_date}  ${t.exit_date}  ${String(t.size).padStart(8)}  ${fmt(t.entry_price).padStart(10)}  ${fmt(t.exit_price).padStart(10)}  ${t.pnlcomm.toFixed(2).padStart(12)}`,
      );
    }
    if (r.trades.length > shown.length) lines.push(`  … ${r.trades.length - shown.length} more (use --json for all)`);
  } else lines.push('  no closed trades');
  return lines.join('\n') + '\n';
}
