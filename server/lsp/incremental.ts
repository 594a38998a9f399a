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
import type { Token } from './lexer';

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

  analyze(text: string, tokens: readonly Token[]): DocumentAnalysis {
    const items = splitItems(text, tokens);
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

/**
 * The document's top-level items, or null when it is not a clean sequence of them (then the
 * caller analyzes the whole text at once).
 */
export function splitItems(text: string, tokens: readonly Token[]): Item[] | null {
  const items: Item[] = [];
  const names = new Set<string>();
  let i = 0;
  while (i < tokens.length) {
    const t = tokens[i];
    if (t.kind === 'comment') {
      if (t.text.startsWith('/*') && !t.text.endsWith('*/')) return null;
      i++;
      continue;
    }
    // An item starts a line: `study "name" {` or `strategy name (command|module) "…" {`.
    if (!(t.text === 'study' || t.text === 'strategy') || t.kind !== 'ident') return null;
    if (items.length && t.line <= items[items.length - 1].endLine) return null;
    if (text.slice(text.lastIndexOf('\n', t.start - 1) + 1, t.start).trim() !== '') return null;
    const nameTok = tokens[i + 1];
    if (!nameTok) return null;
    const name = `${t.text}:${nameTok.text}`;
    if (names.has(name)) return null; // duplicate names are a cross-item check
    names.add(name);
    let depth = 0;
    let j = i + 1;
    let opened = false;
    for (; j < tokens.length; j++) {
      const u = tokens[j];
      if (u.kind === 'string' && (u.text.length < 2 || !u.text.endsWith('"'))) return null;
      if (u.kind === 'comment' && u.text.startsWith('/*') && !u.text.endsWith('*/')) return null;
      if (u.kind === 'unknown') return null;
      if (u.text === '{') {
        depth++;
        opened = true;
      } else if (u.text === '}') {
        depth--;
        if (depth < 0) return null;
        if (depth === 0) break;
      } else if (!opened && (u.text === 'study' || u.text === 'strategy') && u.newlineBefore) return null;
    }
    if (j >= tokens.length || depth !== 0) return null;
    const last = tokens[j];
    // Nothing but comments may follow the closing brace on its line.
    const after = tokens[j + 1];
    if (after && after.line === last.endLine && after.kind !== 'comment') return null;
    items.push({ kind: t.text as 'study' | 'strategy', name: nameTok.text, start: t.start, end: last.end, startLine: t.line, endLine: last.endLine });
    i = j + 1;
  }
  return items;
}
