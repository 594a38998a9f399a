/**
 * The language pipeline: text → tokens → CST → AST → semantic model and diagnostics.
 * Total: any text gives a result and no exception escapes (an internal error becomes a
 * diagnostic, so a language server keeps answering).
 */

import type { IToken } from 'chevrotain';
import { checkFile, positionKey } from './checks';
import { cstToAst } from './cst-to-ast';
import { IssueCodes } from './issue-codes';
import type { AnalyzeOptions, Diagnostic, DocumentAnalysis, Range, SemanticToken, TokenKind } from './model';
import { MAX_NESTING, MAX_OPERATORS, parseText } from './parser';
import { LineIndex } from './positions';
import { closest } from './suggest';
import * as T from './tokens';

function isEof(t: IToken | undefined): boolean {
  return !t || t.tokenType.name === 'EOF' || !Number.isFinite(t.startOffset);
}

/** The last real token that starts before `offset` (or the last token for the end of file). */
function previousToken(tokens: IToken[], offset: number): IToken | undefined {
  let lo = 0;
  let hi = tokens.length - 1;
  let best: IToken | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (tokens[mid]!.startOffset < offset) {
      best = tokens[mid];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best;
}

function tokenRange(lines: LineIndex, t: IToken): Range {
  return lines.range(t.startOffset, (t.endOffset ?? t.startOffset + t.image.length - 1) + 1);
}

export function syntaxDiagnostics(text: string, lines: LineIndex, result: ReturnType<typeof parseText>): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const e of result.lexErrors) {
    const ch = text.slice(e.offset, e.offset + e.length);
    out.push({
      severity: 'error',
      code: IssueCodes.UnexpectedCharacter,
      message: `unexpected character${ch.length > 1 ? 's' : ''} '${ch.length > 20 ? ch.slice(0, 20) + '…' : ch}'`,
      range: lines.range(e.offset, e.offset + Math.max(1, e.length)),
    });
  }
  for (const t of result.tokens)
    if (t.tokenType === T.UnterminatedString)
      out.push({ severity: 'error', code: IssueCodes.UnterminatedString, message: 'this string has no closing quote (")', range: tokenRange(lines, t), data: { insert: '"' } });
  for (const t of result.comments)
    if (t.tokenType === T.UnterminatedComment)
      out.push({ severity: 'error', code: IssueCodes.UnterminatedComment, message: "this comment has no closing '*/'", range: lines.range(t.startOffset, t.startOffset + 2) });

  if (result.tooDeep)
    out.push({
      severity: 'error',
      code: IssueCodes.SyntaxError,
      message: `this is nested more than ${MAX_NESTING} deep (or has more than ${MAX_OPERATORS} operators): the rest of the file is not checked`,
      range: tokenRange(lines, result.tooDeep),
    });
  const seen = new Set<string>();
  for (const e of result.parseErrors) {
    let range: Range;
    const tok = e.token;
    const prev = isEof(tok) ? result.tokens[result.tokens.length - 1] : previousToken(result.tokens, tok.startOffset);
    const onLaterLine = prev && !isEof(tok) && lines.position(tok.startOffset).line > lines.position(prev.endOffset ?? prev.startOffset).line;
    const pointsAtToken = e.message.startsWith('unexpected ') || e.name === 'NotAllInputParsedException';
    if ((isEof(tok) || onLaterLine) && prev && !pointsAtToken) {
      // The user stopped typing here: point just after the last token rather than at the
      // next line's (correct) statement.
      const end = (prev.endOffset ?? prev.startOffset) + 1;
      range = lines.range(prev.startOffset, end);
    } else if (isEof(tok)) range = lines.range(text.length, text.length);
    else range = tokenRange(lines, tok);
    const key = `${range.start.line}:${range.start.character}`;
    if (seen.has(key)) continue;
    seen.add(key);
    // A misspelt keyword ("parm") gets a "did you mean" and a quick fix.
    let message = e.message;
    let data: unknown;
    if (pointsAtToken && !isEof(tok) && tok.tokenType === T.Identifier) {
      const guess = closest(tok.image, Object.keys(T.KEYWORDS));
      if (guess) {
        message += `. Did you mean '${guess}'?`;
        data = { replacement: guess };
      }
    }
    out.push({ severity: 'error', code: IssueCodes.SyntaxError, message, range, ...(data ? { data } : {}) });
  }
  return out;
}

const PUNCT_OR_OP = new Set(['Plus', 'Minus', 'Star', 'Slash', 'Caret', 'LessEq', 'GreaterEq', 'EqEq', 'NotEq', 'Less', 'Greater', 'Equals', 'DotDot']);
const KEYWORD_SET = new Set(T.KEYWORD_TOKENS);

export function semanticTokens(lines: LineIndex, result: Pick<ReturnType<typeof parseText>, 'tokens' | 'comments'>, classes: Map<number | string, TokenKind>): SemanticToken[] {
  const all = result.comments.length ? [...result.tokens, ...result.comments].sort((a, b) => a.startOffset - b.startOffset) : result.tokens;
  const out: SemanticToken[] = [];
  for (const t of all) {
    const range = tokenRange(lines, t);
    const type = t.tokenType;
    let kind: TokenKind | undefined;
    if (type === T.LineComment || type === T.BlockComment || type === T.UnterminatedComment) kind = 'comment';
    else if (type === T.StringLit || type === T.UnterminatedString) kind = 'string';
    else if (type === T.NumberLit || type === T.DateLit || type === T.Duration) kind = 'number';
    else if (type === T.Identifier) kind = classes.get(positionKey(range.start.line, range.start.character)) ?? 'variable';
    else if (KEYWORD_SET.has(type)) kind = classes.get(positionKey(range.start.line, range.start.character)) ?? 'keyword';
    else if (PUNCT_OR_OP.has(type.name)) kind = 'operator';
    if (kind) out.push({ range, kind });
  }
  return out;
}

/** Longest message of a diagnostic: names in it are clipped first (checks.ts `shown`); this is the guarantee. */
export const MAX_MESSAGE_LENGTH = 500;
/** Largest quick-fix `data` kept (as JSON): a fix that would insert a megabyte is no fix. */
const MAX_DATA_JSON = 2000;

function clipText(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/**
 * Every diagnostic bounded in size, whatever the input: a megabyte-long name must not give a
 * megabyte-long message (or fix) to every editor that shows it.
 */
function bounded(d: Diagnostic): Diagnostic {
  let out = d;
  if (d.message.length > MAX_MESSAGE_LENGTH) out = { ...out, message: clipText(d.message, MAX_MESSAGE_LENGTH) };
  if (d.related?.some((r) => r.message.length > MAX_MESSAGE_LENGTH)) out = { ...out, related: d.related.map((r) => ({ ...r, message: clipText(r.message, MAX_MESSAGE_LENGTH) })) };
  if (d.data !== undefined && JSON.stringify(d.data).length > MAX_DATA_JSON) {
    out = { ...out };
    delete out.data;
  }
  return out;
}

function inside(r: Range, outer: Range): boolean {
  const a = r.start.line > outer.start.line || (r.start.line === outer.start.line && r.start.character >= outer.start.character);
  const b = r.start.line < outer.end.line || (r.start.line === outer.end.line && r.start.character <= outer.end.character);
  return a && b;
}

/**
 * Analyzes a document in one parse (grammar/incremental.ts does this for text that is not a
 * clean sequence of items). Total: any text gives a result, never an exception.
 */
export function analyzeWhole(text: string, options: AnalyzeOptions = {}): DocumentAnalysis {
  const lines = new LineIndex(text);
  return safely(lines, () => {
    const parsed = parseText(text);
    const diagnostics = syntaxDiagnostics(text, lines, parsed);
    const ast = cstToAst(parsed.cst, lines);
    const checked = checkFile(ast, options, lines);
    for (const d of checked.diagnostics) diagnostics.push(d);
    // Semantic tokens keep only the token lists, not the parse result: the CST (tens of
    // thousands of nodes on a long file) is garbage once the AST is built.
    let lexed: Pick<typeof parsed, 'tokens' | 'comments'> | undefined = { tokens: parsed.tokens, comments: parsed.comments };
    return finish(ast, diagnostics, checked.studies, checked.strategies, () => {
      const t = semanticTokens(lines, lexed!, checked.classes);
      lexed = undefined;
      return t;
    });
  });
}

/** Runs `analysis`, turning an internal error into a diagnostic (a server must keep answering). */
export function safely(lines: LineIndex, analysis: () => DocumentAnalysis): DocumentAnalysis {
  try {
    return analysis();
  } catch (e) {
    return {
      ast: { range: lines.fullRange, items: [] },
      diagnostics: [
        {
          severity: 'error',
          code: 'internal-error',
          message: `internal error while checking this file (please report it): ${clipText(e instanceof Error ? e.message : String(e), 300)}`,
          range: lines.range(0, 0),
        },
      ],
      studies: [],
      strategies: new Map(),
    };
  }
}

/**
 * The analysis of a document from its parts: findings bounded and in document order, each
 * study's `hasErrors`, and semantic tokens made on first use only (the CLI and the engine
 * never ask for them).
 */
export function finish(
  ast: DocumentAnalysis['ast'],
  diagnostics: Diagnostic[],
  studies: DocumentAnalysis['studies'],
  strategies: DocumentAnalysis['strategies'],
  makeTokens: () => SemanticToken[],
): DocumentAnalysis {
  for (let i = 0; i < diagnostics.length; i++) diagnostics[i] = bounded(diagnostics[i]!);
  diagnostics.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
  // Errors in document order (the sort above): whether one starts inside a range is one
  // binary search, not a scan of every error for every study.
  const errors = diagnostics.filter((d) => d.severity === 'error');
  const anyErrorIn = (r: Range): boolean => {
    let lo = 0;
    let hi = errors.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const p = errors[mid]!.range.start;
      if (p.line < r.start.line || (p.line === r.start.line && p.character < r.start.character)) lo = mid + 1;
      else hi = mid;
    }
    return lo < errors.length && inside(errors[lo]!.range, r);
  };
  const declRanges = new Map<string, Range>();
  for (const it of ast.items) if (it.kind === 'strategyDecl' && it.name && !declRanges.has(it.name.name)) declRanges.set(it.name.name, it.range);
  for (const s of studies) {
    const decl = s.strategy && strategies.get(s.strategy.name);
    s.hasErrors = anyErrorIn(s.range) || (!!decl && anyErrorIn(declRanges.get(s.strategy!.name) ?? s.range));
  }
  const result: DocumentAnalysis = { ast, diagnostics, studies, strategies };
  let tokens: SemanticToken[] | undefined;
  Object.defineProperty(result, 'tokens', { enumerable: true, configurable: true, get: () => (tokens ??= makeTokens()) });
  return result;
}
