/**
 * Semantic tokens: one pass over the LSP lexer's tokens with the block stack, classifying
 * identifiers by where they stand — a strategy after `strategy`, a parameter after `param`,
 * a search method after `search`, an option key in an option block, a function before `(`,
 * a metric in an objective or constraint — so highlighting is right even where the TextMate
 * grammar cannot know (a parameter named like a metric, a half-typed study).
 */
import { EXPR_FUNCTIONS, findMetric, findSearchMethod } from '../../grammar/index';
import { classifyBlock, STATEMENT_STARTERS, type Block } from './cursor-context';
import type { ParsedDocument } from './document';
import type { Token } from './lexer';

/** The legend the server announces (indexes are the encoded token types). */
export const SEMANTIC_TOKEN_TYPES = ['keyword', 'string', 'number', 'comment', 'operator', 'class', 'parameter', 'variable', 'function', 'enumMember', 'property', 'type'] as const;
export const SEMANTIC_TOKEN_MODIFIERS = ['declaration', 'readonly', 'defaultLibrary'] as const;

type TokenType = (typeof SEMANTIC_TOKEN_TYPES)[number];
const T = Object.fromEntries(SEMANTIC_TOKEN_TYPES.map((t, i) => [t, i])) as Record<TokenType, number>;
const DECLARATION = 1;
const READONLY = 2;
const DEFAULT_LIBRARY = 4;

/** Words that are keywords wherever they stand (beyond the statement starters). */
const KEYWORDS = new Set([
  ...STATEMENT_STARTERS, 'in', 'step', 'count', 'log', 'from', 'to', 'command', 'module', 'maximize', 'minimize', 'and', 'or', 'not',
  'percent', 'fixed', 'holdout', 'walkforward', 'redis', 'true', 'false',
]);
const TYPES = new Set(['int', 'float', 'string', 'bool']);

export interface ClassifiedToken {
  token: Token;
  type: TokenType;
  modifiers: number;
}

/** Classifies every token worth colouring. */
export function classifyTokens(doc: ParsedDocument): ClassifiedToken[] {
  const tokens = doc.tokens;
  const out: ClassifiedToken[] = [];
  const blocks: Block[] = [{ kind: 'top', open: -1 }];
  let head: string | undefined; // first token of the current statement
  let prevCode: Token | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const block = blocks[blocks.length - 1];
    if (t.kind === 'comment') {
      out.push({ token: t, type: 'comment', modifiers: 0 });
      continue;
    }
    const startsStatement = !prevCode || prevCode.text === '{' || prevCode.text === '}' || prevCode.text === ',' || (t.newlineBefore && STATEMENT_STARTERS.has(t.text)) || ((block.kind === 'objectives') && (t.text === 'maximize' || t.text === 'minimize'));
    if (startsStatement) head = t.text;
    const prev = prevCode?.text;
    prevCode = t;
    switch (t.kind) {
      case 'string':
        out.push({ token: t, type: 'string', modifiers: 0 });
        continue;
      case 'number':
        out.push({ token: t, type: 'number', modifiers: 0 });
        continue;
      case 'punct':
        if (t.text === '{') blocks.push(classifyBlock(tokens, i, block.kind));
        else if (t.text === '}') {
          if (blocks.length > 1) blocks.pop();
        } else if (!'()[],:;'.includes(t.text)) out.push({ token: t, type: 'operator', modifiers: 0 });
        continue;
      case 'ident':
        break;
      default:
        continue;
    }
    const w = t.text;
    const next = tokens[i + 1];
    if (prev === 'strategy' && w !== 'module' && w !== 'command') {
      out.push({ token: t, type: 'class', modifiers: block.kind === 'top' ? DECLARATION : 0 });
    } else if (prev === 'param' && (block.kind === 'stage' || block.kind === 'strategy-decl')) {
      out.push({ token: t, type: 'parameter', modifiers: block.kind === 'strategy-decl' ? DECLARATION : 0 });
    } else if (prev === 'search' && findSearchMethod(w)) {
      out.push({ token: t, type: 'enumMember', modifiers: DEFAULT_LIBRARY });
    } else if ((block.kind === 'search-options' || block.kind === 'options') && startsStatement) {
      out.push({ token: t, type: 'property', modifiers: 0 });
    } else if (block.kind === 'strategy-overrides' && startsStatement) {
      out.push({ token: t, type: 'parameter', modifiers: 0 });
    } else if (prev === ':' && TYPES.has(w)) {
      out.push({ token: t, type: 'type', modifiers: DEFAULT_LIBRARY });
    } else if (EXPR_FUNCTIONS[w] && next?.text === '(') {
      out.push({ token: t, type: 'function', modifiers: DEFAULT_LIBRARY });
    } else if (KEYWORDS.has(w)) {
      out.push({ token: t, type: 'keyword', modifiers: 0 });
    } else if (block.kind === 'search-options') {
      out.push({ token: t, type: 'enumMember', modifiers: 0 });
    } else if (head === 'where') {
      out.push({ token: t, type: 'parameter', modifiers: 0 });
    } else if (findMetric(w)) {
      out.push({ token: t, type: 'variable', modifiers: READONLY | DEFAULT_LIBRARY });
    } else {
      out.push({ token: t, type: 'variable', modifiers: 0 });
    }
  }
  return out;
}

/** The LSP encoding (relative line/char, length, type, modifiers), multi-line tokens split per line. */
export function computeSemanticTokens(doc: ParsedDocument): number[] {
  const data: number[] = [];
  let lastLine = 0;
  let lastChar = 0;
  const emit = (line: number, char: number, length: number, type: number, mods: number) => {
    if (length <= 0) return;
    data.push(line - lastLine, line === lastLine ? char - lastChar : char, length, type, mods);
    lastLine = line;
    lastChar = char;
  };
  for (const c of classifyTokens(doc)) {
    const t = c.token;
    if (t.endLine === t.line) {
      emit(t.line, t.character, t.end - t.start, T[c.type], c.modifiers);
      continue;
    }
    // A block comment over several lines: one token per line (clients need not support multiline tokens).
    const parts = t.text.split('\n');
    parts.forEach((part, k) => emit(t.line + k, k === 0 ? t.character : 0, part.replace(/\r$/, '').length, T[c.type], c.modifiers));
  }
  return data;
}
