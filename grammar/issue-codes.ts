/**
 * Stable diagnostic codes (kebab-case). Code actions, tests and docs key on these strings:
 * add new ones, never rename.
 */
export const IssueCodes = {
  // Lexing and parsing
  UnexpectedCharacter: 'unexpected-character',
  UnterminatedString: 'unterminated-string',
  UnterminatedComment: 'unterminated-comment',
  SyntaxError: 'syntax-error',
  // Names
  UnknownStrategy: 'unknown-strategy',
  /** A `strategy NAME backtrader "SPEC"` whose file, module or name cannot be loaded. */
  BacktraderSpec: 'backtrader-spec',
  UnknownParameter: 'unknown-parameter',
  UnknownMetric: 'unknown-metric',
  UnknownFunction: 'unknown-function',
  WrongArgumentCount: 'wrong-argument-count',
  UnknownSearchMethod: 'unknown-search-method',
  UnknownSearchOption: 'unknown-search-option',
  InvalidSearchOption: 'invalid-search-option',
  InitExceedsTrials: 'init-exceeds-trials',
  UnknownOption: 'unknown-option',
  InvalidOption: 'invalid-option',
  UnknownType: 'unknown-type',
  // Domains
  DomainTypeMismatch: 'domain-type-mismatch',
  ReversedRange: 'reversed-range',
  NonPositiveStep: 'non-positive-step',
  StepDoesNotDivide: 'step-does-not-divide',
  NonPositiveLogBound: 'non-positive-log-bound',
  InvalidLogCount: 'invalid-log-count',
  ContinuousInGrid: 'continuous-in-grid',
  EmptyDomain: 'empty-domain',
  ValueOutOfBounds: 'value-out-of-bounds',
  InvalidChoice: 'invalid-choice',
  ValueTypeMismatch: 'value-type-mismatch',
  // Stages
  ParamInSeveralStages: 'param-in-several-stages',
  DuplicateParam: 'duplicate-param',
  WhereParamNotInStage: 'where-param-not-in-stage',
  WhereNotBoolean: 'where-not-boolean',
  EmptyStage: 'empty-stage',
  EmptyGrid: 'empty-grid',
  GridTooLarge: 'grid-too-large',
  DuplicateStage: 'duplicate-stage',
  DefaultTrials: 'default-trials',
  SizeEstimated: 'size-estimated',
  // Objectives and constraints
  ObjectiveNotNumeric: 'objective-not-numeric',
  ConstraintNotBoolean: 'constraint-not-boolean',
  MissingObjective: 'missing-objective',
  ConstantExpression: 'constant-expression',
  TypeMismatch: 'type-mismatch',
  // Study settings
  MissingData: 'missing-data',
  /** A `data` block option that is unknown or has a bad value. */
  InvalidDataOption: 'invalid-data-option',
  /** Data feeds that do not fit together or do not fit the strategy (basket, several feeds). */
  InvalidDataFeeds: 'invalid-data-feeds',
  /** `mean(…)`/`median(…)` (or one-argument `min`/`max`) in a study that is not a basket. */
  AggregateWithoutBasket: 'aggregate-without-basket',
  MissingStrategy: 'missing-strategy',
  InvalidDate: 'invalid-date',
  DateOrder: 'date-order',
  NonPositiveCash: 'non-positive-cash',
  CommissionOutOfRange: 'commission-out-of-range',
  CommissionAsFraction: 'commission-as-fraction',
  CommissionUnit: 'commission-unit',
  CommissionContract: 'commission-contract',
  SlippageOutOfRange: 'slippage-out-of-range',
  CostsExternal: 'costs-external',
  InvalidSizing: 'invalid-sizing',
  InvalidValue: 'invalid-value',
  DuplicateStudy: 'duplicate-study',
  DuplicateStrategy: 'duplicate-strategy',
  DuplicateSetting: 'duplicate-setting',
  NoStages: 'no-stages',
  // Workspace (server/workspace-checks.ts)
  DataFileMissing: 'data-file-missing',
  DataFileUnreadable: 'data-file-unreadable',
  /** The loader refuses the file (bad prices, unreadable columns, an empty range). */
  DataFileInvalid: 'data-file-invalid',
  /** The loader skipped or repaired rows (counted). */
  DataWarning: 'data-warning',
  PathOutsideWorkspace: 'path-outside-workspace',
  ModuleFileMissing: 'module-file-missing',
  ModuleParamsUnreadable: 'module-params-unreadable',
} as const;

export type IssueCode = (typeof IssueCodes)[keyof typeof IssueCodes];
