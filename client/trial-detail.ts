/**
 * Open Trial: re-runs one trial with `optstudy trial … --json` (the CLI, in a child process: the
 * client never imports the engine; the CLI resolves the study as a run does) and turns its
 * output into the panel's TrialDetail. Pure argument building and parsing here; the spawning
 * and the cache live in trial-opener.ts.
 */
import type { SymbolMetrics, TrialDetail } from '../protocol/messages';
import type { ParamValues } from '../protocol/run-events';

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
  /** A basket study: each symbol's metrics and equity. */
  symbols?: SymbolMetrics[];
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
    ...(Array.isArray(j.symbols) && j.symbols.length ? { symbols: j.symbols } : {}),
    ...(notes.length ? { note: notes.join('; ') } : {}),
  };
}
