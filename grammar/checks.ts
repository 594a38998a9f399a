/**
 * Semantic checks: AST → `StudyModel`s and diagnostics. Every finding has a stable code
 * (`IssueCodes`), a range on the offending token and, for typos, `data.replacement` so a
 * quick fix can apply the suggestion without re-deriving it. Holes left by parse errors are
 * skipped silently: the parse error already explains them.
 */

import { BUILTIN_STRATEGIES, findBuiltinStrategy, withCommonParams } from './builtins';
import { applyCommission, applySlippage, checkExternalCosts } from './costs';
import { MAX_LISTED_VALUES, decimalsOf, domainSize, domainValues, rangeCount, rangeValue, stepDivides } from './domain';
import { EXPR_FUNCTIONS, evaluateExpr, exprNames } from './expr';
import { gridSize, type CountedGridParam } from './grid-size';
import { IssueCodes } from './issue-codes';
import { checkAggregates, checkFeeds, dataFeeds } from './data-statement';
import { METRICS, findMetric } from './metrics';
import type {
  DataAst,
  AnalyzeOptions,
  Diagnostic,
  DocumentAnalysis,
  Domain,
  DomainAst,
  EarlyStop,
  Expr,
  FileAst,
  LiteralAst,
  Objective,
  OptionAst,
  ParamSchema,
  ParamType,
  ParamValue,
  Range,
  SearchMethod,
  Severity,
  SpaceParam,
  StageAst,
  StageModel,
  StrategyDeclAst,
  StrategyModel,
  StrategySchema,
  StudyAst,
  StudyModel,
  StudyStatementAst,
  TokenKind,
  ValidateModel,
} from './model';
import { DEFAULT_TRIALS, SEARCH_METHODS, findSearchMethod, type SearchOptionInfo } from './search-methods';
import { closest, SuggestionWork } from './suggest';
import type { LineIndex } from './positions';

/** Grid size above which a stage gets a warning. */
export const DEFAULT_GRID_WARNING_THRESHOLD = 1_000_000;

const PARAM_TYPES: readonly ParamType[] = ['int', 'float', 'string', 'bool'];
const METRIC_NAMES = METRICS.map((m) => m.name);
const BUILTIN_STRATEGY_NAMES = BUILTIN_STRATEGIES.flatMap((s) => [s.name, ...(s.aliases ?? [])]);

type DeclaredStrategy = (DocumentAnalysis['strategies'] extends Map<string, infer V> ? V : never) & {
  /** A backtrader strategy the host described (its parameters are all known). */
  described?: boolean;
};

/** Formats a count for messages: `1234567` → `1,234,567`. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  return Math.round(n).toLocaleString('en-US');
}

/**
 * The key of a token's start in `classes`: one number while that is exact, so the
 * semantic-token pass over every token builds no strings. Usual positions give a small
 * integer (line · 2^16 + character < 2^30, no heap number); others 2^30 + line · 2^32 + character.
 */
export function positionKey(line: number, character: number): number | string {
  if (line < 16_384 && character < 65_536) return line * 65_536 + character;
  return line < 2_097_151 && character < 4_294_967_296 ? 1_073_741_824 + line * 4_294_967_296 + character : `${line}:${character}`;
}

function rangeKey(r: Range): number | string {
  return positionKey(r.start.line, r.start.character);
}

function copyRange(r: Range): Range {
  return { start: { ...r.start }, end: { ...r.end } };
}

/** A user-written name as shown in a message: long ones are clipped (the range shows it whole). */
export function shown(name: string): string {
  return name.length > 60 ? `${name.slice(0, 57)}…` : name;
}

function quote(s: string): string {
  return `'${s}'`;
}

function literalText(l: LiteralAst): string {
  switch (l.kind) {
    case 'number':
      return l.text;
    case 'string':
      return JSON.stringify(l.value);
    case 'duration':
      return l.text;
    default:
      return String(l.value);
  }
}

function describeLiteral(l: LiteralAst): string {
  switch (l.kind) {
    case 'number':
      return `the number ${l.text}`;
    case 'string':
      return `the string ${JSON.stringify(l.value)}`;
    case 'bool':
      return `the boolean ${String(l.value)}`;
    case 'ident':
      return `the name '${l.value}'`;
    case 'date':
      return `the date ${l.value}`;
    case 'duration':
      return `the duration ${l.text}`;
  }
}

/** A literal as a parameter value of the given type, or an explanation of why it is not one. */
function literalAsParam(l: LiteralAst, type: ParamType): { value: ParamValue } | { error: string } {
  switch (type) {
    case 'int':
      if (l.kind === 'number' && !l.percent && Number.isInteger(l.value)) return { value: l.value };
      return { error: `expects a whole number, not ${describeLiteral(l)}` };
    case 'float':
      if (l.kind === 'number') return { value: l.percent ? l.value / 100 : l.value };
      return { error: `expects a number, not ${describeLiteral(l)}` };
    case 'string':
      if (l.kind === 'string') return { value: l.value };
      if (l.kind === 'ident') return { value: l.value };
      return { error: `expects a string, not ${describeLiteral(l)}` };
    case 'bool':
      if (l.kind === 'bool') return { value: l.value };
      return { error: `expects true or false, not ${describeLiteral(l)}` };
  }
}

/** True when `YYYY-MM-DD` names a real calendar day. */
export function isValidDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1) return false;
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  return d <= days;
}

type ExprType = 'number' | 'bool' | 'string' | 'unknown';

/** An identifier's semantic kind at a range (later entries win for the same start). */
export type TokenClass = [Range, TokenKind];

/**
 * Everything a stage's own checks give: its model, its findings and token classes, and the
 * parameters it searches (for the study-wide "searched in several stages" check). Depends only
 * on the stage's text and on its study's strategy (`stageContextKey`), so it can be kept.
 * Its positions must be the stage syntax tree's own objects, never new ones (grammar/
 * incremental.ts moves a kept stage by moving the positions its parse made).
 */
export interface StageCheck {
  stage: StageModel;
  diagnostics: Diagnostic[];
  classes: TokenClass[];
  searched: { name: string; range: Range }[];
}

/**
 * Where grammar/incremental.ts keeps stage checks between analyses: `compute` runs the checks,
 * `context` names everything outside the stage's text they depend on.
 */
export type StageCache = (st: StageAst, context: string, compute: () => StageCheck) => StageCheck;

class Checker {
  diagnostics: Diagnostic[] = [];
  /** Identifier classifications for semantic tokens, in the order made. */
  classList: TokenClass[] = [];
  readonly declared: Map<string, DeclaredStrategy>;
  private readonly gridThreshold: number;
  /** The module path range of the declared strategy the current study uses. */
  private currentModuleRange: Range | undefined;
  /** The stage context key of the study being checked. */
  private contextOf: { study: StudyModel; key: string } | undefined;
  /** What this run's "did you mean"s may still spend (user-sized candidate lists). */
  private readonly suggestions = new SuggestionWork();

  constructor(
    private readonly options: AnalyzeOptions,
    private readonly lines?: LineIndex,
    private readonly stageCache?: StageCache,
    declared?: Map<string, DeclaredStrategy>,
  ) {
    this.gridThreshold = options.gridWarningThreshold ?? DEFAULT_GRID_WARNING_THRESHOLD;
    this.declared = declared ?? new Map();
  }

  report(severity: Severity, code: string, message: string, range: Range, extra: Partial<Diagnostic> = {}): void {
    this.diagnostics.push({ severity, code, message, range, ...extra });
  }

  classify(r: Range, kind: TokenKind): void {
    this.classList.push([r, kind]);
  }

  /** Reports an unknown name with a suggestion (and quick-fix data) when one is close. */
  unknown(code: string, what: string, name: string, range: Range, candidates: Iterable<string>, tail = ''): void {
    const guess = closest(name, candidates, this.suggestions);
    // `what` is either a kind ("metric": "unknown metric 'x'") or, with an "of", a
    // relation ("parameter of 'sma_cross'": "'x' is not a parameter of 'sma_cross'").
    const head = / of /.test(what) ? `'${shown(name)}' is not ${/^[aeiou]/.test(what) ? 'an' : 'a'} ${what}` : `unknown ${what} '${shown(name)}'`;
    const msg = head + (guess ? `: did you mean '${guess}'?` : '') + tail;
    this.report('error', code, msg, range, guess ? { data: { replacement: guess } } : {});
  }

  // -------------------------------------------------------------------------------------------
  // Strategy declarations

  declareStrategies(ast: FileAst): void {
    for (const item of ast.items) {
      if (item.kind !== 'strategyDecl' || !item.name) continue;
      this.classify(item.name.range, 'strategy');
      const name = item.name.name;
      const prev = this.declared.get(name);
      if (prev) {
        this.report('error', IssueCodes.DuplicateStrategy, `the strategy '${name}' is declared twice`, item.name.range, {
          related: [{ range: prev.range, message: `'${name}' is first declared here` }],
        });
        continue;
      }
      const params = this.paramDecls(item);
      let schemaParams: readonly ParamSchema[] = params;
      if (item.module && params.length === 0) {
        const fromModule = this.safeModuleSchema(item.module.value);
        if (fromModule) schemaParams = fromModule.params;
      }
      if (item.backtrader) {
        this.declared.set(name, this.backtraderDecl(name, item.name.range, item.backtrader, params));
        continue;
      }
      this.declared.set(name, {
        name,
        doc: item.command ? `External strategy: \`${item.command.value}\`` : `Strategy module \`${item.module?.value ?? ''}\``,
        params: schemaParams,
        kind: item.module ? 'module' : 'command',
        command: item.command?.value,
        module: item.module?.value,
        range: item.name.range,
        moduleRange: item.module?.range,
      });
    }
  }

  /**
   * `strategy NAME backtrader "SPEC" { param … }`: declared parameters first, then those the
   * bridge discovers (the factory's and the strategy class's `params`), when the host can ask
   * it. A SPEC that cannot load is an error on the string, before any trial runs.
   */
  private backtraderDecl(name: string, range: Range, spec: { value: string; range: Range }, declared: ParamSchema[]): DeclaredStrategy {
    const base: DeclaredStrategy = { name, doc: `backtrader strategy \`${spec.value}\``, params: declared, kind: 'backtrader', backtrader: spec.value, range, moduleRange: spec.range };
    if (!/^[^:]+:[A-Za-z_][A-Za-z0-9_]*$/.test(spec.value.trim())) {
      this.report('error', IssueCodes.BacktraderSpec, `'${spec.value}' is not FILE.py:NAME or package.module:NAME (NAME: a cerebro factory or a bt.Strategy subclass)`, spec.range);
      return base;
    }
    let found: ReturnType<NonNullable<AnalyzeOptions['backtraderSchemas']>>;
    try {
      found = this.options.backtraderSchemas?.(spec.value.trim());
    } catch {
      found = undefined;
    }
    if (!found) return base;
    if ('unavailable' in found) {
      this.report('warning', IssueCodes.BacktraderSpec, `${found.unavailable}: the factory and its parameters are not checked, and each trial of a run here fails`, spec.range);
      return base;
    }
    if ('error' in found) {
      this.report('error', IssueCodes.BacktraderSpec, found.error, spec.range);
      return base;
    }
    const names = new Set(declared.map((p) => p.name));
    const params = [...declared, ...found.schema.params.filter((p) => !names.has(p.name))];
    return { ...base, doc: found.schema.doc || base.doc, params, analyzers: found.schema.analyzers, described: found.complete !== false };
  }

  private safeModuleSchema(path: string): StrategySchema | undefined {
    try {
      return this.options.moduleSchemas?.(path);
    } catch {
      return undefined;
    }
  }

  private paramDecls(item: StrategyDeclAst): ParamSchema[] {
    const out: ParamSchema[] = [];
    const seen = new Map<string, Range>();
    for (const p of item.params) {
      if (!p.name) continue;
      this.classify(p.name.range, 'parameter');
      const first = seen.get(p.name.name);
      if (first) {
        this.report('error', IssueCodes.DuplicateParam, `the parameter '${p.name.name}' is declared twice`, p.name.range, {
          related: [{ range: first, message: 'first declared here' }],
        });
        continue;
      }
      seen.set(p.name.name, p.name.range);
      let type: ParamType = 'float';
      if (p.type) {
        if ((PARAM_TYPES as readonly string[]).includes(p.type.name)) type = p.type.name as ParamType;
        else this.unknown(IssueCodes.UnknownType, 'type', p.type.name, p.type.range, PARAM_TYPES, ' (types: int, float, string, bool)');
      }
      let def: ParamValue = type === 'string' ? '' : type === 'bool' ? false : 0;
      if (p.default) {
        const v = literalAsParam(p.default, type);
        if ('error' in v) this.report('error', IssueCodes.ValueTypeMismatch, `the default of '${p.name.name}' (${type}) ${v.error}`, p.default.range);
        else def = v.value;
      }
      out.push({ name: p.name.name, type, default: def, doc: `Declared in this file: \`${p.name.name}: ${type}\`.` });
    }
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // Studies

  studies(ast: FileAst): StudyModel[] {
    const out: StudyModel[] = [];
    const names = new Map<string, Range>();
    for (const item of ast.items) {
      if (item.kind !== 'study') continue;
      const model = this.study(item);
      if (item.name) {
        const first = names.get(item.name.value);
        if (first)
          this.report('error', IssueCodes.DuplicateStudy, `another study is already called "${item.name.value}"`, item.name.range, {
            related: [{ range: first, message: 'the first study with this name' }],
          });
        else names.set(item.name.value, item.name.range);
      }
      out.push(model);
    }
    return out;
  }

  /** Warns when a setting appears twice; the later one counts. */
  private once(seen: Map<string, Range>, key: string, range: Range): void {
    const first = seen.get(key);
    if (first)
      this.report('warning', IssueCodes.DuplicateSetting, `'${key}' is set more than once; the last one counts`, range, {
        related: [{ range: first, message: `the earlier '${key}'` }],
      });
    seen.set(key, range);
  }

  private numberLit(l: LiteralAst | undefined, what: string): number | undefined {
    if (!l) return undefined;
    if (l.kind !== 'number') {
      this.report('error', IssueCodes.InvalidValue, `${what} expects a number, not ${describeLiteral(l)}`, l.range);
      return undefined;
    }
    return l.value;
  }

  private intLit(l: LiteralAst | undefined, what: string, min: number): number | undefined {
    const v = this.numberLit(l, what);
    if (v === undefined || !l) return undefined;
    if (l.kind === 'number' && l.percent) {
      this.report('error', IssueCodes.InvalidValue, `${what} expects a whole number, not a percentage`, l.range);
      return undefined;
    }
    if (!Number.isInteger(v) || v < min) {
      this.report('error', IssueCodes.InvalidValue, `${what} must be a whole number of at least ${min}, not ${literalText(l)}`, l.range);
      return undefined;
    }
    return v;
  }

  /** A fraction in (0, 1) written as a percent (`30%`) or a bare fraction (`0.3`). */
  private fractionLit(l: LiteralAst | undefined, what: string): number | undefined {
    const v = this.numberLit(l, what);
    if (v === undefined || !l || l.kind !== 'number') return undefined;
    const f = l.percent ? v / 100 : v;
    if (!(f > 0 && f < 1)) {
      this.report('error', IssueCodes.InvalidValue, `${what} must be between 0% and 100% (exclusive), not ${l.text}`, l.range);
      return undefined;
    }
    return f;
  }

  private study(ast: StudyAst): StudyModel {
    const model = emptyStudy(ast);
    // The strategy first: parameter names everywhere else depend on it.
    const scan = this.studyStrategy(ast, model);
    for (const st of ast.statements) this.studySetting(st, model, scan);
    const stageAsts = ast.statements.filter((s): s is StageAst => s.kind === 'stage');
    this.studyStages(stageAsts, model, scan);
    this.studyMissing(ast, model, scan, stageAsts.length);
    this.singleObjectiveSearches(model);
    checkExternalCosts(model, { commission: scan.seen.get('commission'), slippage: scan.seen.get('slippage') }, this);
    checkFeeds(scan.dataStatements, model.datas, model.basket, model.strategy, this);
    checkAggregates([...model.objectives.map((o) => o.expr), ...model.constraints.map((c) => c.expr)], model.basket, this);
    model.total = model.stages.reduce((a, s) => a + s.size, 0);
    model.totalExact = model.stages.every((s) => s.sizeExact);
    return model;
  }

  /** The study's strategy (checked once), and the scope its parameters give every expression. */
  private studyStrategy(ast: StudyAst, model: StudyModel): StudyScan {
    let schemaKnown = true;
    let strategySeen = false;
    const seen = new Map<string, Range>();
    for (const st of ast.statements) {
      if (st.kind !== 'strategy') continue;
      this.once(seen, 'strategy', st.range);
      strategySeen = true;
      const r = this.strategy(st);
      model.strategy = r.model;
      if (st.module) model.ranges.module = st.module.range;
      // A copy: the declaration's range belongs to another part of the document (kept apart
      // by grammar/incremental.ts, which moves each part's positions on its own).
      else if (this.currentModuleRange) model.ranges.module = copyRange(this.currentModuleRange);
      this.currentModuleRange = undefined;
      schemaKnown = r.schemaKnown;
    }
    const paramTypes = new Map<string, ParamType>((model.strategy?.schema ?? []).map((p) => [p.name, p.type]));
    const exprScope: ExprScope = {
      metrics: true,
      params: paramTypes,
      paramsKnown: schemaKnown,
      context: 'objective',
      strategyUnknown: strategySeen && !model.strategy,
      analyzers: model.strategy?.kind === 'backtrader' ? (model.strategy.analyzers ?? null) : undefined,
    };
    return { seen, dataStatements: [], strategySeen, schemaKnown, paramTypes, exprScope };
  }

  /** One statement of the study's body (stages and the strategy have their own passes). */
  private studySetting(st: StudyStatementAst, model: StudyModel, scan: StudyScan): void {
    const { seen } = scan;
    switch (st.kind) {
      case 'data': {
        // Several `data` statements add feeds in order; a basket stands alone.
        scan.dataStatements.push(st);
        const feeds = dataFeeds(st, this);
        model.datas.push(...feeds);
        (model.ranges.datas ??= []).push(...st.paths.slice(0, feeds.length).map((p) => p.range));
        if (st.basket) model.basket = true;
        model.data = model.datas[0] ?? null;
        model.ranges.data = model.ranges.datas[0];
        return;
      }
      case 'objective':
      case 'objectives':
        return this.studyObjectives(st, model, scan);
      case 'constraint':
        return this.studyConstraint(st, model, scan.exprScope);
      case 'commission':
      case 'slippage':
      case 'cash':
      case 'sizing':
      case 'timeout':
      case 'executor':
        this.once(seen, st.kind, st.range);
        if (st.kind === 'commission') applyCommission(st, model, this);
        else if (st.kind === 'slippage') applySlippage(st, model, this);
        else if (st.kind === 'cash') this.cash(st, model);
        else if (st.kind === 'sizing') this.sizing(st, model);
        else if (st.kind === 'timeout') this.timeout(st, model);
        else this.executor(st, model);
        return;
      case 'workers':
      case 'seed':
      case 'retries':
        this.once(seen, st.kind, st.range);
        if (st.kind === 'workers') model.workers = this.intLit(st.value, 'workers', 1) ?? model.workers;
        else if (st.kind === 'seed') model.seed = this.intLit(st.value, 'seed', 0) ?? model.seed;
        else model.retries = this.intLit(st.value, 'retries', 0) ?? model.retries;
        return;
      case 'early_stop':
        this.once(seen, 'early_stop', st.range);
        model.earlyStop = this.earlyStop(st.options, st.range) ?? model.earlyStop;
        return;
      case 'validate':
        this.once(seen, 'validate', st.range);
        model.validate = this.validate(st) ?? model.validate;
        if (model.validate) model.ranges.validate = st.range;
        return;
      case 'warm_start':
        this.once(seen, 'warm_start', st.range);
        if (!st.path) return;
        if (st.path.value.trim() === '') this.report('error', IssueCodes.InvalidValue, 'the warm_start folder is empty', st.path.range);
        else {
          model.warmStart = st.path.value;
          model.ranges.warmStart = st.path.range;
        }
        return;
      default:
        return;
    }
  }

  private cash(st: Stmt<'cash'>, model: StudyModel): void {
    const v = this.numberLit(st.value, 'cash');
    if (v === undefined || !st.value) return;
    if (st.value.kind === 'number' && st.value.percent) {
      this.report('error', IssueCodes.InvalidValue, 'cash is an amount of money, not a percentage', st.value.range);
      return;
    }
    if (v <= 0) this.report('error', IssueCodes.NonPositiveCash, `cash must be more than 0, not ${literalText(st.value)}`, st.value.range);
    else model.cash = v;
  }

  private sizing(st: Stmt<'sizing'>, model: StudyModel): void {
    if (!st.mode) return;
    const mode = st.mode.name;
    if (mode !== 'fixed' && mode !== 'percent') {
      this.unknown(IssueCodes.InvalidSizing, 'sizing', mode, st.mode.range, ['fixed', 'percent'], " (use 'fixed N' shares or 'percent N' of the portfolio)");
      return;
    }
    const v = this.numberLit(st.value, `sizing ${mode}`);
    if (v === undefined || !st.value) return;
    if (!(v > 0)) {
      this.report('error', IssueCodes.InvalidSizing, `sizing ${mode} must be more than 0, not ${literalText(st.value)}`, st.value.range);
      return;
    }
    if (mode === 'fixed' && st.value.kind === 'number' && st.value.percent) {
      this.report('error', IssueCodes.InvalidSizing, "sizing fixed takes a number of shares; for a share of the portfolio write 'sizing percent N'", st.value.range, {
        data: { replacement: 'percent' },
      });
      return;
    }
    if (mode === 'percent' && v > 100)
      this.report('warning', IssueCodes.InvalidSizing, `sizing percent ${v} is more than the whole portfolio (orders will be rejected for lack of cash)`, st.value.range);
    model.sizing = { kind: mode, value: v };
  }

  private timeout(st: Stmt<'timeout'>, model: StudyModel): void {
    const l = st.value;
    if (!l) return;
    let ms: number | undefined;
    if (l.kind === 'duration') ms = l.ms;
    else if (l.kind === 'number' && !l.percent) ms = l.value * 1000;
    else {
      this.report('error', IssueCodes.InvalidValue, `timeout expects a duration like 30s, 500ms or 2m, not ${describeLiteral(l)}`, l.range);
      return;
    }
    if (!(ms > 0)) this.report('error', IssueCodes.InvalidValue, 'timeout must be more than 0', l.range);
    else model.timeoutMs = ms;
  }

  private executor(st: Stmt<'executor'>, model: StudyModel): void {
    if (!st.type) return;
    if (st.type.name !== 'redis') {
      this.unknown(IssueCodes.InvalidValue, 'executor', st.type.name, st.type.range, ['redis'], " (the only executor is 'redis')");
      return;
    }
    if (!st.url) return;
    if (!/^rediss?:\/\//.test(st.url.value))
      this.report('error', IssueCodes.InvalidValue, `a Redis URL starts with redis:// or rediss://, not ${JSON.stringify(st.url.value)}`, st.url.range);
    else model.executor = { kind: 'redis', url: st.url.value };
  }

  /** `objective …` or `objectives { … }`: one of them, once. */
  private studyObjectives(st: Stmt<'objective'> | Stmt<'objectives'>, model: StudyModel, scan: StudyScan): void {
    if (scan.objectiveSeen)
      this.report('error', IssueCodes.DuplicateSetting, "a study has one 'objective' (or several inside 'objectives { … }')", st.range, {
        related: [{ range: scan.objectiveSeen, message: 'the first objective' }],
      });
    scan.objectiveSeen ??= st.range;
    if (st.kind === 'objectives' && st.items.length === 0)
      this.report('error', IssueCodes.MissingObjective, "'objectives { }' is empty: add 'maximize EXPR' or 'minimize EXPR'", st.range);
    const items = st.kind === 'objective' ? [{ direction: st.direction, expr: st.expr, range: st.range }] : st.items;
    for (const it of items) {
      const o = this.objective(it.direction, it.expr, it.range, scan.exprScope);
      if (o) model.objectives.push(o);
    }
  }

  private studyConstraint(st: Stmt<'constraint'>, model: StudyModel, exprScope: ExprScope): void {
    if (!st.expr) return;
    const t = this.checkExpr(st.expr, { ...exprScope, context: 'constraint' });
    if (t !== 'bool' && t !== 'unknown')
      this.report('error', IssueCodes.ConstraintNotBoolean, `a constraint must be a condition (like 'trades >= 20'), but this is a ${t}`, st.expr.range);
    else this.constantCheck(st.expr, 'constraint');
    model.constraints.push({ expr: st.expr, text: this.text(st.expr), range: st.range });
  }

  /** The stages in order: unique names, a parameter searched again in a later stage. */
  private studyStages(stageAsts: StageAst[], model: StudyModel, scan: StudyScan): void {
    const { paramTypes, schemaKnown } = scan;
    const searchedIn = new Map<string, { stage: string; range: Range }>();
    const stageNames = new Map<string, Range>();
    for (const st of stageAsts) {
      if (st.name) {
        const first = stageNames.get(st.name.value);
        if (first)
          this.report('error', IssueCodes.DuplicateStage, `another stage of this study is already called "${st.name.value}"`, st.name.range, {
            related: [{ range: first, message: 'the first stage with this name' }],
          });
        else stageNames.set(st.name.value, st.name.range);
      }
      const check = this.checkedStage(st, model, paramTypes, schemaKnown);
      for (const p of check.searched) {
        const earlier = searchedIn.get(p.name);
        if (earlier)
          this.report(
            'warning',
            IssueCodes.ParamInSeveralStages,
            `'${shown(p.name)}' is also searched in stage "${shown(earlier.stage)}": this stage searches it again, starting from that stage's best`,
            p.range,
            { related: [{ range: earlier.range, message: `'${shown(p.name)}' in stage "${shown(earlier.stage)}"` }] },
          );
        searchedIn.set(p.name, { stage: check.stage.name, range: p.range });
      }
      model.stages.push(check.stage);
    }
  }

  /** 'bayes' and 'cmaes' optimize the first of several objectives: say so on each such stage. */
  private singleObjectiveSearches(model: StudyModel): void {
    if (model.objectives.length > 1)
      for (const s of model.stages)
        if (s.search.method === 'bayes' || s.search.method === 'cmaes')
          this.report(
            'warning',
            IssueCodes.InvalidSearchOption,
            `'${s.search.method}' optimizes one objective; with several objectives it optimizes the first one (use 'genetic' for a Pareto front)`,
            s.range,
          );
  }

  /** A complete study names its data, strategy, objective and at least one stage; a half-typed one may not have them yet. */
  private studyMissing(ast: StudyAst, model: StudyModel, scan: StudyScan, stages: number): void {
    if (!ast.complete) return;
    const head = ast.headRange;
    if (!model.data && scan.dataStatements.length === 0)
      this.report('error', IssueCodes.MissingData, "the study has no price data: add 'data \"file.txt\"'", head, { data: { insert: 'data ""' } });
    if (!scan.strategySeen) this.report('error', IssueCodes.MissingStrategy, "the study has no strategy: add 'strategy NAME' (for example 'strategy sma_cross')", head);
    if (!scan.objectiveSeen)
      this.report('error', IssueCodes.MissingObjective, "the study has no objective: add 'objective maximize EXPR' (for example 'objective maximize sharpe')", head);
    if (stages === 0) this.report('warning', IssueCodes.NoStages, "the study has no stage, so nothing is searched: add 'stage \"name\" { param … }'", head);
  }

  private strategy(st: Extract<StudyStatementAst, { kind: 'strategy' }>): { model: StrategyModel | null; schemaKnown: boolean } {
    let model: StrategyModel | null = null;
    let schemaKnown = true;
    if (st.module) {
      const fromHost = this.safeModuleSchema(st.module.value);
      schemaKnown = fromHost !== undefined;
      if (st.module.value.trim() === '') this.report('error', IssueCodes.InvalidValue, 'the module path is empty', st.module.range);
      model = {
        name: fromHost?.name ?? st.module.value.replace(/^.*[\\/]/, '').replace(/\.[cm]?[jt]s$/, ''),
        kind: 'module',
        module: st.module.value,
        schema: fromHost ? withCommonParams(fromHost.params).map((p) => ({ ...p })) : [],
        overrides: {},
      };
    } else if (st.name) {
      const name = st.name.name;
      const decl = this.declared.get(name);
      const builtin = decl ? undefined : findBuiltinStrategy(name);
      this.classify(st.name.range, 'strategy');
      if (decl) {
        if (decl.moduleRange) this.currentModuleRange = decl.moduleRange;
        schemaKnown = decl.kind === 'command' || (decl.kind === 'backtrader' ? decl.described === true : decl.params.length > 0);
        const own = decl.kind === 'module' ? withCommonParams(decl.params) : decl.params;
        model = { name, kind: decl.kind, command: decl.command, module: decl.module, schema: own.map((p) => ({ ...p })), overrides: {} };
        if (decl.kind === 'backtrader') {
          model.backtrader = decl.backtrader;
          if (decl.analyzers) model.analyzers = [...decl.analyzers];
        }
      } else if (builtin) {
        model = { name: builtin.name, kind: 'builtin', schema: builtin.params.map((p) => ({ ...p })), overrides: {} };
      } else {
        const candidates = chain(this.declared.keys(), BUILTIN_STRATEGY_NAMES);
        this.unknown(
          IssueCodes.UnknownStrategy,
          'strategy',
          name,
          st.name.range,
          candidates,
          ` (built-ins: ${BUILTIN_STRATEGIES.map((s) => s.name).join(', ')}; or declare 'strategy ${name} command "…"' above the study)`,
        );
        return { model: null, schemaKnown: false };
      }
    } else return { model: null, schemaKnown: false };

    const seen = new Map<string, Range>();
    for (const o of st.overrides) {
      if (!o.name) continue;
      const pname = o.name.name;
      this.classify(o.name.range, 'parameter');
      const first = seen.get(pname);
      if (first)
        this.report('warning', IssueCodes.DuplicateSetting, `'${pname}' is set more than once; the last one counts`, o.name.range, {
          related: [{ range: first, message: 'the earlier value' }],
        });
      seen.set(pname, o.name.range);
      const schema = schemaOf(model.schema, pname);
      if (!schema) {
        if (schemaKnown)
          this.unknown(IssueCodes.UnknownParameter, `parameter of '${model.name}'`, pname, o.name.range, namesOf(model.schema));
        else if (o.value) {
          const l = o.value;
          model.overrides[pname] = l.kind === 'number' ? (l.percent ? l.value / 100 : l.value) : l.kind === 'duration' ? l.ms : l.value;
        }
        continue;
      }
      if (!o.value) continue;
      const v = literalAsParam(o.value, schema.type);
      if ('error' in v) {
        this.report('error', IssueCodes.ValueTypeMismatch, `'${pname}' (${schema.type}) ${v.error}`, o.value.range);
        continue;
      }
      this.valueBounds(schema, v.value, o.value.range);
      model.overrides[pname] = v.value;
    }
    return { model, schemaKnown };
  }

  /** Warns about a value outside a parameter's sensible bounds or choices. */
  private valueBounds(schema: ParamSchema, v: ParamValue, range: Range): void {
    if (typeof v === 'number') {
      if (schema.min !== undefined && v < schema.min)
        this.report('warning', IssueCodes.ValueOutOfBounds, `'${schema.name}' is usually at least ${schema.min}; ${v} is below`, range);
      else if (schema.max !== undefined && v > schema.max)
        this.report('warning', IssueCodes.ValueOutOfBounds, `'${schema.name}' is usually at most ${schema.max}; ${v} is above`, range);
    } else if (typeof v === 'string' && schema.choices && !schema.choices.includes(v)) {
      const guess = closest(v, schema.choices, this.suggestions);
      this.report(
        'error',
        IssueCodes.InvalidChoice,
        `'${schema.name}' is one of ${schema.choices.map((c) => JSON.stringify(c)).join(', ')}, not ${JSON.stringify(v)}` + (guess ? `: did you mean "${guess}"?` : ''),
        range,
        guess ? { data: { replacement: JSON.stringify(guess) } } : {},
      );
    }
  }

  private objective(direction: { name: string; range: Range } | undefined, expr: Expr | undefined, range: Range, scope: ExprScope): Objective | undefined {
    if (!direction || !expr) return undefined;
    const t = this.checkExpr(expr, { ...scope, context: 'objective' });
    if (t !== 'number' && t !== 'unknown')
      this.report('error', IssueCodes.ObjectiveNotNumeric, `an objective must be a number to ${direction.name}, but this is a ${t === 'bool' ? 'condition' : t}`, expr.range);
    else this.constantCheck(expr, 'objective');
    return { direction: direction.name as 'maximize' | 'minimize', expr, text: this.text(expr), range };
  }

  private constantCheck(e: Expr, what: 'objective' | 'constraint'): void {
    if (e.kind === 'error' || exprNames(e).length > 0 || containsHole(e)) return;
    const v = evaluateExpr(e, () => undefined);
    if (what === 'objective')
      this.report('warning', IssueCodes.ConstantExpression, 'this objective is a constant: every trial gets the same score (use a metric, like sharpe)', e.range);
    else if (v === true) this.report('warning', IssueCodes.ConstantExpression, 'this constraint always holds', e.range, { tags: ['unnecessary'] });
    else this.report('error', IssueCodes.ConstantExpression, 'this constraint never holds: every trial would be infeasible', e.range);
  }

  /** The source text of an expression, rebuilt from the tree (stable across spacing). */
  text(e: Expr): string {
    if (this.lines && !containsHole(e)) {
      const src = this.lines.text.slice(this.lines.offset(e.range.start), this.lines.offset(e.range.end));
      if (src) return src.replace(/\s+/g, ' ').trim();
    }
    return exprToText(e);
  }

  // -------------------------------------------------------------------------------------------
  // Expressions

  checkExpr(e: Expr, scope: ExprScope): ExprType {
    switch (e.kind) {
      case 'number':
        return 'number';
      case 'string':
        return 'string';
      case 'bool':
        return 'bool';
      case 'error':
        return 'unknown';
      case 'name':
        return this.nameType(e.name, e.range, scope);
      case 'unary': {
        const t = this.checkExpr(e.operand, scope);
        const want: ExprType = e.op === 'not' ? 'bool' : 'number';
        if (t !== want && t !== 'unknown') {
          this.report('error', IssueCodes.TypeMismatch, `'${e.op}' needs a ${want === 'bool' ? 'condition' : 'number'}, not a ${t}: this can never be evaluated`, e.operand.range);
          return 'unknown';
        }
        return want;
      }
      case 'binary': {
        const l = this.checkExpr(e.left, scope);
        const r = this.checkExpr(e.right, scope);
        const op = e.op;
        if (op === 'and' || op === 'or') {
          for (const [t, side] of [
            [l, e.left],
            [r, e.right],
          ] as const)
            if (t !== 'bool' && t !== 'unknown')
              this.report('error', IssueCodes.TypeMismatch, `'${op}' joins conditions, but this is a ${t}: this can never be evaluated`, side.range);
          return 'bool';
        }
        if (op === '==' || op === '!=') {
          if (l !== 'unknown' && r !== 'unknown' && l !== r)
            this.report('error', IssueCodes.TypeMismatch, `'${op}' compares a ${l} with a ${r}: this can never be true`, e.range);
          return 'bool';
        }
        for (const [t, side] of [
          [l, e.left],
          [r, e.right],
        ] as const)
          if (t !== 'number' && t !== 'unknown')
            this.report('error', IssueCodes.TypeMismatch, `'${op}' needs numbers, but this is a ${t === 'bool' ? 'condition' : t}: this can never be evaluated`, side.range);
        return op === '<' || op === '<=' || op === '>' || op === '>=' ? 'bool' : 'number';
      }
      case 'call': {
        const info = EXPR_FUNCTIONS[e.fn];
        for (const a of e.args) {
          const t = this.checkExpr(a, scope);
          if (t !== 'number' && t !== 'unknown')
            this.report('error', IssueCodes.TypeMismatch, `'${e.fn}' takes numbers, but this is a ${t === 'bool' ? 'condition' : t}`, a.range);
        }
        if (!info) {
          this.unknown(IssueCodes.UnknownFunction, 'function', e.fn, e.fnRange, Object.keys(EXPR_FUNCTIONS), ` (functions: ${Object.keys(EXPR_FUNCTIONS).join(', ')})`);
          return 'unknown';
        }
        this.classify(e.fnRange, 'function');
        if (e.args.length < info.min || e.args.length > info.max) {
          const want = info.max === Infinity ? `at least ${info.min} argument${info.min === 1 ? '' : 's'}` : info.min === 1 ? 'one argument' : `${info.min} arguments`;
          this.report('error', IssueCodes.WrongArgumentCount, `'${e.fn}' takes ${want}, not ${e.args.length}: ${info.signature}`, e.range);
        }
        return 'number';
      }
    }
  }

  private nameType(name: string, range: Range, scope: ExprScope): ExprType {
    if (scope.context === 'where') {
      const t = scope.stageParams?.get(name);
      if (t) {
        this.classify(range, 'parameter');
        return t === 'int' || t === 'float' ? 'number' : t === 'bool' ? 'bool' : 'string';
      }
      const strategyType = scope.params.get(name);
      if (strategyType || (!scope.paramsKnown && !findMetric(name))) {
        if (strategyType) this.classify(range, 'parameter');
        this.report(
          'error',
          IssueCodes.WhereParamNotInStage,
          `'${name}' is not searched in this stage: a 'where' can only use the stage's own parameters (${[...(scope.stageParams?.keys() ?? [])].join(', ') || 'none'})`,
          range,
        );
        return 'unknown';
      }
      if (findMetric(name)) {
        this.classify(range, 'metric');
        this.report('error', IssueCodes.WhereParamNotInStage, `'${name}' is a metric, known only after a backtest: use it in a 'constraint', not in 'where'`, range);
        return 'unknown';
      }
      this.unknown(IssueCodes.UnknownParameter, 'parameter', name, range, scope.stageParams?.keys() ?? []);
      return 'unknown';
    }
    if (findMetric(name)) {
      this.classify(range, 'metric');
      return 'number';
    }
    if (name.includes('.')) return this.analyzerMetric(name, range, scope);
    const pt = scope.params.get(name);
    if (pt) {
      this.classify(range, 'parameter');
      return pt === 'int' || pt === 'float' ? 'number' : pt === 'bool' ? 'bool' : 'string';
    }
    if (!scope.paramsKnown) {
      // May be a parameter of a module we cannot see; with an unknown strategy (already
      // reported), still flag an obvious misspelling of a metric.
      if (scope.strategyUnknown && closest(name, METRIC_NAMES, this.suggestions)) this.unknown(IssueCodes.UnknownMetric, 'metric', name, range, METRIC_NAMES);
      return 'unknown';
    }
    this.unknown(IssueCodes.UnknownMetric, 'metric', name, range, chain(METRIC_NAMES, scope.params.keys()));
    return 'unknown';
  }

  /** `NAME.key…`: a value of a backtrader strategy's own analyzer NAME. */
  private analyzerMetric(name: string, range: Range, scope: ExprScope): ExprType {
    const head = name.slice(0, name.indexOf('.'));
    if (scope.analyzers === null || (scope.analyzers && scope.analyzers.includes(head))) {
      // Analyzers unknown (untrusted, or Python not asked): accepted; the run reports the values.
      this.classify(range, 'metric');
      return 'number';
    }
    if (scope.analyzers) {
      const list = scope.analyzers.length ? scope.analyzers.join(', ') : 'none';
      this.unknown(IssueCodes.UnknownMetric, 'analyzer', head, range, scope.analyzers, ` (the strategy's analyzers: ${list}; their values are metrics NAME.key, e.g. ta.won.total)`);
    } else if (!scope.strategyUnknown)
      this.report('error', IssueCodes.UnknownMetric, `unknown metric '${name}': dotted names are the analyzer values of a backtrader strategy ('strategy NAME backtrader "file.py:NAME"')`, range);
    return 'unknown';
  }

  // -------------------------------------------------------------------------------------------
  // Options

  private optionValue(o: OptionAst): number | string | boolean {
    const l = o.value;
    if (!l) return true;
    switch (l.kind) {
      case 'number':
        return l.percent ? l.value / 100 : l.value;
      case 'duration':
        return l.ms;
      case 'string':
      case 'ident':
      case 'date':
        return l.value;
      case 'bool':
        return l.value;
    }
  }

  private earlyStop(options: OptionAst[], range: Range): EarlyStop | undefined {
    let patience: number | undefined;
    let minDelta = 0;
    for (const o of options) {
      this.classify(o.key.range, 'option');
      if (o.key.name === 'patience') patience = this.intLit(o.value ?? missingValue(o), 'patience', 1) ?? patience;
      else if (o.key.name === 'min_delta') {
        const v = this.numberLit(o.value ?? missingValue(o), 'min_delta');
        if (v !== undefined && v < 0) this.report('error', IssueCodes.InvalidOption, 'min_delta must be 0 or more', o.value!.range);
        else if (v !== undefined && o.value?.kind === 'number') minDelta = o.value.percent ? v / 100 : v;
      } else this.unknown(IssueCodes.UnknownOption, 'early_stop option', o.key.name, o.key.range, ['patience', 'min_delta'], ' (options: patience, min_delta)');
    }
    if (patience === undefined) {
      if (!options.some((o) => o.key.name === 'patience'))
        this.report('error', IssueCodes.InvalidOption, "early_stop needs 'patience N' (trials without improvement before stopping)", range);
      return undefined;
    }
    return { patience, minDelta };
  }

  private validate(st: Extract<StudyStatementAst, { kind: 'validate' }>): ValidateModel | undefined {
    if (!st.method) return undefined;
    const m = st.method.name;
    if (m === 'holdout') {
      if (!st.value) {
        this.report('error', IssueCodes.InvalidValue, "validate holdout needs the share of data held out, like 'validate holdout 30%'", st.method.range);
        return undefined;
      }
      const f = this.fractionLit(st.value, 'validate holdout');
      return f === undefined ? undefined : { kind: 'holdout', fraction: f };
    }
    if (m === 'walkforward') {
      let folds = 5;
      let train = 0.7;
      let anchored = false;
      let ok = true;
      for (const o of st.options) {
        this.classify(o.key.range, 'option');
        if (o.key.name === 'folds') {
          const v = this.intLit(o.value ?? missingValue(o), 'folds', 2);
          if (v === undefined) ok = false;
          else folds = v;
        } else if (o.key.name === 'train') {
          const v = this.fractionLit(o.value ?? missingValue(o), 'train');
          if (v === undefined) ok = false;
          else train = v;
        } else if (o.key.name === 'anchored') {
          const v = this.optionValue(o);
          if (typeof v !== 'boolean') {
            this.report('error', IssueCodes.InvalidOption, "'anchored' is a flag: write 'anchored' or 'anchored false'", o.range);
            ok = false;
          } else anchored = v;
        } else this.unknown(IssueCodes.UnknownOption, 'walkforward option', o.key.name, o.key.range, ['folds', 'train', 'anchored'], ' (options: folds, train, anchored)');
      }
      if (st.value) this.report('error', IssueCodes.InvalidValue, "validate walkforward takes options: 'validate walkforward { folds 5, train 70%, anchored }'", st.value.range);
      return ok ? { kind: 'walkforward', folds, train, anchored } : undefined;
    }
    this.unknown(IssueCodes.InvalidValue, 'validation', m, st.method.range, ['holdout', 'walkforward'], " (use 'holdout 30%' or 'walkforward { … }')");
    return undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Stages

  /** A stage's own checks, from the stage cache when one is given and holds them. */
  private checkedStage(st: StageAst, study: StudyModel, paramTypes: Map<string, ParamType>, schemaKnown: boolean): StageCheck {
    const compute = (): StageCheck => {
      // Run with empty lists of findings and classes: what the stage adds is its own.
      const [diagnostics, classes] = [this.diagnostics, this.classList];
      this.diagnostics = [];
      this.classList = [];
      const searched: StageCheck['searched'] = [];
      try {
        const stage = this.stage(st, study, paramTypes, schemaKnown, searched);
        return { stage, diagnostics: this.diagnostics, classes: this.classList, searched };
      } finally {
        this.diagnostics = diagnostics;
        this.classList = classes;
      }
    };
    let check: StageCheck;
    if (this.stageCache) {
      // One key per study: it is the same for all its stages.
      if (this.contextOf?.study !== study) this.contextOf = { study, key: stageContextKey(study, schemaKnown, this.gridThreshold) };
      check = this.stageCache(st, this.contextOf.key, compute);
    } else check = compute();
    for (const d of check.diagnostics) this.diagnostics.push(d);
    for (const c of check.classes) this.classList.push(c);
    return check;
  }

  private stage(st: StageAst, study: StudyModel, paramTypes: Map<string, ParamType>, schemaKnown: boolean, searched: StageCheck['searched']): StageModel {
    const name = st.name?.value ?? '';
    const stage: StageModel = { name, range: st.range, search: { method: 'grid', options: {} }, params: [], where: [], size: 0, sizeExact: true };
    const searchOk = this.stageSearch(st, stage);
    // With an unknown method (reported) the stage's kind is unknown: skip grid-only checks.
    const isGrid = searchOk && stage.search.method === 'grid';
    const { domainsOk, stageParamTypes } = this.stageParams(st, stage, study, paramTypes, schemaKnown, searched, isGrid);
    const whereOk = this.stageWhere(st, stage, { metrics: false, params: paramTypes, paramsKnown: schemaKnown, context: 'where', stageParams: stageParamTypes });
    this.stageEarlyStop(st, stage);
    if (stage.params.length === 0 && domainsOk)
      this.report('warning', IssueCodes.EmptyStage, "this stage searches no parameter: add 'param NAME in DOMAIN'", st.headRange);

    // Size.
    if (!searchOk || !domainsOk) {
      // A stage with a broken search or domain cannot run: it runs no backtest.
      stage.size = 0;
    } else if (!isGrid) {
      stage.size = stage.search.trials ?? DEFAULT_TRIALS;
    } else {
      this.gridStageSize(stage, whereOk && domainsOk, st);
    }
    return stage;
  }

  /** The stage's `search` statement (the last one counts): its method and checked options. @returns false for an unknown method */
  private stageSearch(st: StageAst, stage: StageModel): boolean {
    let searchSeen: Range | undefined;
    let searchOk = true;
    for (const s of st.statements) {
      if (s.kind !== 'search') continue;
      if (searchSeen) this.report('warning', IssueCodes.DuplicateSetting, "'search' is set more than once in this stage; the last one counts", s.range, { related: [{ range: searchSeen, message: 'the earlier search' }] });
      searchSeen = s.range;
      if (!s.method) continue;
      const info = findSearchMethod(s.method.name);
      if (!info) {
        this.unknown(IssueCodes.UnknownSearchMethod, 'search method', s.method.name, s.method.range, SEARCH_METHODS.map((m) => m.name), ` (methods: ${SEARCH_METHODS.map((m) => m.name).join(', ')})`);
        searchOk = false;
        continue;
      }
      this.classify(s.method.range, 'method');
      stage.search = { method: info.name, options: {} };
      searchOk = true;
      const optRanges = new Map<string, OptionAst>();
      for (const o of s.options) {
        this.classify(o.key.range, 'option');
        const spec = info.options.find((x) => x.name === o.key.name);
        if (!spec) {
          const names = info.options.map((x) => x.name);
          this.unknown(
            IssueCodes.UnknownSearchOption,
            `option of '${info.name}'`,
            o.key.name,
            o.key.range,
            names,
            names.length ? ` (options: ${names.join(', ')})` : ` ('${info.name}' takes no options)`,
          );
          continue;
        }
        optRanges.set(spec.name, o);
        const v = this.optionValue(o);
        const bad = searchOptionError(spec, v, o);
        if (bad) {
          this.report('error', IssueCodes.InvalidSearchOption, bad.message, o.value?.range ?? o.key.range, bad.data ? { data: bad.data } : {});
          continue;
        }
        stage.search.options[spec.name] = v;
        stage.search.options[spec.name] = v;
      }
      const trials = stage.search.options['trials'];
      const init = stage.search.options['init'];
      if (typeof trials === 'number') stage.search.trials = trials;
      if (typeof trials === 'number' && typeof init === 'number' && init > trials)
        this.report('error', IssueCodes.InitExceedsTrials, `'init ${init}' random trials is more than the whole budget 'trials ${trials}'`, optRanges.get('init')!.range);
      if (info.name === 'genetic' && typeof trials === 'number' && typeof stage.search.options['population'] === 'number' && (stage.search.options['population'] as number) > trials)
        this.report('warning', IssueCodes.InvalidSearchOption, `a population of ${String(stage.search.options['population'])} is more than the 'trials ${trials}' budget: not even one generation runs`, optRanges.get('population')!.range);
      if (info.name !== 'grid' && typeof trials !== 'number') {
        stage.search.trials = DEFAULT_TRIALS;
        this.report('information', IssueCodes.DefaultTrials, `no 'trials' given: '${info.name}' runs ${DEFAULT_TRIALS} trials`, s.method.range, {
          data: { insert: `trials ${DEFAULT_TRIALS}` },
        });
      }
    }
    return searchOk;
  }

  /** The stage's `param` statements, checked against the strategy's parameters. */
  private stageParams(
    st: StageAst,
    stage: StageModel,
    study: StudyModel,
    paramTypes: Map<string, ParamType>,
    schemaKnown: boolean,
    searched: StageCheck['searched'],
    isGrid: boolean,
  ): { domainsOk: boolean; stageParamTypes: Map<string, ParamType> } {
    const seenHere = new Map<string, Range>();
    const stageParamTypes = new Map<string, ParamType>();
    let domainsOk = true;
    for (const s of st.statements) {
      if (s.kind !== 'param' || !s.name) continue;
      const pname = s.name.name;
      this.classify(s.name.range, 'parameter');
      const first = seenHere.get(pname);
      if (first) {
        this.report('error', IssueCodes.DuplicateParam, `'${pname}' is searched twice in this stage`, s.name.range, { related: [{ range: first, message: 'searched here first' }] });
        continue;
      }
      seenHere.set(pname, s.name.range);
      let type = paramTypes.get(pname);
      const schema = study.strategy ? schemaOf(study.strategy.schema, pname) : undefined;
      if (!type) {
        if (schemaKnown && study.strategy) {
          this.unknown(IssueCodes.UnknownParameter, `parameter of '${study.strategy.name}'`, pname, s.name.range, namesOf(study.strategy.schema));
          domainsOk = false;
          continue;
        }
        // No schema (the strategy itself is unknown, already reported): the domain says the type.
        type = inferType(s.domain);
      }
      stageParamTypes.set(pname, type);
      searched.push({ name: pname, range: s.name.range });
      if (!s.domain || !s.domain.domain) {
        domainsOk = false;
        continue;
      }
      const ok = this.domain(pname, type, s.domain, isGrid, schema);
      if (!ok) {
        domainsOk = false;
        continue;
      }
      stage.params.push({ name: pname, type, domain: s.domain.domain, range: s.range });
    }

    return { domainsOk, stageParamTypes };
  }

  /** The stage's `where` filters. @returns false when one has an error or a hole (the grid cannot be counted). */
  private stageWhere(st: StageAst, stage: StageModel, scope: ExprScope): boolean {
    let whereOk = true;
    for (const s of st.statements) {
      if (s.kind !== 'where' || !s.expr) continue;
      const before = this.diagnostics.length;
      const t = this.checkExpr(s.expr, scope);
      if (t !== 'bool' && t !== 'unknown')
        this.report('error', IssueCodes.WhereNotBoolean, `'where' needs a condition (like 'fast < slow'), but this is a ${t}`, s.expr.range);
      if (this.diagnostics.slice(before).some((d) => d.severity === 'error') || containsHole(s.expr)) whereOk = false;
      stage.where.push(s.expr);
    }

    return whereOk;
  }

  private stageEarlyStop(st: StageAst, stage: StageModel): void {
    let esSeen = false;
    for (const s of st.statements) {
      if (s.kind !== 'early_stop') continue;
      if (esSeen) this.report('warning', IssueCodes.DuplicateSetting, "'early_stop' is set more than once in this stage; the last one counts", s.range);
      esSeen = true;
      stage.earlyStop = this.earlyStop(s.options, s.range) ?? stage.earlyStop;
    }

  }

  private gridStageSize(stage: StageModel, filtersOk: boolean, st: StageAst): void {
    if (stage.params.some((p) => p.domain.kind === 'continuous')) {
      stage.size = 0;
      return;
    }
    if (stage.params.some((p) => domainSize(p.domain) > MAX_LISTED_VALUES)) {
      // Too many values to list: the product of the sizes, an upper bound when filtered.
      stage.size = stage.params.reduce((a, p) => a * domainSize(p.domain), 1);
      stage.sizeExact = stage.where.length === 0;
      this.report('warning', IssueCodes.GridTooLarge, `this grid has ${stage.sizeExact ? '' : 'at most '}${formatCount(stage.size)} combinations: no search can run them; use a coarser step or 'search bayes { trials N }'`, st.headRange, {
        data: { size: stage.size },
      });
      return;
    }
    // Values are listed only for the parameters a `where` names: the others count by size
    // (a 5-million value range would otherwise be listed on every keystroke).
    const lists: CountedGridParam[] = stage.params.map((p) => {
      let listedValues: ParamValue[] | undefined;
      const values = () => (listedValues ??= domainValues(p.domain, p.type) ?? []);
      // Integer log ranges drop values that round alike: only the list knows their count.
      const count = p.domain.kind === 'log' && p.type === 'int' ? values().length : domainSize(p.domain);
      return { name: p.name, count, values };
    });
    const zoom = typeof stage.search.options['zoom'] === 'number' ? (stage.search.options['zoom'] as number) : 1;
    const where = filtersOk ? stage.where : [];
    if (zoom > 1) {
      // Coarse pass: every zoom-th value (and the last); fine pass: ±zoom steps around the best.
      const coarse = lists.map((l): CountedGridParam => {
        const values = () => {
          const all = l.values();
          return all.filter((_, i) => i % zoom === 0 || i === all.length - 1);
        };
        // Indexes 0, zoom, 2·zoom, … and the last one.
        const count = !Number.isInteger(zoom) ? values().length : l.count === 0 ? 0 : Math.ceil(l.count / zoom) + ((l.count - 1) % zoom === 0 ? 0 : 1);
        return { name: l.name, count, values };
      });
      const c = gridSize(coarse, where);
      const fine = lists.reduce((a, l) => a * Math.min(l.count, 2 * zoom + 1), 1);
      stage.size = c.size + fine;
      stage.sizeExact = false;
    } else {
      const g = gridSize(lists, where);
      stage.size = g.size;
      stage.sizeExact = g.exact && filtersOk;
    }
    if (stage.params.length > 0 && stage.size === 0 && filtersOk)
      this.report('warning', IssueCodes.EmptyGrid, "no combination passes this stage's 'where': the stage runs no backtest", st.headRange);
    else if (stage.size > this.gridThreshold)
      this.report(
        'warning',
        IssueCodes.GridTooLarge,
        `this grid has ${stage.sizeExact ? '' : 'about '}${formatCount(stage.size)} combinations (more than ${formatCount(this.gridThreshold)}): consider 'search bayes { trials N }' or coarser steps`,
        st.headRange,
        { data: { size: stage.size } },
      );
    else if (!stage.sizeExact && zoom <= 1 && filtersOk)
      this.report('information', IssueCodes.SizeEstimated, `about ${formatCount(stage.size)} combinations (estimated: the 'where' is too complex to count exactly)`, st.headRange);
  }

  /** Checks one domain against its parameter's type; false when the domain cannot be used. */
  private domain(pname: string, type: ParamType, d: DomainAst, isGrid: boolean, schema: ParamSchema | undefined): boolean {
    const dom = d.domain!;
    if (dom.kind === 'list') return this.listDomain(pname, type, d, dom, schema);
    if (type !== 'int' && type !== 'float') {
      this.report('error', IssueCodes.DomainTypeMismatch, `'${pname}' is a ${type}: give its values as a list, like [${type === 'bool' ? 'true, false' : '"a", "b"'}]`, d.range);
      return false;
    }
    for (const l of [d.lo, d.hi, d.step]) if (l?.percent) {
      this.report('error', IssueCodes.DomainTypeMismatch, 'a range takes plain numbers, not percentages', l.range);
      return false;
    }
    if (dom.kind === 'log') return this.logDomain(pname, type, d, dom, schema);
    return this.rangeDomain(pname, type, d, dom, isGrid, schema);
  }

  /** `[a, b, …]`: every value of the parameter's type, none twice. */
  private listDomain(pname: string, type: ParamType, d: DomainAst, dom: Extract<Domain, { kind: 'list' }>, schema: ParamSchema | undefined): boolean {
    if (dom.values.length === 0) {
      this.report('error', IssueCodes.EmptyDomain, `the list of values of '${pname}' is empty`, d.range);
      return false;
    }
    let ok = true;
    const seen = new Set<ParamValue>();
    for (const it of d.items ?? []) {
      const v = literalAsParam(it, type);
      if ('error' in v) {
        this.report('error', IssueCodes.DomainTypeMismatch, `'${pname}' (${type}) ${v.error}`, it.range);
        ok = false;
        continue;
      }
      if (seen.has(v.value)) this.report('warning', IssueCodes.DuplicateParam, `${literalText(it)} is listed twice`, it.range);
      seen.add(v.value);
      if (schema) this.valueBounds(schema, v.value, it.range);
    }
    if (ok) {
      // Normalize the list to the parameter's type (`"x"` and bare `x` are both strings).
      dom.values = (d.items ?? []).map((it) => (literalAsParam(it, type) as { value: ParamValue }).value);
    }
    return ok;
  }

  /** `log lo .. hi count n`: positive ordered bounds, a whole count of at least 2. */
  private logDomain(pname: string, type: ParamType, d: DomainAst, dom: Extract<Domain, { kind: 'log' }>, schema: ParamSchema | undefined): boolean {
    let ok = true;
    if (!(dom.lo > 0) || !(dom.hi > 0)) {
      this.report('error', IssueCodes.NonPositiveLogBound, `a log range needs bounds above 0 (log 0 is undefined), not ${d.lo?.text} .. ${d.hi?.text}`, d.range);
      ok = false;
    } else if (dom.lo > dom.hi) {
      this.report('error', IssueCodes.ReversedRange, `the range is reversed: ${d.lo?.text} is above ${d.hi?.text}`, d.range, {
        data: { replacement: `log ${d.hi?.text} .. ${d.lo?.text} count ${d.count?.text}` },
      });
      ok = false;
    }
    if (!Number.isInteger(dom.count) || dom.count < 2) {
      this.report('error', IssueCodes.InvalidLogCount, `'count' is the number of values, a whole number of at least 2, not ${d.count?.text}`, d.count?.range ?? d.range);
      ok = false;
    }
    if (ok && type === 'int') {
      const n = (domainValues(dom, 'int') ?? []).length;
      if (n < dom.count)
        this.report('warning', IssueCodes.DomainTypeMismatch, `'${pname}' is an int: rounding leaves ${n} distinct values of the ${dom.count} asked`, d.range);
    }
    if (ok && schema) {
      this.valueBounds(schema, dom.lo, d.lo!.range);
      this.valueBounds(schema, dom.hi, d.hi!.range);
    }
    return ok;
  }

  /** `lo .. hi` (continuous) or `lo .. hi step s`: ordered bounds, whole numbers for an int, a step that is positive and reaches hi. */
  private rangeDomain(pname: string, type: ParamType, d: DomainAst, dom: Extract<Domain, { kind: 'range' | 'continuous' }>, isGrid: boolean, schema: ParamSchema | undefined): boolean {
    if (dom.lo > dom.hi) {
      const stepText = dom.kind === 'range' ? ` step ${d.step?.text}` : '';
      this.report('error', IssueCodes.ReversedRange, `the range is reversed: ${d.lo?.text} is above ${d.hi?.text}`, { start: d.lo!.range.start, end: d.hi!.range.end }, {
        data: { replacement: `${d.hi?.text} .. ${d.lo?.text}`, full: `${d.hi?.text} .. ${d.lo?.text}${stepText}` },
      });
      return false;
    }
    if (type === 'int')
      for (const l of [d.lo, d.hi, d.step])
        if (l && !Number.isInteger(l.value)) {
          this.report('error', IssueCodes.DomainTypeMismatch, `'${pname}' is an int, but ${l.text} is not a whole number`, l.range);
          return false;
        }
    if (schema) {
      this.valueBounds(schema, dom.lo, d.lo!.range);
      this.valueBounds(schema, dom.hi, d.hi!.range);
    }
    if (dom.kind === 'continuous') {
      if (isGrid) {
        const suggested = suggestStep(dom.lo, dom.hi, type);
        this.report(
          'error',
          IssueCodes.ContinuousInGrid,
          `a grid needs a finite set of values: add a step, like '${d.lo?.text} .. ${d.hi?.text} step ${suggested}', or search this stage with bayes, tpe, random, genetic or cmaes`,
          d.range,
          { data: { insert: ` step ${suggested}`, at: d.range.end } },
        );
        return false;
      }
      return true;
    }
    if (!(dom.step > 0)) {
      this.report('error', IssueCodes.NonPositiveStep, `the step must be more than 0, not ${d.step?.text}`, d.step?.range ?? d.range);
      return false;
    }
    if (!stepDivides(dom.lo, dom.hi, dom.step)) {
      const last = rangeValue(dom.lo, dom.step, rangeCount(dom.lo, dom.hi, dom.step) - 1, type);
      this.report(
        'warning',
        IssueCodes.StepDoesNotDivide,
        `step ${d.step?.text} does not reach ${d.hi?.text} from ${d.lo?.text}: the last value is ${String(last)}`,
        d.step?.range ?? d.range,
        { data: { lastValue: last } },
      );
    }
    return domainSize(dom) > 0;
  }
}

/** What is wrong with a search option's value, per its spec (undefined: nothing). */
function searchOptionError(spec: SearchOptionInfo, v: unknown, o: OptionAst): { message: string; data?: unknown } | undefined {
  let bad: string | undefined;
  let data: unknown;
  if (spec.type === 'flag') {
    if (typeof v !== 'boolean') bad = `'${spec.name}' is a flag: write '${spec.name}' or '${spec.name} false'`;
  } else if (spec.type === 'enum') {
    if (typeof v !== 'string' || !spec.values!.includes(v)) {
      const guess = typeof v === 'string' ? closest(v, spec.values!) : undefined;
      bad = `'${spec.name}' is one of ${spec.values!.join(', ')}, not ${o.value ? literalText(o.value) : 'empty'}` + (guess ? `: did you mean '${guess}'?` : '');
      if (guess) data = { replacement: guess };
    }
  } else if (typeof v !== 'number' || o.value === undefined) {
    bad = `'${spec.name}' expects a ${spec.type === 'int' ? 'whole number' : 'number'}`;
  } else if (spec.type === 'int' && !Number.isInteger(v)) {
    bad = `'${spec.name}' expects a whole number, not ${literalText(o.value)}`;
  } else if (spec.min !== undefined && (spec.minExclusive ? v <= spec.min : v < spec.min)) {
    bad = `'${spec.name}' must be ${spec.minExclusive ? 'more than' : 'at least'} ${spec.min}, not ${literalText(o.value)}`;
  } else if (spec.max !== undefined && v > spec.max) {
    bad = `'${spec.name}' must be at most ${spec.max}, not ${literalText(o.value)}`;
  }
  return bad ? { message: bad, ...(data ? { data } : {}) } : undefined;
}

type Stmt<K extends StudyStatementAst['kind']> = Extract<StudyStatementAst, { kind: K }>;

/** What a study's earlier statements tell the checks of later ones. */
interface StudyScan {
  /** The first range of each setting given once. */
  seen: Map<string, Range>;
  dataStatements: DataAst[];
  objectiveSeen?: Range;
  strategySeen: boolean;
  schemaKnown: boolean;
  paramTypes: Map<string, ParamType>;
  exprScope: ExprScope;
}

/** A study's model before its statements: the defaults. */
function emptyStudy(ast: StudyAst): StudyModel {
  return {
    name: ast.name?.value ?? '',
    range: ast.range,
    data: null,
    datas: [],
    basket: false,
    cash: 100_000,
    commission: 0,
    sizing: { kind: 'fixed', value: 1 },
    strategy: null,
    objectives: [],
    constraints: [],
    stages: [],
    retries: 0,
    total: 0,
    totalExact: true,
    hasErrors: false,
    ranges: {},
  };
}

interface ExprScope {
  metrics: boolean;
  params: Map<string, ParamType>;
  paramsKnown: boolean;
  context: 'objective' | 'constraint' | 'where';
  /** The study names a strategy that does not exist (so its parameters are unknown). */
  strategyUnknown?: boolean;
  /** A backtrader strategy's analyzers (null: not known); undefined for other strategies. */
  analyzers?: readonly string[] | null;
  stageParams?: Map<string, ParamType>;
}

function missingValue(o: OptionAst): LiteralAst {
  // A bare option where a value is needed: report it as "true" so the message reads naturally.
  return { kind: 'bool', value: true, range: o.key.range };
}

function containsHole(e: Expr): boolean {
  switch (e.kind) {
    case 'error':
      return true;
    case 'unary':
      return containsHole(e.operand);
    case 'binary':
      return containsHole(e.left) || containsHole(e.right);
    case 'call':
      return e.args.some(containsHole);
    default:
      return false;
  }
}

/** A round step giving about ten values between lo and hi. */
function suggestStep(lo: number, hi: number, type: ParamType): string {
  const span = Math.abs(hi - lo) || 1;
  const raw = span / 10;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const m = raw / p;
  let step = (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
  if (type === 'int') step = Math.max(1, Math.round(step));
  return String(Number(step.toFixed(Math.max(0, decimalsOf(step)))));
}

function inferType(d: DomainAst | undefined): ParamType {
  const dom = d?.domain;
  if (!dom) return 'float';
  if (dom.kind === 'list') {
    const v = dom.values[0];
    if (typeof v === 'string') return 'string';
    if (typeof v === 'boolean') return 'bool';
    return dom.values.every((x) => typeof x === 'number' && Number.isInteger(x)) ? 'int' : 'float';
  }
  if (dom.kind === 'range') return [dom.lo, dom.hi, dom.step].every(Number.isInteger) ? 'int' : 'float';
  return 'float';
}

const PRECEDENCE: Record<string, number> = { or: 1, and: 2, '<': 4, '<=': 4, '>': 4, '>=': 4, '==': 4, '!=': 4, '+': 5, '-': 5, '*': 6, '/': 6, '^': 8 };

/** Prints an expression back as source, with only the parentheses precedence needs. */
export function exprToText(e: Expr, parent = 0, rightSide = false): string {
  switch (e.kind) {
    case 'number':
      return String(e.value);
    case 'string':
      return JSON.stringify(e.value);
    case 'bool':
      return String(e.value);
    case 'name':
      return e.name;
    case 'error':
      return '…';
    case 'unary': {
      const p = e.op === 'not' ? 3 : 7;
      const s = e.op === 'not' ? `not ${exprToText(e.operand, p)}` : `-${exprToText(e.operand, p)}`;
      return p < parent ? `(${s})` : s;
    }
    case 'binary': {
      const p = PRECEDENCE[e.op] ?? 0;
      const rightAssoc = e.op === '^';
      const l = exprToText(e.left, rightAssoc ? p + 1 : p);
      const r = exprToText(e.right, rightAssoc ? p : p + 1, true);
      const s = `${l} ${e.op} ${r}`;
      void rightSide;
      return p < parent ? `(${s})` : s;
    }
    case 'call':
      return `${e.fn}(${e.args.map((a) => exprToText(a)).join(', ')})`;
  }
}

/** What a stage's own checks depend on besides its text: its study's strategy and the grid threshold. */
function stageContextKey(study: StudyModel, schemaKnown: boolean, gridThreshold: number): string {
  const s = study.strategy;
  return JSON.stringify([s?.name, s?.kind, schemaKnown, gridThreshold, s?.schema]);
}

/** Token classes by start position, the later of two for one start winning. */
export function classMap(classes: Iterable<TokenClass>): Map<number | string, TokenKind> {
  const out = new Map<number | string, TokenKind>();
  for (const [r, kind] of classes) out.set(rangeKey(r), kind);
  return out;
}

/** Runs every semantic check over a file's AST. */
export function checkFile(
  ast: FileAst,
  options: AnalyzeOptions,
  lines?: LineIndex,
): { studies: StudyModel[]; diagnostics: Diagnostic[]; classes: Map<number | string, TokenKind>; strategies: DocumentAnalysis['strategies'] } {
  const c = new Checker(options, lines);
  c.declareStrategies(ast);
  const studies = c.studies(ast);
  return { studies, diagnostics: c.diagnostics, classes: classMap(c.classList), strategies: c.declared };
}

/** The declared strategies of a file (its `strategy NAME command|module …` items) and their findings. */
export function checkDeclarations(ast: FileAst, options: AnalyzeOptions): { strategies: DocumentAnalysis['strategies']; diagnostics: Diagnostic[]; classes: TokenClass[] } {
  const c = new Checker(options);
  c.declareStrategies(ast);
  return { strategies: c.declared, diagnostics: c.diagnostics, classes: c.classList };
}

/**
 * The checks of one study, given the file's declared strategies (`checkDeclarations`), with
 * its stages' own checks kept in `stageCache`. `lines` indexes the whole document.
 */
export function checkStudy(
  ast: StudyAst,
  strategies: DocumentAnalysis['strategies'],
  options: AnalyzeOptions,
  lines: LineIndex,
  stageCache?: StageCache,
): { study: StudyModel; diagnostics: Diagnostic[]; classes: TokenClass[] } {
  const c = new Checker(options, lines, stageCache, strategies);
  const study = c.studies({ range: ast.range, items: [ast] })[0]!;
  return { study, diagnostics: c.diagnostics, classes: c.classList };
}

/** Candidates from several lists, read only as far as a suggestion reads them (never copied). */
function* chain(...lists: Iterable<string>[]): Generator<string> {
  for (const l of lists) yield* l;
}

function* namesOf(schema: readonly ParamSchema[]): Generator<string> {
  for (const p of schema) yield p.name;
}

/**
 * A parameter of a strategy's schema by name: by a map made once per schema list, not a scan
 * per lookup (a module may declare thousands, each searched or set in the study).
 */
const schemaMaps = new WeakMap<readonly ParamSchema[], Map<string, ParamSchema>>();
function schemaOf(schema: readonly ParamSchema[], name: string): ParamSchema | undefined {
  let m = schemaMaps.get(schema);
  if (!m) {
    m = new Map();
    // The first of a name wins, as `find` did.
    for (const p of schema) if (!m.has(p.name)) m.set(p.name, p);
    schemaMaps.set(schema, m);
  }
  return m.get(name);
}

export type { SpaceParam, SearchMethod };
