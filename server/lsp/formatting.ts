/**
 * Formatting to one canonical layout: two-space indentation by nesting, single spaces between
 * tokens (none before `,` `:` `)` `]`, none inside `( [`), at most one blank line in a row,
 * no blank line just inside braces, no trailing whitespace, one final newline. Line breaks
 * are the user's: statements stay on the lines they were written on, so nothing is reflowed
 * and comments keep their place.
 *
 * Safety: the result is lexed again and must have exactly the same tokens (comments included)
 * as the input; if not — or if the input has characters the lexer does not know — no edit is
 * returned. Formatting can therefore never lose or change a comment or a token.
 */
import { lex, type Token } from './lexer';

export interface FormattingOptions {
  tabSize?: number;
  insertSpaces?: boolean;
}

/** The functions of the expression language: `max(`, not `max (`. */
const FUNCTIONS = new Set(['min', 'max', 'abs', 'log', 'exp', 'sqrt']);
/** Words after which `-` and `+` are signs (`in -5 .. 5`, `maximize -max_drawdown`). */
const SIGN_AFTER = new Set(['in', 'step', 'count', 'maximize', 'minimize', 'where', 'constraint', 'and', 'or', 'not', 'cash', 'seed', 'from', 'to', 'kappa', 'xi', 'sigma', 'mutation', 'crossover', 'min_delta']);
const OPENERS = new Set(['{', '[', '(']);
const CLOSERS = new Set(['}', ']', ')']);
const BINARY_AFTER_VALUE = (t: Token) => t.kind === 'number' || t.kind === 'string' || (t.kind === 'ident' && !SIGN_AFTER.has(t.text)) || t.text === ')' || t.text === ']';
/** Line endings after which the next line continues the same statement (one more indent). */
const CONTINUATION = new Set(['+', '-', '*', '/', '^', '<', '<=', '>', '>=', '==', '!=', 'and', 'or', 'not', '..', '=', ':', 'in', 'step', 'count']);

/** The canonical text of `text`, or null when it cannot be formatted safely. */
export function formatText(text: string, options: FormattingOptions = {}): string | null {
  const tokens = lex(text);
  if (tokens.some((t) => t.kind === 'unknown' || (t.kind === 'string' && (t.text.length < 2 || !t.text.endsWith('"'))) || (t.kind === 'comment' && t.text.startsWith('/*') && !t.text.endsWith('*/')))) {
    return null;
  }
  const unit = options.insertSpaces === false ? '\t' : ' '.repeat(Math.max(1, Math.min(8, options.tabSize ?? 2)));
  // Group tokens by the source line they start on (a multi-line comment keeps its group).
  const groups: Token[][] = [];
  for (const t of tokens) {
    if (t.newlineBefore || groups.length === 0) groups.push([t]);
    else groups[groups.length - 1].push(t);
  }
  const out: string[] = [];
  let depth = 0;
  let prevGroup: Token[] | undefined;
  for (const g of groups) {
    const first = g[0];
    let lineDepth = depth;
    // Closers at the start of a line dedent that line.
    let k = 0;
    while (k < g.length && CLOSERS.has(g[k].text)) {
      lineDepth--;
      k++;
    }
    const lastPrev = prevGroup ? lastCode(prevGroup) : undefined;
    if (lastPrev && CONTINUATION.has(lastPrev.text) && !CLOSERS.has(first.text)) lineDepth++;
    lineDepth = Math.max(0, lineDepth);
    if (prevGroup) {
      const gap = first.line - prevGroup[prevGroup.length - 1].endLine;
      const afterOpen = lastPrev !== undefined && lastPrev === prevGroup[prevGroup.length - 1] && lastPrev.text === '{';
      if (gap > 1 && !afterOpen && first.text !== '}') out.push('');
    }
    out.push(unit.repeat(lineDepth) + joinLine(text, g));
    for (const t of g) {
      if (OPENERS.has(t.text)) depth++;
      else if (CLOSERS.has(t.text)) depth = Math.max(0, depth - 1);
    }
    prevGroup = g;
  }
  const result = out.length ? out.join('\n') + '\n' : '';
  // The guarantee: same tokens, same order, same text.
  const again = lex(result);
  if (again.length !== tokens.length) return null;
  for (let i = 0; i < tokens.length; i++) {
    if (again[i].kind !== tokens[i].kind || again[i].text !== tokens[i].text) return null;
  }
  return result;
}

function lastCode(g: Token[]): Token | undefined {
  for (let i = g.length - 1; i >= 0; i--) if (g[i].kind !== 'comment') return g[i];
  return undefined;
}

/** One source line's tokens joined with canonical spacing. */
function joinLine(text: string, g: Token[]): string {
  let s = g[0].text;
  for (let i = 1; i < g.length; i++) {
    const a = g[i - 1];
    const b = g[i];
    let sep = ' ';
    if (b.kind === 'comment' && b.text.startsWith('//')) {
      // Keep the user's alignment of trailing comments (at least one space).
      const ws = text.slice(a.end, b.start);
      sep = ws.length > 0 && !ws.includes('\t') ? ws : ' ';
    } else if (b.text === ',' || b.text === ':' || b.text === ')' || b.text === ']' || b.text === ';' || b.text === '%') sep = '';
    else if (a.text === '(' || a.text === '[') sep = '';
    else if (b.text === '(' && a.kind === 'ident' && (FUNCTIONS.has(a.text) || !b.spaceBefore)) sep = '';
    else if ((a.text === '-' || a.text === '+') && !b.spaceBefore && isSign(g, i - 1)) sep = '';
    s += sep + b.text;
  }
  return s;
}

/** Whether the `-`/`+` at index `i` of a line is a sign rather than a binary operator. */
function isSign(g: Token[], i: number): boolean {
  if (i === 0) return true;
  const before = g[i - 1];
  if (before.kind === 'comment') return true;
  return !BINARY_AFTER_VALUE(before);
}
