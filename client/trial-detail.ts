/**
 * Open Trial: re-runs one trial with `optstudy backtest … --json` (the CLI, in a child process:
 * the client never imports the engine) and turns its output into the panel's TrialDetail.
 * Pure argument building and parsing here; the spawning lives in cli-runner.ts.
 */
import * as path from 'node:path';
import type { TrialDetail } from '../protocol/messages';
import type { ParamValues } from '../protocol/run-events';
import type { ScanResult, StudyInfo } from './study-scan';

export interface BacktestPlan {
  args: string[];
  /** Starting cash, to rebuild an equity curve from closed trades. */
  cash: number;
}

/**
 * The `backtest` arguments for a trial of a study: the study's data range and broker settings,
 * its strategy's overrides, the stage bests fixed before the trial's stage, then the trial's own
 * parameters (later wins). Built-in strategies only: the CLI's backtest takes no module or command.
 */
export function backtestPlan(scan: ScanResult, study: StudyInfo, studyFile: string, params: ParamValues, fixed: ParamValues = {}): BacktestPlan | { error: string } {
  const ref = study.strategy;
  if (!ref) return { error: `study "${study.name}" has no strategy statement` };
  if (ref.module || (ref.name && scan.strategies.get(ref.name)?.kind !== undefined && scan.strategies.get(ref.name)!.kind !== 'plain')) {
    return { error: 'only built-in strategies can be re-run from the panel (module and command strategies need the run host)' };
  }
  if (!study.data) return { error: `study "${study.name}" has no data statement` };
  const args = ['backtest', '--data', path.resolve(path.dirname(studyFile), study.data.path), '--strategy', ref.name ?? ''];
  if (study.data.from) args.push('--from', study.data.from);
  if (study.data.to) args.push('--to', study.data.to);
  const cash = study.cash ?? 100000;
  if (study.cash !== undefined) args.push('--cash', String(study.cash));
  if (study.commission !== undefined) args.push('--commission', study.commission);
  if (study.sizing) args.push('--sizing', `${study.sizing.kind}:${study.sizing.value}`);
  const merged: ParamValues = {};
  for (const o of ref.block?.overrides ?? []) merged[o.name] = o.value.replace(/^"(.*)"$/, '$1');
  Object.assign(merged, fixed, params);
  for (const [k, v] of Object.entries(merged)) args.push('--param', `${k}=${String(v)}`);
  args.push('--json');
  return { args, cash };
}

interface BacktestJson {
  metrics?: Record<string, number | null>;
  trades?: TrialDetail['trades'];
  equity?: { date: string; value: number }[] | { dates: string[]; values: number[] };
}

/**
 * Parses `backtest --json` output. When the backtest reports no per-bar equity, the curve is
 * rebuilt from closed trades (cash + cumulative net P&L at each exit), ending at
 * the last exit — a closed-trade equity curve (open positions are not marked), which is what
 * the trade list explains.
 */
export function parseBacktest(n: number, params: ParamValues, stdout: string, cash: number, stage?: string): TrialDetail {
  let j: BacktestJson;
  try {
    const line = stdout.trim().split('\n').filter((l) => l.trim().startsWith('{')).at(-1) ?? '';
    j = JSON.parse(line) as BacktestJson;
  } catch {
    return { n, stage, params, equity: [], trades: [], error: `the backtest printed no JSON result${stdout.trim() ? `: ${stdout.trim().slice(0, 200)}` : ''}` };
  }
  const trades = (j.trades ?? []).map((t) => ({
    entry_date: t.entry_date,
    exit_date: t.exit_date,
    entry_price: t.entry_price,
    exit_price: t.exit_price,
    size: t.size,
    pnl: t.pnl,
    pnlcomm: t.pnlcomm,
  }));
  let equity: TrialDetail['equity'] = [];
  if (Array.isArray(j.equity)) equity = j.equity;
  else if (j.equity && Array.isArray(j.equity.dates)) equity = j.equity.dates.map((d, i) => ({ date: d, value: (j.equity as { values: number[] }).values[i]! }));
  else if (trades.length) {
    let v = cash;
    equity = [{ date: trades[0]!.entry_date, value: v }];
    for (const t of trades) {
      v += t.pnlcomm;
      equity.push({ date: t.exit_date, value: v });
    }
    return { n, stage, params, metrics: j.metrics, equity, trades, equityFromTrades: true };
  }
  return { n, stage, params, metrics: j.metrics, equity, trades };
}

/** The `optstudy trial` arguments that re-run one trial of a study (the CLI resolves the study itself). */
export function trialArgs(studyFile: string, study: string | undefined, params: ParamValues): string[] {
  return ['trial', studyFile, ...(study !== undefined ? ['--study', study] : []), '--params', JSON.stringify(params), '--json'];
}

interface TrialJson {
  params?: ParamValues;
  metrics?: Record<string, number | null>;
  trades?: TrialDetail['trades'];
  equity?: { dates: string[]; values: number[] };
  benchmark?: number[];
  note?: string;
  state?: string;
  error?: string;
}

/** What the Trial card needs to know besides the CLI's answer. */
export interface TrialContext {
  n: number;
  stage?: string;
  runId?: string;
  intent?: TrialDetail['intent'];
}

/**
 * Parses `optstudy trial --json` into the panel's TrialDetail: the per-bar equity and the
 * buy-and-hold benchmark as `{date, value}` points. The detail's params are the trial's own
 * (what the ranking shows), not the full set the backtest ran with.
 */
export function parseTrial(ctx: TrialContext, params: ParamValues, stdout: string): TrialDetail {
  const base = { n: ctx.n, params, ...(ctx.stage !== undefined ? { stage: ctx.stage } : {}), ...(ctx.runId ? { runId: ctx.runId } : {}), ...(ctx.intent ? { intent: ctx.intent } : {}) };
  let j: TrialJson;
  try {
    const line = stdout.trim().split('\n').filter((l) => l.trim().startsWith('{')).at(-1) ?? '';
    j = JSON.parse(line) as TrialJson;
  } catch {
    return { ...base, equity: [], trades: [], error: `the re-run printed no JSON result${stdout.trim() ? `: ${stdout.trim().slice(0, 200)}` : ''}` };
  }
  const dates = j.equity?.dates ?? [];
  const values = j.equity?.values ?? [];
  const equity = dates.map((date, i) => ({ date, value: values[i]! }));
  const bench = j.benchmark ?? [];
  const notes = [j.note, j.state && j.state !== 'complete' ? `the re-run is ${j.state}${j.error ? `: ${j.error}` : ''}` : undefined].filter(Boolean);
  return {
    ...base,
    metrics: j.metrics,
    equity,
    ...(bench.length === dates.length && bench.length ? { benchmark: dates.map((date, i) => ({ date, value: bench[i]! })) } : {}),
    trades: j.trades ?? [],
    ...(notes.length ? { note: notes.join('; ') } : {}),
  };
}
