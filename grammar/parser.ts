/**
 * The `.optstudy` parser: one Chevrotain `CstParser` with error recovery and full node
 * locations, created once and reused (`parser.input = tokens`), since building a Chevrotain
 * parser (its self-analysis) costs far more than parsing a file.
 */

import { CstParser, EOF, type CstNode, type ILexingError, type IRecognitionException, type IToken, type TokenType } from 'chevrotain';
import * as T from './tokens';

/** Plain words for what a rule expects, used when no single token is expected. */
const RULE_WORDS: Record<string, string> = {
  file: "'study' or 'strategy'",
  studyStatement:
    "a study statement (data, cash, commission, slippage, sizing, strategy, objective, constraint, stage, workers, seed, timeout, retries, early_stop, validate, executor, warm_start) or '}'",
  stageStatement: "a stage statement (search, param, where, early_stop) or '}'",
  domain: 'a domain ([a, b, …], a .. b step s, a .. b, or log a .. b count n)',
  literal: 'a value',
  signedNumber: 'a number',
  atom: 'an expression',
  operand: 'an expression',
  expression: 'an expression',
  direction: "'maximize' or 'minimize'",
  strategyRef: "a strategy name or 'module \"file.ts\"'",
  strategyDecl: "'command \"…\"', 'module \"…\"' or 'backtrader \"file.py:NAME\"' after the strategy name",
  name: 'a name',
};

/** What a value after a given keyword should look like, for "expected … after 'cash'". */
const VALUE_AFTER: Record<string, string> = {
  cash: 'a number',
  commission: 'a percentage like 0.1%',
  slippage: 'a percentage like 0.05% or a price amount like 0.02',
  workers: 'a whole number',
  seed: 'a whole number',
  retries: 'a whole number',
  timeout: 'a duration like 30s',
  from: 'a date like 2005-01-01 (or 2006-01-02T09:30)',
  to: 'a date like 2005-01-01 (or 2006-01-02T17:30)',
  fixed: 'a number of shares',
  percent: 'a percentage of the portfolio',
  holdout: 'a percentage like 30%',
  '=': 'a value',
  step: 'a number',
  count: 'a whole number',
  '..': 'a number',
};

/** What may appear inside each block (for "unexpected 'x': expected …"). */
const BLOCK_WORDS: Record<string, string> = {
  file: "'study' or 'strategy'",
  study: RULE_WORDS['studyStatement']!,
  stage: RULE_WORDS['stageStatement']!,
  optionBlock: "an option ('name value') or '}'",
  strategyDecl: "'param NAME: TYPE = DEFAULT' or '}'",
  strategyRef: "'name = value' or '}'",
  objectivesStmt: "'maximize EXPR', 'minimize EXPR' or '}'",
};

const BLOCK_NAMES: Record<string, string> = {
  study: 'the study',
  stage: 'the stage',
  optionBlock: 'the options',
  strategyDecl: 'the strategy declaration',
  strategyRef: 'the parameter values',
  objectivesStmt: 'the objectives',
};

function labelOf(t: TokenType): string {
  return t.LABEL ?? t.name;
}

function describeToken(tok: IToken | undefined): string {
  if (!tok || tok.tokenType === EOF) return 'the end of the file';
  const img = tok.image.length > 24 ? tok.image.slice(0, 24) + '…' : tok.image;
  return `'${img}'`;
}

function after(prev: IToken | undefined): string {
  return prev && prev.tokenType !== EOF && prev.image ? ` after '${prev.image.length > 24 ? prev.image.slice(0, 24) + '…' : prev.image}'` : '';
}

/**
 * True while a part of a study (a run of its statements) is parsed on its own: its end is not
 * the file's end but the next statement (or the study's `}`) on a later line.
 */
let partEnd = false;

/** ", found 'x'" — left out when the user simply stopped typing (end of file, or the next line). */
function found(actual: IToken | undefined, previous: IToken | undefined): string {
  if (!actual || actual.tokenType === EOF) return previous && !partEnd ? ', found the end of the file' : '';
  if (previous && previous.tokenType !== EOF && actual.startLine !== undefined && previous.endLine !== undefined && actual.startLine > previous.endLine) return '';
  return `, found ${describeToken(actual)}`;
}

function firstTokensWords(paths: TokenType[][]): string {
  const seen = new Set<string>();
  for (const p of paths) if (p[0]) seen.add(labelOf(p[0]));
  const words = [...seen];
  if (words.length <= 1) return words[0] ?? 'something else';
  if (words.length > 6) return words.slice(0, 6).join(', ') + ', …';
  return words.slice(0, -1).join(', ') + ' or ' + words[words.length - 1];
}

const errorMessages = {
  buildMismatchTokenMessage({ expected, actual, previous, ruleName }: { expected: TokenType; actual: IToken; previous: IToken; ruleName: string }): string {
    // A block's loop stopped at something that is not a statement: say what was found and
    // what may come here, rather than "expected '}'".
    const block = BLOCK_WORDS[ruleName];
    if ((expected === T.RBrace || expected === EOF) && block && actual && actual.tokenType !== EOF)
      return `unexpected ${describeToken(actual)}: expected ${block}`;
    if (expected === T.RBrace && block && (!actual || actual.tokenType === EOF))
      return `expected '}' to close ${BLOCK_NAMES[ruleName] ?? 'this block'}, found the end of the file`;
    let what = labelOf(expected);
    if (expected === T.StringLit && ruleName === 'study') what = 'the study name in quotes';
    if (expected === T.StringLit && ruleName === 'stage') what = 'the stage name in quotes';
    if (expected === T.Identifier && ruleName === 'strategyDecl') what = 'a strategy name';
    if (expected === T.In && ruleName === 'spaceParam') what = "'in' and a domain";
    return `expected ${what}${after(previous)}${found(actual, previous)}`;
  },
  buildNotAllInputParsedMessage({ firstRedundant, ruleName }: { firstRedundant: IToken; ruleName: string }): string {
    return `unexpected ${describeToken(firstRedundant)}: expected ${ruleName === 'studyBody' ? BLOCK_WORDS['study'] : "'study' or 'strategy'"}`;
  },
  buildNoViableAltMessage({
    expectedPathsPerAlt,
    actual,
    previous,
    ruleName,
  }: {
    expectedPathsPerAlt: TokenType[][][];
    actual: IToken[];
    previous: IToken;
    ruleName: string;
  }): string {
    const words =
      (ruleName === 'literal' || ruleName === 'signedNumber' ? VALUE_AFTER[previous?.image ?? ''] : undefined) ??
      RULE_WORDS[ruleName] ??
      firstTokensWords(expectedPathsPerAlt.flat());
    return `expected ${words}${after(previous)}${found(actual[0], previous)}`;
  },
  buildEarlyExitMessage({
    expectedIterationPaths,
    actual,
    previous,
    ruleName,
  }: {
    expectedIterationPaths: TokenType[][];
    actual: IToken[];
    previous: IToken;
    ruleName: string;
  }): string {
    const words = RULE_WORDS[ruleName] ?? firstTokensWords(expectedIterationPaths);
    return `expected ${words}${after(previous)}${found(actual[0], previous)}`;
  },
};

/** The grammar. Rules are class fields so a misspelt rule name is a compile error. */
export class OptstudyParser extends CstParser {
  constructor() {
    super(T.ALL_TOKENS as TokenType[], {
      recoveryEnabled: true,
      nodeLocationTracking: 'full',
      maxLookahead: 3,
      errorMessageProvider: errorMessages,
    });
    this.performSelfAnalysis();
  }

  public file = this.RULE('file', () => {
    this.MANY(() => {
      this.OR([{ ALT: () => this.SUBRULE(this.strategyDecl) }, { ALT: () => this.SUBRULE(this.study) }]);
    });
  });

  /** A name where keywords are allowed too (parameter and option names). */
  private name = this.RULE('name', () => {
    this.OR([{ ALT: () => this.CONSUME(T.Identifier) }, { ALT: () => this.CONSUME(T.Keyword) }]);
  });

  private strategyDecl = this.RULE('strategyDecl', () => {
    this.CONSUME(T.Strategy);
    this.CONSUME(T.Identifier);
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Command);
          this.CONSUME(T.StringLit);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.Module);
          this.CONSUME2(T.StringLit);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.Backtrader);
          this.CONSUME3(T.StringLit);
        },
      },
    ]);
    this.OPTION(() => {
      this.CONSUME(T.LBrace);
      this.MANY(() => this.SUBRULE(this.paramDecl));
      this.CONSUME(T.RBrace);
    });
  });

  private paramDecl = this.RULE('paramDecl', () => {
    this.CONSUME(T.Param);
    this.SUBRULE(this.name);
    this.CONSUME(T.Colon);
    this.CONSUME(T.Identifier, { LABEL: 'type' });
    this.OPTION(() => {
      this.CONSUME(T.Equals);
      this.SUBRULE(this.literal);
    });
  });

  private study = this.RULE('study', () => {
    this.CONSUME(T.Study);
    this.CONSUME(T.StringLit);
    this.CONSUME(T.LBrace);
    // Statements are alternatives of the loop itself (no wrapper node per statement).
    this.MANY(() => this.studyStatement());
    this.CONSUME(T.RBrace);
  });

  /**
   * Some statements of a study, parsed on their own (grammar/incremental.ts parses a long
   * study one statement or stage at a time, and only the ones that changed).
   */
  public studyBody = this.RULE('studyBody', () => {
    this.MANY(() => this.studyStatement());
  });

  /** One study statement: the alternatives of the loops of `study` and `studyBody`. */
  private studyStatement(): void {
    this.OR([
      { ALT: () => this.SUBRULE(this.dataStmt) },
      { ALT: () => this.SUBRULE(this.valueStmt) },
      { ALT: () => this.SUBRULE(this.commissionStmt) },
      { ALT: () => this.SUBRULE(this.sizingStmt) },
      { ALT: () => this.SUBRULE(this.strategyRef) },
      { ALT: () => this.SUBRULE(this.objectiveStmt) },
      { ALT: () => this.SUBRULE(this.objectivesStmt) },
      { ALT: () => this.SUBRULE(this.constraintStmt) },
      { ALT: () => this.SUBRULE(this.stage) },
      { ALT: () => this.SUBRULE(this.earlyStop) },
      { ALT: () => this.SUBRULE(this.validateStmt) },
      { ALT: () => this.SUBRULE(this.executorStmt) },
      { ALT: () => this.SUBRULE(this.warmStartStmt) },
    ]);
  }

  /** `data [basket] "file" | ["a", "b", …] [from X] [to Y] [{ options }]`. */
  private dataStmt = this.RULE('dataStmt', () => {
    this.CONSUME(T.Data);
    this.OPTION3(() => this.CONSUME(T.Basket));
    this.OR([{ ALT: () => this.CONSUME(T.StringLit) }, { ALT: () => this.SUBRULE(this.pathList) }]);
    this.OPTION(() => {
      this.CONSUME(T.From);
      this.SUBRULE(this.literal, { LABEL: 'from' });
    });
    this.OPTION2(() => {
      this.CONSUME(T.To);
      this.SUBRULE2(this.literal, { LABEL: 'to' });
    });
    this.OPTION4(() => this.SUBRULE(this.optionBlock));
  });

  /** `["a.txt", "b.txt"]`, commas optional between items. */
  private pathList = this.RULE('pathList', () => {
    this.CONSUME(T.LBracket);
    this.MANY(() => {
      this.CONSUME(T.StringLit);
      this.OPTION(() => this.CONSUME(T.Comma));
    });
    this.CONSUME(T.RBracket);
  });

  /** `cash N`, `slippage X%`, `workers N`, `seed N`, `timeout 30s`, `retries N`. */
  private valueStmt = this.RULE('valueStmt', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.Cash, { LABEL: 'key' }) },
      { ALT: () => this.CONSUME(T.Slippage, { LABEL: 'key' }) },
      { ALT: () => this.CONSUME(T.Workers, { LABEL: 'key' }) },
      { ALT: () => this.CONSUME(T.Seed, { LABEL: 'key' }) },
      { ALT: () => this.CONSUME(T.Timeout, { LABEL: 'key' }) },
      { ALT: () => this.CONSUME(T.Retries, { LABEL: 'key' }) },
    ]);
    this.SUBRULE(this.literal);
  });

  /**
   * `commission 0.1%`, `commission 0.005 per share`, `commission 2.5 per contract margin 2000
   * mult 10`: the words after the amount are plain names (checked, not reserved), so strategies
   * may still call a parameter `margin`.
   */
  private commissionStmt = this.RULE('commissionStmt', () => {
    this.CONSUME(T.Commission);
    this.SUBRULE(this.literal);
    this.OPTION(() => {
      this.CONSUME(T.Identifier, { LABEL: 'per' });
      this.OPTION2(() => this.CONSUME2(T.Identifier, { LABEL: 'unit' }));
      this.MANY(() => {
        this.CONSUME3(T.Identifier, { LABEL: 'option' });
        this.SUBRULE2(this.literal, { LABEL: 'optionValue' });
      });
    });
  });

  private sizingStmt = this.RULE('sizingStmt', () => {
    this.CONSUME(T.Sizing);
    this.CONSUME(T.Identifier, { LABEL: 'mode' });
    this.SUBRULE(this.literal);
  });

  private strategyRef = this.RULE('strategyRef', () => {
    this.CONSUME(T.Strategy);
    this.OR([
      { ALT: () => this.CONSUME(T.Identifier) },
      {
        ALT: () => {
          this.CONSUME(T.Module);
          this.CONSUME(T.StringLit);
        },
      },
    ]);
    this.OPTION(() => {
      this.CONSUME(T.LBrace);
      this.MANY(() => {
        this.SUBRULE(this.override);
        this.OPTION2(() => this.CONSUME(T.Comma));
      });
      this.CONSUME(T.RBrace);
    });
  });

  private override = this.RULE('override', () => {
    this.SUBRULE(this.name);
    this.CONSUME(T.Equals);
    this.SUBRULE(this.literal);
  });

  private direction = this.RULE('direction', () => {
    this.OR([{ ALT: () => this.CONSUME(T.Maximize) }, { ALT: () => this.CONSUME(T.Minimize) }]);
  });

  private objectiveStmt = this.RULE('objectiveStmt', () => {
    this.CONSUME(T.Objective);
    this.SUBRULE(this.direction);
    this.SUBRULE(this.expression);
  });

  private objectivesStmt = this.RULE('objectivesStmt', () => {
    this.CONSUME(T.Objectives);
    this.CONSUME(T.LBrace);
    this.MANY(() => {
      this.SUBRULE(this.objectiveItem);
      this.OPTION(() => this.CONSUME(T.Comma));
    });
    this.CONSUME(T.RBrace);
  });

  private objectiveItem = this.RULE('objectiveItem', () => {
    this.SUBRULE(this.direction);
    this.SUBRULE(this.expression);
  });

  private constraintStmt = this.RULE('constraintStmt', () => {
    this.CONSUME(T.Constraint);
    this.SUBRULE(this.expression);
  });

  private stage = this.RULE('stage', () => {
    this.CONSUME(T.Stage);
    this.CONSUME(T.StringLit);
    this.CONSUME(T.LBrace);
    this.MANY(() => {
      this.OR([
        { ALT: () => this.SUBRULE(this.searchStmt) },
        { ALT: () => this.SUBRULE(this.spaceParam) },
        { ALT: () => this.SUBRULE(this.whereStmt) },
        { ALT: () => this.SUBRULE(this.earlyStop) },
      ]);
    });
    this.CONSUME(T.RBrace);
  });

  private searchStmt = this.RULE('searchStmt', () => {
    this.CONSUME(T.Search);
    this.CONSUME(T.Identifier, { LABEL: 'method' });
    this.OPTION(() => this.SUBRULE(this.optionBlock));
  });

  private optionBlock = this.RULE('optionBlock', () => {
    this.CONSUME(T.LBrace);
    this.MANY(() => {
      this.SUBRULE(this.optionItem);
      this.OPTION(() => this.CONSUME(T.Comma));
    });
    this.CONSUME(T.RBrace);
  });

  private optionItem = this.RULE('optionItem', () => {
    const key = this.CONSUME(T.Identifier, { LABEL: 'key' });
    // A value follows unless the option is a bare flag: the next token ends the option, or
    // is a name on a later line (the next option of a comma-less block).
    this.OPTION({
      GATE: () => {
        const next = this.LA(1);
        if (next.tokenType === T.Identifier && next.startLine !== undefined && key.startLine !== undefined) return next.startLine === key.startLine;
        return true;
      },
      // A nested block (`columns { date "Datum", close "Schluss" }`) or a value.
      DEF: () => this.OR([{ ALT: () => this.SUBRULE(this.optionBlock) }, { ALT: () => this.SUBRULE(this.literal) }]),
    });
  });

  private spaceParam = this.RULE('spaceParam', () => {
    this.CONSUME(T.Param);
    this.SUBRULE(this.name);
    this.CONSUME(T.In);
    this.SUBRULE(this.domain);
  });

  private domain = this.RULE('domain', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.LBracket);
          this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.literal) });
          this.CONSUME(T.RBracket);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.Log);
          this.SUBRULE(this.signedNumber, { LABEL: 'lo' });
          this.CONSUME(T.DotDot);
          this.SUBRULE2(this.signedNumber, { LABEL: 'hi' });
          this.CONSUME(T.Count);
          this.SUBRULE3(this.signedNumber, { LABEL: 'count' });
        },
      },
      {
        ALT: () => {
          this.SUBRULE4(this.signedNumber, { LABEL: 'lo' });
          this.CONSUME2(T.DotDot);
          this.SUBRULE5(this.signedNumber, { LABEL: 'hi' });
          this.OPTION(() => {
            this.CONSUME(T.StepKw);
            this.SUBRULE6(this.signedNumber, { LABEL: 'step' });
          });
        },
      },
    ]);
  });

  private signedNumber = this.RULE('signedNumber', () => {
    this.OPTION(() => this.CONSUME(T.Minus));
    this.CONSUME(T.NumberLit);
  });

  private whereStmt = this.RULE('whereStmt', () => {
    this.CONSUME(T.Where);
    this.SUBRULE(this.expression);
  });

  private earlyStop = this.RULE('earlyStop', () => {
    this.CONSUME(T.EarlyStop);
    this.SUBRULE(this.optionBlock);
  });

  private validateStmt = this.RULE('validateStmt', () => {
    this.CONSUME(T.Validate);
    this.CONSUME(T.Identifier, { LABEL: 'method' });
    this.OPTION(() => {
      this.OR([{ ALT: () => this.SUBRULE(this.optionBlock) }, { ALT: () => this.SUBRULE(this.literal) }]);
    });
  });

  private executorStmt = this.RULE('executorStmt', () => {
    this.CONSUME(T.Executor);
    this.CONSUME(T.Identifier, { LABEL: 'type' });
    this.CONSUME(T.StringLit);
  });

  private warmStartStmt = this.RULE('warmStartStmt', () => {
    this.CONSUME(T.WarmStart);
    this.CONSUME(T.StringLit);
  });

  /** A value: number (optionally negative, optionally with %), string, date, duration, boolean or bare word. */
  private literal = this.RULE('literal', () => {
    this.OR([
      {
        ALT: () => {
          this.OPTION(() => this.CONSUME(T.Minus));
          this.CONSUME(T.NumberLit);
        },
      },
      { ALT: () => this.CONSUME(T.StringLit) },
      { ALT: () => this.CONSUME(T.DateLit) },
      { ALT: () => this.CONSUME(T.Duration) },
      { ALT: () => this.CONSUME(T.True) },
      { ALT: () => this.CONSUME(T.False) },
      { ALT: () => this.CONSUME(T.Identifier) },
    ]);
  });

  // Expressions are parsed flat — operands (with their prefix `-`/`not`) joined by binary
  // operators — and precedence is applied in CST→AST (precedence climbing). One rule per
  // operand instead of one per precedence level keeps a 5,000-line file well under budget.
  private expression = this.RULE('expression', () => {
    this.SUBRULE(this.operand, { LABEL: 'operands' });
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(T.Or, { LABEL: 'ops' }) },
        { ALT: () => this.CONSUME(T.And, { LABEL: 'ops' }) },
        { ALT: () => this.CONSUME(T.CompareOp, { LABEL: 'ops' }) },
        { ALT: () => this.CONSUME(T.Plus, { LABEL: 'ops' }) },
        { ALT: () => this.CONSUME(T.Minus, { LABEL: 'ops' }) },
        { ALT: () => this.CONSUME(T.Star, { LABEL: 'ops' }) },
        { ALT: () => this.CONSUME(T.Slash, { LABEL: 'ops' }) },
        { ALT: () => this.CONSUME(T.Caret, { LABEL: 'ops' }) },
      ]);
      this.SUBRULE2(this.operand, { LABEL: 'operands' });
    });
  });

  private operand = this.RULE('operand', () => {
    this.MANY(() => {
      this.OR([{ ALT: () => this.CONSUME(T.Minus, { LABEL: 'prefix' }) }, { ALT: () => this.CONSUME(T.Not, { LABEL: 'prefix' }) }]);
    });
    this.SUBRULE(this.atom);
  });

  private atom = this.RULE('atom', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.NumberLit) },
      { ALT: () => this.CONSUME(T.StringLit) },
      { ALT: () => this.CONSUME(T.True) },
      { ALT: () => this.CONSUME(T.False) },
      {
        ALT: () => {
          this.OR2([{ ALT: () => this.CONSUME(T.Identifier) }, { ALT: () => this.CONSUME(T.Log) }]);
          this.OPTION(() => {
            this.CONSUME(T.LParen);
            this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.expression, { LABEL: 'args' }) });
            this.CONSUME(T.RParen);
          });
        },
      },
      {
        ALT: () => {
          this.CONSUME2(T.LParen);
          this.SUBRULE2(this.expression, { LABEL: 'inner' });
          this.CONSUME2(T.RParen);
        },
      },
    ]);
  });
}

let instance: OptstudyParser | undefined;

/** The shared parser instance (created on first use). */
export function getParser(): OptstudyParser {
  return (instance ??= new OptstudyParser());
}

/**
 * Deepest bracket nesting parsed. The parser and the tree walks recurse per level; a file
 * nested deeper is parsed up to the first token beyond it (and that token is reported), so
 * absurd input cannot overflow the stack.
 */
export const MAX_NESTING = 64;

/** Most operators in one expression (longer ones are cut there, like too-deep nesting). */
export const MAX_OPERATORS = 1000;

export interface ParseResult {
  cst: CstNode;
  /** The first token nested deeper than `MAX_NESTING`, when parsing stopped there. */
  tooDeep?: IToken;
  tokens: IToken[];
  comments: IToken[];
  lexErrors: ILexingError[];
  parseErrors: IRecognitionException[];
}

/** The lexer's errors and the `Unknown` runs, in document order, adjacent ones merged. */
function unexpectedCharacters(errors: ILexingError[], unknown: IToken[]): ILexingError[] {
  if (unknown.length === 0) return errors;
  const all: ILexingError[] = [...errors, ...unknown.map((t) => ({ offset: t.startOffset, length: t.image.length, line: t.startLine, column: t.startColumn, message: `unexpected character: ${t.image.slice(0, 20)}` }))];
  all.sort((a, b) => a.offset - b.offset);
  const out: ILexingError[] = [];
  for (const e of all) {
    const prev = out[out.length - 1];
    if (prev && prev.offset + prev.length === e.offset) out[out.length - 1] = { ...prev, length: prev.length + e.length };
    else out.push(e);
  }
  return out;
}

/** Lexes and parses a document. Never throws for any input text. */
export function parseText(text: string): ParseResult {
  return parseWith(text, 'file');
}

/**
 * Lexes and parses a run of study statements on its own (`text` holds whole lines of a study's
 * body; its end is the next statement's line, not the file's end). Never throws.
 */
export function parseStudyPart(text: string): ParseResult {
  partEnd = true;
  try {
    return parseWith(text, 'studyBody');
  } finally {
    partEnd = false;
  }
}

function parseWith(text: string, rule: 'file' | 'studyBody'): ParseResult {
  const lexed = T.optstudyLexer.tokenize(text);
  let tokens = lexed.tokens;
  let tooDeep: IToken | undefined;
  // Nesting = open brackets + a run of right-recursive operators (unary '-', 'not', '^');
  // `ops` counts operators of one expression (left-deep trees are walked recursively too).
  let depth = 0;
  let run = 0;
  let ops = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!.tokenType;
    const prev = i > 0 ? tokens[i - 1]!.tokenType : undefined;
    const operandEnd = prev === T.NumberLit || prev === T.Identifier || prev === T.RParen || prev === T.StringLit || prev === T.True || prev === T.False;
    if (t === T.LParen || t === T.LBrace || t === T.LBracket) depth++;
    else if (t === T.RParen || t === T.RBrace || t === T.RBracket) depth = Math.max(0, depth - 1);
    if (t === T.Not || t === T.Caret || (t === T.Minus && !operandEnd)) run++;
    else if (t === T.NumberLit || t === T.Identifier || t === T.LParen || t === T.RParen || t === T.True || t === T.False || t === T.StringLit) {
      // operands and grouping keep the run going
    } else run = 0;
    if (t === T.Plus || t === T.Minus || t === T.Star || t === T.Slash || t === T.Caret || t === T.And || t === T.Or || t === T.Not || t === T.Comma || t.CATEGORIES?.includes(T.CompareOp)) ops++;
    else if (t !== T.NumberLit && t !== T.Identifier && t !== T.LParen && t !== T.RParen && t !== T.True && t !== T.False && t !== T.StringLit) ops = 0;
    if (depth + run > MAX_NESTING || ops > MAX_OPERATORS) {
      tooDeep = tokens[i];
      tokens = tokens.slice(0, i);
      break;
    }
  }
  const parser = getParser();
  parser.input = tokens;
  const cst = rule === 'file' ? parser.file() : parser.studyBody();
  return {
    cst,
    tooDeep,
    tokens,
    comments: (lexed.groups['comments'] as IToken[] | undefined) ?? [],
    lexErrors: unexpectedCharacters(lexed.errors, (lexed.groups['unknown'] as IToken[] | undefined) ?? []),
    parseErrors: parser.errors.slice(),
  };
}
