/**
 * Incremental analysis for the editor: a document is a sequence of top-level items (strategy
 * declarations and studies) whose checks are independent apart from (a) every study seeing
 * the declared strategies and (b) duplicate names across items. So each study is analyzed on
 * its own — in a text where every other line is blank except the strategy declarations, so
 * positions need no shifting — and cached by its text; after a keystroke only the edited
 * study is parsed again. Anything unusual (unbalanced braces, text between items, two items
 * on one line, a duplicate name, an unterminated string or comment) falls back to one full
 * analysis, so the result always equals `analyze(text)` up to the order of diagnostics
 * (checked by test/lsp/incremental.test.ts).
 */
import { analyze, type AnalyzeOptions, type Diagnostic, type DocumentAnalysis, type FileAst, type StudyModel } from '../../grammar/index';

interface Item {
  kind: 'study' | 'strategy';
  name: string;
  /** Token offsets of the item's text. */
  start: number;
  end: number;
  startLine: number;
  endLine: number;
}

interface ChunkResult {
  items: FileAst['items'];
  studies: StudyModel[];
  diagnostics: Diagnostic[];
  strategies: DocumentAnalysis['strategies'];
}

/** Keeps the per-item analyses of one document between versions. */
export class IncrementalAnalyzer {
  private cache = new Map<string, ChunkResult>();
  /** Analyses done on the last call (for tests and the benchmark's curiosity). */
  lastParsedChunks = 0;
  lastMode: 'incremental' | 'full' = 'full';

  constructor(private readonly options: AnalyzeOptions = {}) {}

  analyze(text: string): DocumentAnalysis {
    const items = splitItems(text);
    if (!items || items.length < 2) {
      this.lastMode = 'full';
      this.lastParsedChunks = 1;
      this.cache.clear();
      return analyze(text, this.options);
    }
    this.lastMode = 'incremental';
    this.lastParsedChunks = 0;
    const decls = items.filter((i) => i.kind === 'strategy');
    const declText = decls.map((d) => `${d.startLine}\u0000${text.slice(d.start, d.end)}`).join('\u0001');
    const next = new Map<string, ChunkResult>();
    const get = (key: string, regions: Item[], pick: Item | null): ChunkResult => {
      let r = this.cache.get(key) ?? next.get(key);
      if (!r) {
        r = this.run(text, regions, pick);
        this.lastParsedChunks++;
      }
      next.set(key, r);
      return r;
    };
    const declResult = decls.length ? get(`decls\u0002${declText}`, decls, null) : undefined;
    const merged: DocumentAnalysis = {
      ast: { range: { start: { line: 0, character: 0 }, end: endPosition(text) }, items: [] },
      diagnostics: [],
      studies: [],
      strategies: declResult?.strategies ?? new Map(),
    };
    for (const item of items) {
      if (item.kind === 'strategy') {
        const own = declResult!.items.filter((i) => i.range.start.line === item.startLine);
        merged.ast.items.push(...own);
        merged.diagnostics.push(...declResult!.diagnostics.filter((d) => d.range.start.line >= item.startLine && d.range.start.line <= item.endLine));
        continue;
      }
      const key = `${item.startLine}\u0000${text.slice(item.start, item.end)}\u0002${declText}`;
      const r = get(key, [...decls, item].sort((a, b) => a.start - b.start), item);
      merged.ast.items.push(...r.items);
      merged.studies.push(...r.studies);
      merged.diagnostics.push(...r.diagnostics);
    }
    this.cache = next;
    return merged;
  }

  /** Analyzes the text with only `regions` kept (other lines blank); keeps what belongs to `pick` (or the declarations). */
  private run(text: string, regions: Item[], pick: Item | null): ChunkResult {
    let masked = '';
    let line = 0;
    for (const r of regions) {
      masked += '\n'.repeat(Math.max(0, r.startLine - line)) + ' '.repeat(columnOf(text, r.start)) + text.slice(r.start, r.end);
      line = r.endLine;
    }
    const a = analyze(masked, this.options);
    if (!pick) {
      return { items: a.ast.items.filter((i) => i.kind === 'strategyDecl'), studies: [], diagnostics: a.diagnostics, strategies: a.strategies };
    }
    const inside = (l: number) => l >= pick.startLine && l <= pick.endLine;
    return {
      items: a.ast.items.filter((i) => i.kind === 'study' && inside(i.range.start.line)),
      studies: a.studies.filter((s) => inside(s.range.start.line)),
      diagnostics: a.diagnostics.filter((d) => inside(d.range.start.line)),
      strategies: a.strategies,
    };
  }
}

function columnOf(text: string, offset: number): number {
  const nl = text.lastIndexOf('\n', offset - 1);
  return offset - (nl + 1);
}

function endPosition(text: string) {
  const lines = text.split('\n');
  return { line: lines.length - 1, character: lines[lines.length - 1].length };
}

const isWordChar = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
/** Characters the language's lexer accepts outside strings and comments (anything else: full analysis). */
const ALLOWED = new Set([...'{}[](),:=+-*/^<>%;.!'].map((c) => c.charCodeAt(0)));

/**
 * The document's top-level items, or null when it is not a clean sequence of them (then the
 * caller analyzes the whole text at once). One allocation-free pass over the characters: on
 * a 5,000-line document it must cost far less than parsing the edited study.
 */
export function splitItems(text: string): Item[] | null {
  const items: Item[] = [];
  const names = new Set<string>();
  const n = text.length;
  let i = 0;
  let line = 0;
  let lineStart = 0;
  // Skips a comment at i (returns false if none); null when a block comment is unterminated.
  const skipComment = (): boolean | null => {
    if (text.charCodeAt(i) !== 47) return false;
    const next = text.charCodeAt(i + 1);
    if (next === 47) {
      while (i < n && text.charCodeAt(i) !== 10) i++;
      return true;
    }
    if (next === 42) {
      const close = text.indexOf('*/', i + 2);
      if (close < 0) return null;
      for (let k = i; k < close; k++) if (text.charCodeAt(k) === 10) {
        line++;
        lineStart = k + 1;
      }
      i = close + 2;
      return true;
    }
    return false;
  };
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (c === 32 || c === 9 || c === 13 || c === 0xfeff) {
      i++;
      continue;
    }
    const cm = skipComment();
    if (cm === null) return null;
    if (cm) continue;
    // An item starts a line: `study "name" {` or `strategy name … {`.
    if (text.slice(lineStart, i).trim() !== '') return null;
    const start = i;
    const startLine = line;
    while (i < n && isWordChar(text.charCodeAt(i))) i++;
    const word = text.slice(start, i);
    if (word !== 'study' && word !== 'strategy') return null;
    while (i < n && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
    const nameStart = i;
    if (text.charCodeAt(i) === 34) {
      const close = text.indexOf('"', i + 1);
      const nl = text.indexOf('\n', i + 1);
      if (close < 0 || (nl >= 0 && nl < close)) return null;
      i = close + 1;
    } else while (i < n && isWordChar(text.charCodeAt(i))) i++;
    const key = `${word}:${text.slice(nameStart, i)}`;
    if (i === nameStart || names.has(key)) return null; // duplicate names are a cross-item check
    names.add(key);
    let depth = 0;
    let end = -1;
    while (i < n) {
      const d = text.charCodeAt(i);
      if (d === 10) {
        if (depth === 0) return null; // a header spread over lines: leave it to the full analysis
        i++;
        line++;
        lineStart = i;
        continue;
      }
      if (d === 34) {
        let k = i + 1;
        while (k < n && text.charCodeAt(k) !== 34 && text.charCodeAt(k) !== 10) k += text.charCodeAt(k) === 92 ? 2 : 1;
        if (k >= n || text.charCodeAt(k) !== 34) return null;
        i = k + 1;
        continue;
      }
      const cm2 = skipComment();
      if (cm2 === null) return null;
      if (cm2) continue;
      if (d === 123) depth++;
      else if (d === 125) {
        depth--;
        if (depth === 0) {
          end = ++i;
          break;
        }
      } else if (!(d === 32 || d === 9 || d === 13 || isWordChar(d) || ALLOWED.has(d))) return null;
      i++;
    }
    if (end < 0) return null;
    const endLine = line;
    // Nothing but blanks and comments may follow the closing brace on its line.
    while (i < n && text.charCodeAt(i) !== 10) {
      const e = text.charCodeAt(i);
      if (e === 32 || e === 9 || e === 13) {
        i++;
        continue;
      }
      const cm3 = skipComment();
      if (cm3 === null) return null;
      if (!cm3) return null;
    }
    items.push({ kind: word, name: key, start, end, startLine, endLine });
  }
  return items;
}
