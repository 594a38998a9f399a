/**
 * Tokens and the lexer of `.optstudy`. Keywords come before `Identifier` and name it as their
 * `longer_alt`, so `datafile` is one identifier, not `data` + `file`. Each token has a `LABEL`
 * in plain words, used by parse error messages ("expected a number after 'cash'").
 */

import { createToken, Lexer, type TokenType } from 'chevrotain';

/**
 * A name. Dotted segments (`ta.won.total`, `annual.2014`) are the metrics of a backtrader
 * strategy's own analyzers; elsewhere the checks reject a dotted name as unknown.
 */
export const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*/, label: 'a name' });

/** Every keyword is in this category, so name positions can accept keywords as names. */
export const Keyword = createToken({ name: 'Keyword', pattern: Lexer.NA, label: 'a keyword' });

const keywordDocs: Record<string, string> = {};

function kw(word: string, doc: string): TokenType {
  keywordDocs[word] = doc;
  return createToken({
    name: word[0]!.toUpperCase() + word.slice(1).replace(/_(\w)/g, (_, c: string) => c.toUpperCase()),
    pattern: new RegExp(word),
    longer_alt: Identifier,
    categories: [Keyword],
    label: `'${word}'`,
  });
}

export const Strategy = kw('strategy', 'Declares an external strategy (`strategy NAME command "…" { param … }`) or, in a study, names the strategy to optimize.');
export const Command = kw('command', 'The command line of an external strategy, run in the study file’s folder and spoken to in JSON lines.');
export const Module = kw('module', 'A TypeScript or JavaScript strategy module, relative to the study file.');
export const Backtrader = kw('backtrader', 'A real backtrader strategy: `strategy NAME backtrader "file.py:make_cerebro"` (a cerebro factory) or `"file.py:MyStrategy"` (a bt.Strategy subclass), run by the bundled bridge in the study file’s folder.');
export const Param = kw('param', 'Declares a strategy parameter (`param NAME: TYPE = DEFAULT`) or a searched one in a stage (`param NAME in DOMAIN`).');
export const Study = kw('study', 'A study: the data, the strategy, the objective(s), constraints and the stages to search.');
export const Data = kw('data', 'The price file(s), relative to the study file, an optional range and options: `data "file.txt" from 2005-01-01 to 2014-12-31`, `data ["a.txt", "b.txt"]` (several feeds for one strategy), `data basket [...]`, `data "x.csv" { columns { date "Datum" }, date_format "DD.MM.YYYY", prices repair }`.');
export const Basket = kw('basket', 'Runs the strategy on each file of the list on its own (one backtest per symbol per trial); objectives aggregate over the symbols: `mean(sharpe)`, `median(…)`, `min(…)`, `max(…)`, or a metric of the summed equity.');
export const From = kw('from', 'First day of the backtest range (YYYY-MM-DD, the whole day), or a first bar time (YYYY-MM-DDTHH:MM[:SS]).');
export const To = kw('to', 'Last day of the backtest range (YYYY-MM-DD, the whole day), or a last bar time (YYYY-MM-DDTHH:MM[:SS]).');
export const Cash = kw('cash', 'Starting cash of each backtest.');
export const Commission = kw(
  'commission',
  'Commission per side: a percent of traded value (`0.1%`, or a fraction `0.001`), an amount per share (`0.005 per share`), or per futures contract (`2.5 per contract margin 2000 mult 10`).',
);
export const Slippage = kw('slippage', 'Fill slippage (backtrader defaults): a percent of the price (`0.05%`) or a fixed price amount (`0.02`); fills never leave the bar’s high–low range.');
export const Sizing = kw('sizing', 'Position size: `sizing fixed N` (shares) or `sizing percent N` (percent of the cash at the signal bar).');
export const Objectives = kw('objectives', 'Several objectives at once (a Pareto front): `objectives { maximize sharpe  minimize max_drawdown_pct }`.');
export const Objective = kw('objective', 'What the search optimizes: `objective maximize EXPR` or `objective minimize EXPR`.');
export const Maximize = kw('maximize', 'Higher scores are better.');
export const Minimize = kw('minimize', 'Lower scores are better.');
export const Constraint = kw('constraint', 'A condition every accepted trial must meet; a trial that fails it is infeasible.');
export const Stage = kw('stage', 'A search stage. Stages run in order; each stage’s best parameters are fixed for the stages after it.');
export const Search = kw('search', 'The search method of a stage: grid, random, bayes, tpe, genetic or cmaes, with `{ options }`.');
export const In = kw('in', 'The domain of a searched parameter.');
export const StepKw = kw('step', 'The step of an inclusive range: `5 .. 50 step 5`.');
export const Log = kw('log', 'A log-spaced range (`log 0.001 .. 1 count 10`), or the natural logarithm in expressions.');
export const Count = kw('count', 'How many values a log range has.');
export const Where = kw('where', 'A condition on the stage’s parameters; combinations that fail it are skipped.');
export const Workers = kw('workers', 'Worker threads for the run.');
export const Seed = kw('seed', 'Random seed: the same seed gives the same trials whatever the worker count.');
export const Timeout = kw('timeout', 'Per-trial time limit (`30s`, `500ms`, `2m`); a trial over it fails and its worker is replaced.');
export const Retries = kw('retries', 'How often a failed trial is tried again.');
export const EarlyStop = kw('early_stop', 'Stop a stage (or every stage) when the score has not improved by `min_delta` in `patience` trials.');
export const Validate = kw('validate', 'Out-of-sample validation: `validate holdout 30%` or `validate walkforward { folds 5, train 70%, anchored }`.');
export const Executor = kw('executor', 'Where trials run: `executor redis "redis://host:6379"` sends them to `optstudy worker` processes.');
export const WarmStart = kw('warm_start', 'Seed the search with the trials of an earlier run folder.');
export const And = kw('and', 'Both conditions hold.');
export const Or = kw('or', 'Either condition holds.');
export const Not = kw('not', 'The condition does not hold.');
export const True = kw('true', 'Boolean true.');
export const False = kw('false', 'Boolean false.');

export const KEYWORD_TOKENS: readonly TokenType[] = [
  Strategy, Command, Module, Backtrader, Param, Study, Data, Basket, From, To, Cash, Commission, Slippage, Sizing,
  Objectives, Objective, Maximize, Minimize, Constraint, Stage, Search, In, StepKw, Log, Count,
  Where, Workers, Seed, Timeout, Retries, EarlyStop, Validate, Executor, WarmStart, And, Or, Not, True, False,
];

/** Keywords of the language with a one-line doc each (completion and hover use this). */
export const KEYWORDS: Readonly<Record<string, string>> = keywordDocs;

export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n\f\v\u00a0\ufeff]+/, group: Lexer.SKIPPED, line_breaks: true });
export const LineComment = createToken({ name: 'LineComment', pattern: /\/\/[^\n\r]*/, group: 'comments' });
export const BlockComment = createToken({ name: 'BlockComment', pattern: /\/\*[\s\S]*?\*\//, group: 'comments', line_breaks: true });
/** An unterminated block comment runs to the end of the file; the checks report it. */
export const UnterminatedComment = createToken({ name: 'UnterminatedComment', pattern: /\/\*[\s\S]*/, group: 'comments', line_breaks: true });
export const StringLit = createToken({ name: 'StringLit', pattern: /"(?:[^"\\\n\r]|\\.)*"/, label: 'a string in quotes' });
/** A string without its closing quote: lexed as a string so the parse goes on; the checks report it. */
export const UnterminatedString = createToken({ name: 'UnterminatedString', pattern: /"(?:[^"\\\n\r]|\\.)*/, categories: [StringLit], label: 'a string in quotes' });
/** A date, or a date and time (`2006-01-02T09:30`, `2006-01-02T09:30:00`) for intraday ranges. */
export const DateLit = createToken({ name: 'DateLit', pattern: /\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2})?)?(?![\w.:])/, label: 'a date (YYYY-MM-DD)' });
export const Duration = createToken({ name: 'Duration', pattern: /\d+(?:\.\d+)?(?:ms|s|m|h)(?![\w])/, label: 'a duration (30s, 500ms, 2m)' });
export const NumberLit = createToken({ name: 'NumberLit', pattern: /\d+(?:\.\d+)?(?:[eE][+-]?\d+)?%?|\.\d+%?/, label: 'a number' });

export const LBrace = createToken({ name: 'LBrace', pattern: /\{/, label: "'{'" });
export const RBrace = createToken({ name: 'RBrace', pattern: /\}/, label: "'}'" });
export const LBracket = createToken({ name: 'LBracket', pattern: /\[/, label: "'['" });
export const RBracket = createToken({ name: 'RBracket', pattern: /\]/, label: "']'" });
export const LParen = createToken({ name: 'LParen', pattern: /\(/, label: "'('" });
export const RParen = createToken({ name: 'RParen', pattern: /\)/, label: "')'" });
export const Comma = createToken({ name: 'Comma', pattern: /,/, label: "','" });
export const Colon = createToken({ name: 'Colon', pattern: /:/, label: "':'" });
export const DotDot = createToken({ name: 'DotDot', pattern: /\.\./, label: "'..'" });

export const CompareOp = createToken({ name: 'CompareOp', pattern: Lexer.NA, label: 'a comparison' });
export const LessEq = createToken({ name: 'LessEq', pattern: /<=/, categories: [CompareOp], label: "'<='" });
export const GreaterEq = createToken({ name: 'GreaterEq', pattern: />=/, categories: [CompareOp], label: "'>='" });
export const EqEq = createToken({ name: 'EqEq', pattern: /==/, categories: [CompareOp], label: "'=='" });
export const NotEq = createToken({ name: 'NotEq', pattern: /!=/, categories: [CompareOp], label: "'!='" });
export const Less = createToken({ name: 'Less', pattern: /</, categories: [CompareOp], label: "'<'" });
export const Greater = createToken({ name: 'Greater', pattern: />/, categories: [CompareOp], label: "'>'" });
export const Equals = createToken({ name: 'Equals', pattern: /=/, label: "'='" });
export const Plus = createToken({ name: 'Plus', pattern: /\+/, label: "'+'" });
export const Minus = createToken({ name: 'Minus', pattern: /-/, label: "'-'" });
export const Star = createToken({ name: 'Star', pattern: /\*/, label: "'*'" });
export const Slash = createToken({ name: 'Slash', pattern: /\//, label: "'/'" });
export const Caret = createToken({ name: 'Caret', pattern: /\^/, label: "'^'" });

/**
 * A run of characters no token can start with: lexed as one token (then reported as an
 * unexpected character and kept from the parser) rather than left to the lexer's error path,
 * which tries every pattern at every character — a megabyte of `@` took seconds that way.
 */
export const Unknown = createToken({ name: 'Unknown', pattern: /(?:[^\sA-Za-z0-9_"\/.{}\[\](),:<>=!+\-*^]|!(?!=)|\.(?![.\d]))+/, group: 'unknown', line_breaks: false });

/** All token types in lexing order (longest and most specific first). */
export const ALL_TOKENS: readonly TokenType[] = [
  WhiteSpace,
  LineComment,
  BlockComment,
  UnterminatedComment,
  StringLit,
  UnterminatedString,
  DateLit,
  Duration,
  NumberLit,
  DotDot,
  LBrace, RBrace, LBracket, RBracket, LParen, RParen, Comma, Colon,
  LessEq, GreaterEq, EqEq, NotEq, Less, Greater, Equals,
  Plus, Minus, Star, Slash, Caret,
  Keyword, CompareOp,
  ...KEYWORD_TOKENS,
  Identifier,
  Unknown,
];

/** The one lexer instance (lexers are stateless between `tokenize` calls). */
export const optstudyLexer = new Lexer(ALL_TOKENS as TokenType[], {
  positionTracking: 'full',
  ensureOptimizations: false,
});
