/**
 * Where the cursor is, syntactically: which block it is in (top level, a study, a stage, a
 * search's options, …) and which statement tokens precede it. Computed from tokens, not from
 * the syntax tree, because completion runs on half-typed text that the parser can only
 * partly recover (`param fa|` has no tree node yet, but its tokens say everything).
 */
import { tokenIndexBefore, type Token } from './lexer';

export type BlockKind =
  | 'top'
  | 'study'
  | 'stage'
  | 'strategy-decl' // `strategy name command "…" { … }` at top level
  | 'strategy-overrides' // `strategy name { param = value }` inside a study
  | 'search-options' // `search bayes { … }`
  | 'objectives' // `objectives { maximize a  minimize b }`
  | 'options' // another `keyword { key value, … }` block (early_stop, validate walkforward, …)
  | 'unknown';

export interface Block {
  kind: BlockKind;
  /** The keyword or name that qualifies the block: the search method, the options keyword, the strategy name. */
  detail?: string;
  /** Index of the `{` token (−1 for the top level). */
  open: number;
}

export interface CursorContext {
  /** Innermost block last. */
  blocks: Block[];
  block: Block;
  /** Tokens of the current statement before the cursor, without the word being typed and without comments. */
  statement: Token[];
  /** The word being typed (an identifier touching the cursor on its left), or ''. */
  prefix: string;
  /** Offset where the word being typed starts (= cursor offset when prefix is ''). */
  prefixStart: number;
  /** True when the cursor is inside a comment or a string (no completion there). */
  inCommentOrString: boolean;
  /** The enclosing study block's `{` index, if any. */
  studyOpen: number;
  /** The enclosing stage block's `{` index, if any. */
  stageOpen: number;
}

const OPTION_BLOCK_KEYWORDS = new Set(['early_stop', 'validate', 'walkforward', 'data', 'columns']);

/** Classifies the block a `{` at index `open` opens, from the few tokens before it. */
export function classifyBlock(tokens: readonly Token[], open: number, parent: BlockKind): Block {
  // Scan back over the block's header (same statement), at most a handful of tokens.
  const head: Token[] = [];
  // (A `data ["a", "b", …] from … to … {` header is longer: up to 40 tokens, on its line.)
  for (let j = open - 1; j >= 0 && head.length < 40; j--) {
    const t = tokens[j];
    if (t.kind === 'comment') continue;
    if (t.text === '{' || t.text === '}') break;
    head.unshift(t);
    if (t.newlineBefore) break;
  }
  const first = head[0]?.text;
  if (first === 'study') return { kind: 'study', open };
  if (first === 'stage') return { kind: 'stage', open };
  if (first === 'strategy') {
    const name = head[1]?.kind === 'ident' ? head[1].text : undefined;
    if (parent === 'top') return { kind: 'strategy-decl', detail: name, open };
    return { kind: 'strategy-overrides', detail: name, open };
  }
  if (first === 'search') return { kind: 'search-options', detail: head[1]?.text, open };
  if (first === 'objectives') return { kind: 'objectives', open };
  if (first && OPTION_BLOCK_KEYWORDS.has(first)) {
    const detail = first === 'validate' ? head[1]?.text ?? 'validate' : first;
    return { kind: 'options', detail, open };
  }
  return { kind: 'unknown', detail: first, open };
}

/** Operators after which a statement continues on the next line. */
const CONTINUES = new Set(['+', '-', '*', '/', '^', '<', '<=', '>', '>=', '==', '!=', '(', ',', 'and', 'or', 'not', '..', '=', ':', 'in', 'step', 'count']);

/**
 * The syntactic context at `offset`. O(tokens before the cursor) — a block stack walk —
 * which stays well under a millisecond on a 5,000-line study.
 */
export function cursorContext(tokens: readonly Token[], offset: number, text?: string, topLevel?: readonly number[]): CursorContext {
  const at = atCursor(tokens, offset);
  const blocks = openBlocks(tokens, walkStart(topLevel, at.last), at.last);
  const block = blocks[blocks.length - 1];
  const statement = statementBefore(tokens, at.last, block);
  // A cursor (or a word being typed) on a fresh line after a complete statement starts a new one.
  if (statement.length > 0) {
    const lastTok = statement[statement.length - 1];
    const fresh = at.typed !== undefined && at.typed.start < offset ? at.typed.newlineBefore : at.prefix === '' && text !== undefined && text.slice(lastTok.end, offset).includes('\n');
    if (fresh && !CONTINUES.has(lastTok.text)) statement.length = 0;
  }
  // Inside `objectives { maximize a minimize b }` each objective is its own statement.
  if (block.kind === 'objectives') {
    let k = statement.length - 1;
    while (k >= 0 && statement[k].text !== 'maximize' && statement[k].text !== 'minimize') k--;
    if (k > 0) statement.splice(0, k);
  }
  const studyOpen = [...blocks].reverse().find((b) => b.kind === 'study')?.open ?? -1;
  const stageOpen = [...blocks].reverse().find((b) => b.kind === 'stage')?.open ?? -1;
  const { prefix, prefixStart, inCommentOrString } = at;
  return { blocks, block, statement, prefix, prefixStart, inCommentOrString, studyOpen, stageOpen };
}

/** What the token at the cursor says: a comment or string around it, or a word being typed. */
interface AtCursor {
  /** The last token before the cursor that is not the word or number being typed (−1: none). */
  last: number;
  /** The word being typed at the cursor (its token), if any. */
  typed?: Token;
  prefix: string;
  prefixStart: number;
  inCommentOrString: boolean;
}

function atCursor(tokens: readonly Token[], offset: number): AtCursor {
  const at: AtCursor = { last: tokenIndexBefore(tokens, offset), prefix: '', prefixStart: offset, inCommentOrString: false };
  if (at.last < 0) return at;
  const t = tokens[at.last];
  if ((t.kind === 'comment' || t.kind === 'string') && offset < t.end) at.inCommentOrString = true;
  // An unterminated string or a line comment runs to the end of its line.
  else if (t.kind === 'comment' && t.text.startsWith('//') && offset === t.end) at.inCommentOrString = true;
  else if (t.kind === 'string' && offset === t.end && (t.text.length === 1 || !t.text.endsWith('"'))) at.inCommentOrString = true;
  else if (t.kind === 'ident' && offset <= t.end) {
    at.prefix = t.text.slice(0, offset - t.start);
    at.prefixStart = t.start;
    at.typed = t;
    at.last--;
  } else if (t.kind === 'number' && offset <= t.end) {
    // Typing a number: nothing to complete, but keep the context sane.
    at.prefixStart = t.start;
    at.last--;
  }
  return at;
}

/** Where the block walk may start: the last token outside every block at or before `last` (a hint from the document), else 0. */
function walkStart(topLevel: readonly number[] | undefined, last: number): number {
  let from = 0;
  if (!topLevel || !topLevel.length) return from;
  let lo = 0;
  let hi = topLevel.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (topLevel[mid] <= last) {
      from = topLevel[mid];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return from;
}

/** The blocks open after token `last`, the top level first (the walk starts outside every block, at `from`). */
function openBlocks(tokens: readonly Token[], from: number, last: number): Block[] {
  const blocks: Block[] = [{ kind: 'top', open: -1 }];
  for (let i = from; i <= last; i++) {
    const t = tokens[i];
    if (t.kind !== 'punct') continue;
    if (t.text === '{') blocks.push(classifyBlock(tokens, i, blocks[blocks.length - 1].kind));
    else if (t.text === '}' && blocks.length > 1) blocks.pop();
  }
  return blocks;
}

/**
 * The statement that token `last` ends: back to the block's `{`, a `,` (option lists), or
 * the first token of a line that does not continue the previous line; comments left out.
 */
function statementBefore(tokens: readonly Token[], last: number, block: Block): Token[] {
  // Collected backwards, then reversed (unshift would make a megabyte-long statement quadratic).
  const statement: Token[] = [];
  for (let j = last; j > block.open; j--) {
    const t = tokens[j];
    if (t.kind === 'comment') continue;
    if (t.text === '}' || t.text === '{') break;
    if (t.text === ',' && (block.kind === 'search-options' || block.kind === 'options' || block.kind === 'strategy-overrides')) break;
    statement.push(t);
    if (t.newlineBefore) {
      let k = j - 1;
      while (k > block.open && tokens[k].kind === 'comment') k--;
      const prev = k > block.open ? tokens[k] : undefined;
      if (!prev || !CONTINUES.has(prev.text)) break;
      // A statement keyword at the start of a line begins a new statement even after a dangling operator.
      if (STATEMENT_STARTERS.has(t.text)) break;
    }
  }
  return statement.reverse();
}

/**
 * Indexes of the tokens that stand outside every block (brace depth 0 before them), so a
 * cursor's block stack can be rebuilt from the enclosing top-level item instead of the file's start.
 */
export function topLevelIndices(tokens: readonly Token[]): number[] {
  const out: number[] = [];
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    if (depth === 0) out.push(i);
    const t = tokens[i].text;
    if (tokens[i].kind !== 'punct') continue;
    if (t === '{') depth++;
    else if (t === '}' && depth > 0) depth--;
  }
  return out;
}

/** Keywords that begin a statement in some block. */
export const STATEMENT_STARTERS = new Set([
  'study', 'strategy', 'data', 'cash', 'commission', 'sizing', 'objective', 'objectives', 'constraint', 'stage',
  'workers', 'seed', 'timeout', 'retries', 'search', 'param', 'where', 'early_stop', 'validate', 'executor', 'warm_start',
]);
