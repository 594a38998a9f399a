/**
 * The types of the `.optstudy` language: positions and diagnostics (LSP-shaped but free of
 * LSP types), the syntax tree (AST, with holes for half-typed input), expressions, domains and
 * the semantic model — `StudyModel`, the exact object the engine runs.
 *
 * Pure types: importing this module pulls no code into a bundle.
 */

import type { ParamSchema, ParamType, ParamValue, StrategySchema } from './builtins';

export type { ParamSchema, ParamType, ParamValue, StrategySchema };

// ---------------------------------------------------------------------------------------------
// Positions and diagnostics

/** A position in a document: 0-based line, 0-based UTF-16 character (as in the LSP). */
export interface Position {
  line: number;
  character: number;
}

/** A range in a document; `end` is exclusive (as in the LSP). */
export interface Range {
  start: Position;
  end: Position;
}

export type Severity = 'error' | 'warning' | 'information' | 'hint';

/** One finding about a document. `code` is one of `IssueCodes` (stable, kebab-case). */
export interface Diagnostic {
  severity: Severity;
  code: string;
  message: string;
  range: Range;
  /**
   * Data for a quick fix, so a code action needs not re-derive it. For "did you mean"
   * findings: `{ replacement: 'sharpe' }` (the text to put in `range`).
   */
  data?: unknown;
  /** Other places that explain this one (the first of two duplicates, …). */
  related?: { range: Range; message: string }[];
  /** Tags in the LSP sense (`unnecessary`, `deprecated`), for greyed-out or struck code. */
  tags?: ('unnecessary' | 'deprecated')[];
}

// ---------------------------------------------------------------------------------------------
// Expressions

export type BinaryOp = '+' | '-' | '*' | '/' | '^' | '<' | '<=' | '>' | '>=' | '==' | '!=' | 'and' | 'or';
export type UnaryOp = '-' | 'not';

/** Built-in functions of expressions: name → [min arity, max arity]. */
export type FunctionName = 'min' | 'max' | 'abs' | 'log' | 'exp' | 'sqrt';

/**
 * An expression as written. Every node carries its range. `error` is a hole left by a parse
 * error: it evaluates to `null` and is never reported again by the semantic checks.
 */
export type Expr =
  | { kind: 'number'; value: number; range: Range }
  | { kind: 'string'; value: string; range: Range }
  | { kind: 'bool'; value: boolean; range: Range }
  | { kind: 'name'; name: string; range: Range }
  | { kind: 'unary'; op: UnaryOp; operand: Expr; range: Range }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr; range: Range; opRange: Range }
  | { kind: 'call'; fn: string; fnRange: Range; args: Expr[]; range: Range }
  | { kind: 'error'; range: Range };

/** What a name in an expression is looked up as: a metric value or a parameter value. */
export type Lookup = (name: string) => number | string | boolean | null | undefined;

// ---------------------------------------------------------------------------------------------
// Domains

/**
 * A parameter's search domain. `range` is inclusive and stepped (`a .. b step s`);
 * `continuous` is `a .. b` (for non-grid searches); `log` is `log a .. b count n`
 * (n geometrically spaced values, both ends included).
 */
export type Domain =
  | { kind: 'list'; values: ParamValue[] }
  | { kind: 'range'; lo: number; hi: number; step: number }
  | { kind: 'continuous'; lo: number; hi: number }
  | { kind: 'log'; lo: number; hi: number; count: number };

// ---------------------------------------------------------------------------------------------
// Syntax tree (AST). Every field a user may still be typing is optional: a hole.

/** A name as written, with its range. */
export interface Ident {
  name: string;
  range: Range;
}

/** A literal as written (`10`, `0.1%`, `"x"`, `true`, `2005-01-01`, `30s`). */
export type LiteralAst =
  | { kind: 'number'; value: number; percent: boolean; text: string; range: Range }
  | { kind: 'string'; value: string; range: Range }
  | { kind: 'bool'; value: boolean; range: Range }
  | { kind: 'ident'; value: string; range: Range }
  | { kind: 'date'; value: string; range: Range }
  | { kind: 'duration'; ms: number; text: string; range: Range };

/** A number literal: `value` as written without its `%` (`0.1%` → 0.1, percent true). */
export type NumberLiteralAst = Extract<LiteralAst, { kind: 'number' }>;

/** `param NAME: TYPE = DEFAULT` inside a `strategy … command "…" { }` declaration. */
export interface ParamDeclAst {
  range: Range;
  name?: Ident;
  type?: Ident;
  default?: LiteralAst;
}

/** A top-level `strategy NAME command "…" { … }` or `strategy NAME module "…" { … }` declaration. */
export interface StrategyDeclAst {
  kind: 'strategyDecl';
  range: Range;
  name?: Ident;
  command?: { value: string; range: Range };
  module?: { value: string; range: Range };
  /** `backtrader "file.py:NAME"`: a cerebro factory or a bt.Strategy subclass. */
  backtrader?: { value: string; range: Range };
  params: ParamDeclAst[];
}

/** `key value` inside `search METHOD { … }`, `early_stop { … }`, `validate walkforward { … }`, `data "…" { … }`. */
export interface OptionAst {
  key: Ident;
  /** Absent for a bare flag (`anchored`, `shuffle`): it means `true`. */
  value?: LiteralAst;
  /** A nested block instead of a value (`columns { date "Datum", close "Schluss" }`). */
  block?: OptionAst[];
  range: Range;
}

export interface DomainAst {
  range: Range;
  /** Best-effort domain; `undefined` when the domain is incomplete. */
  domain?: Domain;
  /** The list items as written (for per-item checks). */
  items?: LiteralAst[];
  lo?: NumberLiteralAst;
  hi?: NumberLiteralAst;
  step?: NumberLiteralAst;
  count?: NumberLiteralAst;
  isLog?: boolean;
}

export interface SpaceParamAst {
  kind: 'param';
  range: Range;
  name?: Ident;
  domain?: DomainAst;
}

export interface SearchAst {
  kind: 'search';
  range: Range;
  method?: Ident;
  options: OptionAst[];
}

export interface WhereAst {
  kind: 'where';
  range: Range;
  expr?: Expr;
}

export interface EarlyStopAst {
  kind: 'early_stop';
  range: Range;
  options: OptionAst[];
}

export interface StageAst {
  kind: 'stage';
  range: Range;
  /** The range of the `stage` keyword and name: where stage-wide findings point. */
  headRange: Range;
  name?: { value: string; range: Range };
  statements: (SearchAst | SpaceParamAst | WhereAst | EarlyStopAst)[];
}

/**
 * `data [basket] "file" | ["a", "b"] [from X] [to Y] [{ options }]`. `paths` holds every file as
 * written; `path` is the first (kept for readers of single-file studies); `list` is set when the
 * files are written in brackets.
 */
export interface DataAst {
  kind: 'data';
  range: Range;
  path?: { value: string; range: Range };
  paths: { value: string; range: Range }[];
  list?: Range;
  basket?: Range;
  from?: LiteralAst;
  to?: LiteralAst;
  options: OptionAst[];
}

/** Statements of a study. */
export type StudyStatementAst =
  | DataAst
  | { kind: 'cash'; range: Range; value?: LiteralAst }
  | {
      kind: 'commission';
      range: Range;
      value?: LiteralAst;
      /** `per share` / `per contract`: the two words. */
      per?: Ident;
      unit?: Ident;
      /** `margin 2000`, `mult 10` after `per contract`. */
      options: { key: Ident; value?: LiteralAst }[];
    }
  | { kind: 'slippage'; range: Range; value?: LiteralAst }
  | { kind: 'sizing'; range: Range; mode?: Ident; value?: LiteralAst }
  | {
      kind: 'strategy';
      range: Range;
      name?: Ident;
      module?: { value: string; range: Range };
      overrides: { name?: Ident; value?: LiteralAst; range: Range }[];
    }
  | { kind: 'objective'; range: Range; direction?: Ident; expr?: Expr }
  | { kind: 'objectives'; range: Range; items: { direction?: Ident; expr?: Expr; range: Range }[] }
  | { kind: 'constraint'; range: Range; expr?: Expr }
  | StageAst
  | { kind: 'workers'; range: Range; value?: LiteralAst }
  | { kind: 'seed'; range: Range; value?: LiteralAst }
  | { kind: 'timeout'; range: Range; value?: LiteralAst }
  | { kind: 'retries'; range: Range; value?: LiteralAst }
  | EarlyStopAst
  | { kind: 'validate'; range: Range; method?: Ident; value?: LiteralAst; options: OptionAst[] }
  | { kind: 'executor'; range: Range; type?: Ident; url?: { value: string; range: Range } }
  | { kind: 'warm_start'; range: Range; path?: { value: string; range: Range } };

export interface StudyAst {
  kind: 'study';
  range: Range;
  headRange: Range;
  name?: { value: string; range: Range };
  statements: StudyStatementAst[];
  /** False while the study's closing `}` is missing (then "missing …" findings wait). */
  complete: boolean;
}

/** A whole `.optstudy` file: strategy declarations and studies, in order. */
export interface FileAst {
  range: Range;
  items: (StrategyDeclAst | StudyAst)[];
}

// ---------------------------------------------------------------------------------------------
// Semantic model: what the engine runs

export type SearchMethod = 'grid' | 'random' | 'bayes' | 'tpe' | 'genetic' | 'cmaes';

export interface Objective {
  direction: 'maximize' | 'minimize';
  expr: Expr;
  /** The expression as written (for tables, events and hovers). */
  text: string;
  range: Range;
}

export interface EarlyStop {
  /** Stop after this many trials without an improvement. */
  patience: number;
  /** The smallest change of the score that counts as an improvement. */
  minDelta: number;
}

/** One searched parameter of a stage. */
export interface SpaceParam {
  name: string;
  type: ParamType;
  domain: Domain;
  range: Range;
}

export interface StageModel {
  name: string;
  range: Range;
  search: {
    method: SearchMethod;
    /** Options as written, validated (`trials`, `init`, `acquisition`, `zoom`, …). */
    options: Record<string, number | string | boolean>;
    /** The trial budget of a non-grid search (default `DEFAULT_TRIALS` when absent). */
    trials?: number;
  };
  params: SpaceParam[];
  /** `where` filters of the stage, all of which must hold (a grid skips the rest). */
  where: Expr[];
  earlyStop?: EarlyStop;
  /** Backtests this stage will run: feasible grid combinations, or the `trials` budget. */
  size: number;
  /** False when `size` is an estimate (a `where` too complex to count exactly). */
  sizeExact: boolean;
}

export interface StrategyModel {
  name: string;
  kind: 'builtin' | 'command' | 'module' | 'backtrader';
  /** For `command`: the command line as written (run in the study file's folder). */
  command?: string;
  /** For `backtrader`: `file.py:NAME` or `package.module:NAME` as written. */
  backtrader?: string;
  /** For `backtrader`, when the bridge described it: the user's analyzers (metrics `NAME.key…`). */
  analyzers?: string[];
  /** For `module`: the module path as written, relative to the study file. */
  module?: string;
  /** The declared parameters (empty for a module whose schema is not known). */
  schema: ParamSchema[];
  /** `strategy name { p = v }` values, which replace the defaults. */
  overrides: Record<string, ParamValue>;
}

/** One price file of a study, with how to read it (server/data `LoadOptions`). */
export interface DataFeedModel {
  path: string;
  /** `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS]`, inclusive. */
  from?: string;
  to?: string;
  /** `columns { date "Datum", close 5 }`: header name or 1-based column number per role. */
  columns?: Partial<Record<'date' | 'time' | 'open' | 'high' | 'low' | 'close' | 'volume' | 'openinterest', string | number>>;
  /** `date_format "DD.MM.YYYY"`, `epoch`, `epoch_ms`. */
  dateFormat?: string;
  /** `prices check|repair|allow` (default check). */
  prices?: 'check' | 'repair' | 'allow';
}

export type ValidateModel =
  | { kind: 'holdout'; fraction: number }
  | { kind: 'walkforward'; folds: number; train: number; anchored: boolean };

/** A study, resolved: the exact object the engine runs. */
export interface StudyModel {
  name: string;
  range: Range;
  /** The first data feed (what single-feed readers use); `datas[0]`. */
  data: DataFeedModel | null;
  /** Every data feed in order: the strategy's `ctx.datas` (data 0 first), or a basket's symbols. */
  datas: DataFeedModel[];
  /** `data basket [...]`: one single-feed backtest per symbol per trial, objectives over the basket. */
  basket: boolean;
  cash: number;
  /** A fraction of traded value per side: `0.1%` → 0.001 (0 with a per-share or per-contract commission). */
  commission: number;
  /** `commission A per share` / `commission A per contract margin M mult K`; absent for a percent commission. */
  commissionScheme?: { kind: 'per_share'; amount: number } | { kind: 'per_contract'; amount: number; margin: number; mult: number };
  /** `slippage 0.05%` (a fraction of the price) or `slippage 0.02` (a price amount); absent for none. */
  slippage?: { kind: 'percent'; rate: number } | { kind: 'fixed'; amount: number };
  /** `fixed`: shares per order; `percent`: percent of the cash at the signal bar (95 = 95%). */
  sizing: { kind: 'fixed' | 'percent'; value: number };
  strategy: StrategyModel | null;
  /** One for `objective`, several (in order) for `objectives { … }`. */
  objectives: Objective[];
  constraints: { expr: Expr; text: string; range: Range }[];
  stages: StageModel[];
  workers?: number;
  seed?: number;
  timeoutMs?: number;
  retries: number;
  earlyStop?: EarlyStop;
  validate?: ValidateModel;
  executor?: { kind: 'redis'; url: string };
  warmStart?: string;
  /** Sum of the stages' sizes. */
  total: number;
  /** False when any stage's size is an estimate. */
  totalExact: boolean;
  /** Where the paths are written (for workspace checks that point at them); `datas` as `datas`. */
  ranges: { data?: Range; datas?: Range[]; module?: Range; warmStart?: Range; validate?: Range };
  /** True when the study has an error: the engine must not run it. */
  hasErrors: boolean;
}

// ---------------------------------------------------------------------------------------------
// Analysis

/** Semantic token kinds for highlighting (the LSP semantic-token legend can map these). */
export type TokenKind =
  | 'keyword'
  | 'string'
  | 'number'
  | 'comment'
  | 'operator'
  | 'strategy'
  | 'metric'
  | 'parameter'
  | 'function'
  | 'method'
  | 'option'
  | 'variable';

export interface SemanticToken {
  range: Range;
  kind: TokenKind;
}

export interface AnalyzeOptions {
  /** The parameter schema of a `strategy module "x.ts"`, when the host can load it. */
  moduleSchemas?: (modulePath: string) => StrategySchema | undefined;
  /**
   * What a `strategy NAME backtrader "SPEC"` declares, when the host can ask Python (trusted
   * workspaces only): its parameters and analyzers, or why SPEC cannot be loaded (a wrong file
   * or class name, with "did you mean"). Undefined: unknown, the checks stay lenient.
   */
  backtraderSchemas?: (spec: string) => BacktraderDescription | undefined;
  /** A grid stage above this many combinations gets a warning (default 1,000,000). */
  gridWarningThreshold?: number;
}

/** A backtrader strategy as its bridge describes it. */
export type BacktraderDescription =
  /** `complete` false: the strategy may take parameters beyond these (a factory's `**kwargs`). */
  | { schema: StrategySchema; complete?: boolean }
  | { error: string }
  /** The bridge could not check (its Python cannot import backtrader): why, as it said. */
  | { unavailable: string };

/** Everything the language knows about one document. */
export interface DocumentAnalysis {
  ast: FileAst;
  diagnostics: Diagnostic[];
  /** One model per `study` block, in order (also for studies with errors: see `hasErrors`). */
  studies: StudyModel[];
  /** Classified tokens (keywords, metrics, parameters, …) for semantic highlighting. */
  tokens?: SemanticToken[];
  /** Strategy declarations of the file by name (`strategy x command "…" { … }`). */
  strategies: Map<string, StrategySchema & { kind: 'command' | 'module' | 'backtrader'; command?: string; module?: string; backtrader?: string; range: Range; moduleRange?: Range }>;
}
