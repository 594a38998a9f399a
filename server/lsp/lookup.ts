/**
 * Shared look-ups of the editor features: the study, stage and strategy at a position, the
 * keywords of each block with their one-line docs, closest-name suggestions.
 */
import {
  COLUMN_ROLE_NAMES,
  DATA_OPTIONS,
  editDistance,
  findBuiltinStrategy,
  type ParamSchema,
  type Position,
  type StageModel,
  type StrategySchema,
  type StudyAst,
  type StudyModel,
} from '../../grammar/index';
import type { BlockKind, CursorContext } from './cursor-context';
import { contains, type ParsedDocument } from './document';

/** The study model whose range contains `p`. */
export function studyAt(doc: ParsedDocument, p: Position): StudyModel | undefined {
  return doc.analysis.studies.find((s) => contains(s.range, p));
}

/** The study AST whose range contains `p`. */
export function studyAstAt(doc: ParsedDocument, p: Position): StudyAst | undefined {
  return doc.analysis.ast.items.find((i): i is StudyAst => i.kind === 'study' && contains(i.range, p));
}

/** The stage model whose range contains `p`. */
export function stageAt(doc: ParsedDocument, p: Position): { study: StudyModel; stage: StageModel } | undefined {
  const study = studyAt(doc, p);
  const stage = study?.stages.find((s) => contains(s.range, p));
  return study && stage ? { study, stage } : undefined;
}

/** A strategy by name: declared in the file first (they shadow built-ins), then built-in. */
export function findStrategy(doc: ParsedDocument, name: string): (StrategySchema & { declared?: boolean }) | undefined {
  const declared = doc.analysis.strategies.get(name);
  if (declared) return { ...declared, declared: true };
  return findBuiltinStrategy(name);
}

/**
 * The parameter schema of the strategy the study around the cursor uses. The model knows it
 * when the study resolves; while the user types, the `strategy NAME` statement's tokens do.
 */
export function strategyParamsAt(doc: ParsedDocument, ctx: CursorContext, p: Position): { name?: string; params: readonly ParamSchema[] } {
  const model = studyAt(doc, p);
  if (model?.strategy && model.strategy.schema.length > 0) return { name: model.strategy.name, params: model.strategy.schema };
  if (ctx.studyOpen < 0) return { params: [] };
  // Scan the study block's direct statements for `strategy NAME`.
  const tokens = doc.tokens;
  let depth = 0;
  for (let i = ctx.studyOpen + 1; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.text === '{') depth++;
    else if (t.text === '}') {
      if (depth === 0) break;
      depth--;
    } else if (depth === 0 && t.text === 'strategy' && tokens[i + 1]?.kind === 'ident' && tokens[i + 1].text !== 'module') {
      const s = findStrategy(doc, tokens[i + 1].text);
      if (s) return { name: s.name, params: s.params };
    }
  }
  return { name: model?.strategy?.name, params: model?.strategy?.schema ?? [] };
}

/** Statement keywords per block, with one-line docs (completion and hover). */
export const BLOCK_KEYWORDS: Partial<Record<BlockKind, Record<string, string>>> = {
  top: {
    study: 'A study: data, a strategy, objectives, constraints and the stages of its parameter search.',
    strategy: 'Declares an external strategy: `strategy name command "cmd args" { param p: int = 1 }`.',
  },
  study: {
    data: 'The price file (relative to this file) and an optional date range: `data "file.txt" from 2005-01-01 to 2014-12-31`.',
    cash: 'Starting cash of every backtest.',
    commission: 'Commission per side: of traded value (`0.1%` or a fraction `0.001`), per share (`commission 0.005 per share`) or per futures contract (`commission 2.5 per contract margin 2000 mult 10`: margin held per contract, profit × mult).',
    slippage: 'Fill slippage (backtrader\'s defaults): a percent of the price (`slippage 0.05%`) or a price amount (`slippage 0.02`); buys fill higher, sells lower, never outside the bar\'s high–low range.',
    sizing: 'Order size: `sizing percent 95` (of the portfolio value) or `sizing fixed 10` (shares).',
    strategy: 'The strategy to optimize: a built-in, one declared in this file, or `strategy module "file.ts"`.',
    objective: 'What to optimize: `objective maximize <expression>` or `objective minimize <expression>`.',
    objectives: 'Several objectives (a Pareto front): `objectives { maximize sharpe  minimize max_drawdown_pct }`.',
    constraint: 'A condition a trial must meet to count: `constraint trades >= 20`.',
    stage: 'A stage of the search: its parameters, search method and `where` filters. Stages run in order; each fixes its best parameters for the next.',
    workers: 'Worker threads for the run.',
    seed: 'Random seed: the same seed gives the same trials whatever the worker count.',
    timeout: 'Per-trial time limit (`30s`); a trial over it fails and its worker is replaced.',
    retries: 'How often a failed trial is tried again.',
    early_stop: 'Stop a stage when the score stops improving: `early_stop { patience 30, min_delta 0.001 }`.',
    validate: 'Out-of-sample validation: `validate holdout 30%` or `validate walkforward { folds 5, train 70%, anchored }`.',
    executor: 'Run trials on distributed workers: `executor redis "redis://host:6379"`.',
    warm_start: 'Start from the trials of an earlier run: `warm_start "path/to/run"`.',
  },
  stage: {
    search: 'The search method of the stage (`grid` when absent): grid, random, bayes, tpe, genetic, cmaes.',
    param: 'A searched parameter and its domain: `[a, b]`, `a .. b step s`, `a .. b`, `log a .. b count n`.',
    where: 'A filter on parameter combinations: `where fast < slow` (a grid skips the rest).',
    early_stop: 'Stop this stage when the score stops improving: `early_stop { patience 30, min_delta 0.001 }`.',
  },
  'strategy-decl': {
    param: 'A parameter of the external strategy: `param name: int = 10` (types: int, float, string, bool).',
  },
  objectives: {
    maximize: 'Higher is better.',
    minimize: 'Lower is better.',
  },
};

/** Options of the non-search option blocks (`early_stop { … }`, `validate walkforward { … }`). */
export const OPTION_BLOCKS: Record<string, Record<string, string>> = {
  // `data "…" { … }` and its `columns { … }` (grammar/data-statement.ts).
  data: Object.fromEntries(Object.entries(DATA_OPTIONS).map(([k, o]) => [k, o.doc])),
  columns: Object.fromEntries(COLUMN_ROLE_NAMES.map((r) => [r, `The header name (in quotes) or the column number (from 1) of the ${r === 'openinterest' ? 'open interest' : r} column.`])),
  early_stop: {
    patience: 'Stop after this many trials without an improvement of the score.',
    min_delta: 'The smallest change of the score that counts as an improvement.',
  },
  walkforward: {
    folds: 'Number of walk-forward windows.',
    train: 'Share of each window used for optimizing (`70%`); the rest judges the chosen parameters.',
    anchored: 'Every training window starts at the first bar (expanding windows).',
  },
};

/** The values an option of those blocks takes, offered after its key (`prices repair`). */
export const OPTION_VALUES: Record<string, Record<string, readonly string[]>> = {
  data: Object.fromEntries(Object.entries(DATA_OPTIONS).flatMap(([k, o]) => (o.values ? [[k, o.values]] : []))),
};

/** Other words with a fixed meaning, for hover. */
export const WORD_DOCS: Record<string, string> = {
  in: 'Introduces the parameter’s domain.',
  step: 'The step of an inclusive range: `5 .. 50 step 5` is 5, 10, …, 50.',
  count: 'How many geometrically spaced values a `log` range has.',
  log: 'A log range: `log 0.001 .. 1 count 4` is 0.001, 0.01, 0.1, 1.',
  from: 'First date of the backtest (inclusive).',
  to: 'Last date of the backtest (inclusive).',
  command: 'The command line of an external strategy process (run in the study file’s folder, speaking JSON lines).',
  module: 'A TypeScript or JavaScript strategy module, relative to this file.',
  maximize: 'Higher is better.',
  minimize: 'Lower is better.',
  and: 'Both conditions hold.',
  or: 'Either condition holds.',
  not: 'The condition does not hold.',
  percent: 'Each order uses this percent of the portfolio value.',
  fixed: 'Each order is this many shares.',
  holdout: 'Keep the last part of the data out of the optimization and report the best trial on it.',
  redis: 'Distribute the trials through a Redis queue to `optstudy worker` processes.',
  walkforward: 'Walk-forward validation: optimize on a training window, judge the chosen parameters on the unseen window after it, and roll on (`folds`, `train`, `anchored`).',
  true: 'Boolean true (a bare option name means `true` too).',
  false: 'Boolean false.',
  int: 'A whole-number parameter.',
  float: 'A number parameter.',
  string: 'A text parameter.',
  bool: 'A `true`/`false` parameter.',
};

/** The value types of a declared parameter. */
export const PARAM_TYPES: Record<string, string> = {
  int: 'A whole number.',
  float: 'A number.',
  string: 'A text value.',
  bool: '`true` or `false`.',
};

/** The candidate closest to `name`, when it is close enough to be a plausible typo. */
export function closestMatch(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const lower = name.toLowerCase();
  for (const c of candidates) {
    // No candidate is longer than ~30 characters: a bound of a third of both lengths.
    const bound = Math.max(1, Math.floor(Math.max(name.length, c.length) / 3));
    const d = editDistance(lower, c.toLowerCase(), bound);
    if (d <= bound && d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}

/** `1600` → `1,600`. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '∞';
  return Math.round(n).toLocaleString('en-US');
}

/** A duration in seconds, short: `12 s`, `3 min`, `2.5 h`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 1) return '< 1 s';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  const h = seconds / 3600;
  return `${h < 10 ? h.toFixed(1) : Math.round(h)} h`;
}
