/**
 * A small, total lexer of `.optstudy` text for the editor features that work on tokens rather
 * than on the syntax tree: the cursor context for completion, semantic tokens, formatting and
 * folding. It never throws and keeps comments and unknown characters as tokens, so half-typed
 * input (an unterminated string, a stray `@`) still gives every feature something to work on.
 * The grammar's Chevrotain lexer stays the authority for what parses; this one only has to
 * agree with it on token boundaries.
 */

export type TokenKind =
  | 'comment' // `// …` or `/* … */`
  | 'string' // `"…"`, possibly unterminated
  | 'number' // 12, 1.5e3, 0.1%, 30s, 2005-01-01
  | 'ident' // identifiers and keywords alike
  | 'punct' // { } [ ] ( ) , : = .. + - * / ^ < <= > >= == != %
  | 'unknown';

export interface Token {
  kind: TokenKind;
  text: string;
  /** Offset of the first character. */
  start: number;
  /** Offset after the last character. */
  end: number;
  line: number;
  character: number;
  /** Line of the last character (block comments and strings can span lines). */
  endLine: number;
  /** Blank-or-newline separation from the previous token: true when a newline lies between. */
  newlineBefore: boolean;
  /** True when whitespace (or nothing but a comment) separates it from the previous token. */
  spaceBefore: boolean;
}

const PUNCT2 = ['..', '<=', '>=', '==', '!='];
const PUNCT1 = '{}[](),:=+-*/^<>%;';

const isIdStart = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
const isIdPart = (c: string) => isIdStart(c) || (c >= '0' && c <= '9');
const isDigit = (c: string) => c >= '0' && c <= '9';

/** Splits `text` into tokens, comments included. Total: every character belongs to a token or to whitespace. */
export function lex(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 0;
  let lineStart = 0;
  let newline = true;
  let space = true;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      i++;
      line++;
      lineStart = i;
      newline = space = true;
    } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v' || c === '\u00a0' || c === '\ufeff') {
      i++;
      space = true;
    } else {
      const { kind, end } = scanToken(text, i);
      const token: Token = { kind, text: text.slice(i, end), start: i, end, line, character: i - lineStart, endLine: line, newlineBefore: newline, spaceBefore: space };
      // Only a block comment spans lines.
      if (kind === 'comment')
        for (let k = i; k < end; k++) if (text[k] === '\n') (line++, (lineStart = k + 1));
      token.endLine = line;
      tokens.push(token);
      newline = space = false;
      i = end;
    }
  }
  return tokens;
}

/** The token starting at i (not a blank): its kind and where it ends. */
function scanToken(text: string, i: number): { kind: TokenKind; end: number } {
  const c = text[i]!;
  if (c === '/' && text[i + 1] === '/') {
    const nl = text.indexOf('\n', i);
    return { kind: 'comment', end: nl < 0 ? text.length : nl };
  }
  if (c === '/' && text[i + 1] === '*') {
    const close = text.indexOf('*/', i + 2);
    return { kind: 'comment', end: close < 0 ? text.length : close + 2 };
  }
  if (c === '"') return { kind: 'string', end: stringEnd(text, i) };
  if (isDigit(c) || (c === '.' && isDigit(text[i + 1] ?? '') && text[i - 1] !== '.')) return { kind: 'number', end: numberEnd(text, i) };
  if (isIdStart(c)) {
    let k = i + 1;
    while (k < text.length && isIdPart(text[k]!)) k++;
    return { kind: 'ident', end: k };
  }
  if (PUNCT2.includes(text.slice(i, i + 2))) return { kind: 'punct', end: i + 2 };
  if (PUNCT1.includes(c)) return { kind: 'punct', end: i + 1 };
  // Anything else (a stray character, a non-ASCII letter): one token per character, so a
  // feature working on tokens still sees it and the formatter can refuse to touch the line.
  return { kind: 'unknown', end: i + 1 };
}

/** A string ends at its closing quote or, unclosed, at the line's end (escapes skipped). */
function stringEnd(text: string, i: number): number {
  const n = text.length;
  i++;
  while (i < n && text[i] !== '"' && text[i] !== '\n') {
    if (text[i] === '\\' && i + 1 < n && text[i + 1] !== '\n') i++;
    i++;
  }
  return text[i] === '"' ? i + 1 : i;
}

/** A date (2005-01-01, 2006-01-02T09:30[:00]) or a number with its exponent and glued unit (0.1%, 30s, 500ms, 2m, 1h). */
function numberEnd(text: string, i: number): number {
  const n = text.length;
  const date = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2})?)?/.exec(text.slice(i, i + 19));
  if (date) return i + date[0].length;
  while (i < n && isDigit(text[i]!)) i++;
  // A decimal point, but not the `..` of a range.
  if (text[i] === '.' && text[i + 1] !== '.') {
    i++;
    while (i < n && isDigit(text[i]!)) i++;
  }
  if ((text[i] === 'e' || text[i] === 'E') && /^[eE][+-]?\d/.test(text.slice(i, i + 3))) {
    i++;
    if (text[i] === '+' || text[i] === '-') i++;
    while (i < n && isDigit(text[i]!)) i++;
  }
  if (text[i] === '%') return i + 1;
  const unit = /^(ms|s|m|h)(?![A-Za-z0-9_])/.exec(text.slice(i, i + 3));
  return unit ? i + unit[0].length : i;
}

/** Index of the last token that starts before `offset` (−1 if none). Binary search. */
export function tokenIndexBefore(tokens: readonly Token[], offset: number): number {
  let lo = 0;
  let hi = tokens.length - 1;
  let ans = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (tokens[mid].start < offset) {
      ans = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return ans;
}

/**
 * The token under a cursor at `offset`: the one containing it, or the word that ends right at
 * it (a cursor just after `fast` is "on" `fast`). Words win over punctuation when both touch.
 */
export function tokenAt(tokens: readonly Token[], offset: number): Token | undefined {
  const i = tokenIndexBefore(tokens, offset + 1);
  if (i < 0) return undefined;
  const t = tokens[i];
  const touches = (k: Token) => offset >= k.start && offset <= k.end;
  const prev = i > 0 ? tokens[i - 1] : undefined;
  if (t.kind === 'punct' && prev && prev.kind !== 'punct' && prev.end === offset) return prev;
  if (touches(t)) return t;
  return undefined;
}
