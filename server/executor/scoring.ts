/**
 * Scoring a trial's metrics against the study's constraints and objectives. It runs where the
 * backtest runs (the pool's workers get the run's `ScoringSpec` in their payload, so the main
 * thread receives trials already scored), and on the run's main thread for executors that
 * return plain metrics (external command strategies) and for warm starts and reports.
 */
// The expression module alone: the grammar's index would bring the parser (chevrotain) into
// every pool worker, whose start it slowed by building the lexer.
import { compileExpr, exprNames, type BasketLookup } from '../../grammar/expr';
import type { Expr, Lookup } from '../../grammar/model';
import type { Metrics, ParamValues, Score, TrialState, TrialSymbol } from '../../protocol/run-events';

/** The study's objectives and constraints as plain data (expression trees): it travels with the task payload. */
export interface ScoringSpec {
  objectives: { direction: 'maximize' | 'minimize'; text: string; expr: Expr }[];
  constraints: { text: string; expr: Expr }[];
}

/** A compiled scoring spec. */
export interface Scorer {
  objectives: { direction: 'maximize' | 'minimize'; text: string; names: string[]; fn: (l: Lookup) => number | boolean | null }[];
  constraints: { text: string; names: string[]; fn: (l: Lookup) => number | boolean | null }[];
}

export function compileScoring(spec: ScoringSpec): Scorer {
  return {
    objectives: spec.objectives.map((o) => ({ direction: o.direction, text: o.text, names: exprNames(o.expr), fn: compileExpr(o.expr) })),
    constraints: spec.constraints.map((c) => ({ text: c.text, names: exprNames(c.expr), fn: compileExpr(c.expr) })),
  };
}

/** The scored result of one trial's metrics. */
export interface Scored {
  state: TrialState;
  score: Score | null;
  error?: string;
  /** Minimized losses for the samplers (null unless complete). */
  loss: number[] | null;
}

/**
 * Scores a trial: constraints first (a trial that breaks one is infeasible, with the reason
 * and the values involved), then the objectives. An objective that cannot be computed (an
 * undefined metric such as profit_factor without a losing trade, a division by zero) makes
 * the trial infeasible with the names that were undefined — never a NaN score.
 */
export function scoreTrial(scorer: Pick<Scorer, 'objectives' | 'constraints'>, params: ParamValues, metrics: Metrics, symbols?: readonly TrialSymbol[]): Scored {
  let lookup: BasketLookup;
  if (symbols) {
    lookup = (n) => (n in metrics ? metrics[n] : params[n]);
    // A basket trial: one-argument mean/median/min/max read each symbol's metrics.
    lookup.symbols = symbols.map((s): Lookup => (n) => (n in s.metrics ? s.metrics[n] : params[n]));
  } else {
    // One lookup for every trial (a pool worker scores tens of thousands): it reads these two.
    current.metrics = metrics;
    current.params = params;
    lookup = currentLookup;
  }
  try {
    return score(scorer, lookup);
  } finally {
    current.metrics = NONE;
    current.params = NONE;
  }
}

const NONE: Record<string, never> = {};
const current: { metrics: Metrics; params: ParamValues } = { metrics: NONE, params: NONE };
const currentLookup: BasketLookup = (n) => (n in current.metrics ? current.metrics[n] : current.params[n]);

function score(scorer: Pick<Scorer, 'objectives' | 'constraints'>, lookup: BasketLookup): Scored {
  for (const c of scorer.constraints) {
    const v = c.fn(lookup);
    if (v === true || (typeof v === 'number' && v !== 0)) continue;
    const why = v === null ? 'cannot be evaluated' : 'does not hold';
    return { state: 'infeasible', score: null, loss: null, error: `constraint '${c.text}' ${why} (${describe(lookup, c.names)})` };
  }
  // Sized arrays: pushing onto [] allocated a 17-slot backing store per trial.
  const n = scorer.objectives.length;
  const values = new Array<number>(n);
  const loss = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const o = scorer.objectives[i]!;
    const v = o.fn(lookup);
    if (typeof v !== 'number' || !Number.isFinite(v))
      return { state: 'infeasible', score: null, loss: null, error: `objective '${o.text}' is undefined for this trial (${describe(lookup, o.names)})` };
    values[i] = v;
    loss[i] = o.direction === 'maximize' ? -v : v;
  }
  return { state: 'complete', score: n === 1 ? values[0]! : values, loss };
}

/** `name = value, …` for an infeasible trial's reason. */
function describe(lookup: Lookup, names: string[]): string {
  return names
    .map((n) => {
      const v = lookup(n) ?? (METRIC_KEYS[n] !== undefined ? lookup(METRIC_KEYS[n]!) : undefined);
      return `${n} = ${v === null || v === undefined ? 'undefined' : typeof v === 'number' ? fmt(v) : String(v)}`;
    })
    .join(', ');
}

const METRIC_KEYS: Record<string, string> = { trades: 'trades_closed', max_drawdown: 'max_drawdown_money', sharpe: 'sharpe_days_ann_rf0' };

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toPrecision(4);
}
