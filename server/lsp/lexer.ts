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
  const n = text.length;
  const push = (kind: TokenKind, start: number, end: number, startLine: number, startCol: number) => {
    tokens.push({ kind, text: text.slice(start, end), start, end, line: startLine, character: startCol, endLine: line, newlineBefore: newline, spaceBefore: space });
    newline = false;
    space = false;
  };
  while (i < n) {
    const c = text[i];
    if (c === '\n') {
      i++;
      line++;
      lineStart = i;
      newline = true;
      space = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v' || c === '\u00a0' || c === '\ufeff') {
      i++;
      space = true;
      continue;
    }
    const start = i;
    const startLine = line;
    const startCol = i - lineStart;
    if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') i++;
      push('comment', start, i, startLine, startCol);
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      i += 2;
      while (i < n && !(text[i] === '*' && text[i + 1] === '/')) {
        if (text[i] === '\n') {
          line++;
          lineStart = i + 1;
        }
        i++;
      }
      i = Math.min(n, i + 2);
      push('comment', start, i, startLine, startCol);
      continue;
    }
    if (c === '"') {
      i++;
      while (i < n && text[i] !== '"' && text[i] !== '\n') {
        if (text[i] === '\\' && i + 1 < n && text[i + 1] !== '\n') i++;
        i++;
      }
      if (text[i] === '"') i++;
      push('string', start, i, startLine, startCol);
      continue;
    }
    if (isDigit(c) || (c === '.' && isDigit(text[i + 1] ?? '') && text[i - 1] !== '.')) {
      // Dates first: 2005-01-01, or a date and time 2006-01-02T09:30[:00].
      const date = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2})?)?/.exec(text.slice(i, i + 19));
      if (date) {
        i += date[0].length;
      } else {
        while (i < n && isDigit(text[i])) i++;
        // A decimal point, but not the `..` of a range.
        if (text[i] === '.' && text[i + 1] !== '.') {
          i++;
          while (i < n && isDigit(text[i])) i++;
        }
        if ((text[i] === 'e' || text[i] === 'E') && /^[eE][+-]?\d/.test(text.slice(i, i + 3))) {
          i++;
          if (text[i] === '+' || text[i] === '-') i++;
          while (i < n && isDigit(text[i])) i++;
        }
        // Units glued to a number: 0.1%, 30s, 500ms, 2m, 1h.
        if (text[i] === '%') i++;
        else {
          const unit = /^(ms|s|m|h)(?![A-Za-z0-9_])/.exec(text.slice(i, i + 3));
          if (unit) i += unit[0].length;
        }
      }
      push('number', start, i, startLine, startCol);
      continue;
    }
    if (isIdStart(c)) {
      while (i < n && isIdPart(text[i])) i++;
      push('ident', start, i, startLine, startCol);
      continue;
    }
    const two = text.slice(i, i + 2);
    if (PUNCT2.includes(two)) {
      i += 2;
      push('punct', start, i, startLine, startCol);
      continue;
    }
    if (PUNCT1.includes(c)) {
      i++;
      push('punct', start, i, startLine, startCol);
      continue;
    }
    // Anything else (a stray character, a non-ASCII letter): one token per character, so a
    // feature working on tokens still sees it and the formatter can refuse to touch the line.
    i += c.length;
    push('unknown', start, i, startLine, startCol);
  }
  return tokens;
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
