/**
 * The `.optstudy` language, pure: no file system, no vscode, no LSP types. The language
 * server, the CLI and the engine import everything from here.
 */

export * from './model';
export { analyze, Analyzer } from './incremental';
export { domainValues, domainSize, rangeCount, stepDivides, decimalsOf } from './domain';
export { evaluateExpr, compileExpr, exprNames, exprNameNodes, isAggregateCall, METRIC_ALIASES, EXPR_FUNCTIONS, type BasketLookup } from './expr';
export { IssueCodes, type IssueCode } from './issue-codes';
export { SEARCH_METHODS, DEFAULT_TRIALS, findSearchMethod, type SearchMethodInfo, type SearchOptionInfo } from './search-methods';
export { BUILTIN_STRATEGIES, COMMON_PARAMS, findBuiltinStrategy, withCommonParams } from './builtins';
export { METRICS, findMetric, type MetricInfo } from './metrics';
export { KEYWORDS } from './tokens';
export { COLUMN_ROLE_NAMES, DATA_OPTIONS, MULTI_FEED_BUILTINS, isValidStamp } from './data-statement';
export { LineIndex, rangeContains, spanRanges } from './positions';
export { gridSize, type GridParam, type CountedGridParam, type GridSize, type GridSizeOptions } from './grid-size';
export { closest, editDistance, SuggestionWork } from './suggest';
export { exprToText, isValidDate, formatCount, DEFAULT_GRID_WARNING_THRESHOLD } from './checks';
