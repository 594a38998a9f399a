/**
 * One analyzed document: the grammar's analysis plus what the editor features need on top of
 * it (the LSP lexer's tokens, a line index), computed once per document version.
 */
import { analyze, type AnalyzeOptions, type Analyzer, type DocumentAnalysis, type Position, type Range } from '../../grammar/index';
import { topLevelIndices } from './cursor-context';
import { lex, type Token } from './lexer';

/** Converts between offsets and 0-based line/character positions of one text. */
export class LineIndex {
  private readonly starts: number[] = [0];
  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.starts.push(i + 1);
  }
  get lineCount(): number {
    return this.starts.length;
  }
  offsetAt(p: Position): number {
    if (p.line < 0) return 0;
    if (p.line >= this.starts.length) return this.text.length;
    const start = this.starts[p.line];
    const end = p.line + 1 < this.starts.length ? this.starts[p.line + 1] - 1 : this.text.length;
    return Math.max(start, Math.min(end, start + Math.max(0, p.character)));
  }
  positionAt(offset: number): Position {
    const o = Math.max(0, Math.min(this.text.length, offset));
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: o - this.starts[lo] };
  }
  lineText(line: number): string {
    if (line < 0 || line >= this.starts.length) return '';
    const end = line + 1 < this.starts.length ? this.starts[line + 1] - 1 : this.text.length;
    return this.text.slice(this.starts[line], end).replace(/\r$/, '');
  }
}

/** A document analyzed once, shared by every feature for its version. */
export class ParsedDocument {
  private tokensCache?: Token[];
  private linesCache?: LineIndex;
  private topLevelCache?: number[];
  constructor(
    readonly uri: string,
    readonly version: number,
    readonly text: string,
    readonly analysis: DocumentAnalysis,
    /** The study file's path on disk, when the URI is a `file:` URI. */
    readonly filePath: string | null,
    tokens?: Token[],
  ) {
    this.tokensCache = tokens;
  }
  /** The LSP lexer's tokens (comments included), computed on first use. */
  get tokens(): Token[] {
    return (this.tokensCache ??= lex(this.text));
  }
  /** Indexes of the tokens outside every block (for fast cursor contexts). */
  get topLevel(): number[] {
    return (this.topLevelCache ??= topLevelIndices(this.tokens));
  }
  get lines(): LineIndex {
    return (this.linesCache ??= new LineIndex(this.text));
  }
  offsetAt(p: Position): number {
    return this.lines.offsetAt(p);
  }
  positionAt(offset: number): Position {
    return this.lines.positionAt(offset);
  }
}

/**
 * Analyzes `text` (the pure entry point every feature starts from). With an `Analyzer` kept
 * for the document (grammar/incremental.ts) only what changed since its last call is parsed
 * and checked again.
 */
export function parseDocument(text: string, uri = 'file:///test/study.optstudy', version = 1, options: AnalyzeOptions = {}, analyzer?: Analyzer): ParsedDocument {
  // Tokens are lexed on first use: diagnostics do not need them.
  const analysis = analyzer ? analyzer.analyze(text) : analyze(text, options);
  return new ParsedDocument(uri, version, text, analysis, filePathOf(uri));
}

/** The file system path of a `file:` URI, else null. */
export function filePathOf(uri: string): string | null {
  if (!uri.startsWith('file://')) return null;
  try {
    const u = new URL(uri);
    let p = decodeURIComponent(u.pathname);
    if (/^\/[A-Za-z]:\//.test(p)) p = p.slice(1);
    return p;
  } catch {
    return null;
  }
}

/** True when position `p` lies in `r` (end inclusive, so a cursor right after a word counts). */
export function contains(r: Range, p: Position): boolean {
  if (p.line < r.start.line || p.line > r.end.line) return false;
  if (p.line === r.start.line && p.character < r.start.character) return false;
  if (p.line === r.end.line && p.character > r.end.character) return false;
  return true;
}

/** Compares two positions. */
export function comparePos(a: Position, b: Position): number {
  return a.line - b.line || a.character - b.character;
}

/** Splits a text with one `<|>` marker into the text and the marker's position. */
export function withCursor(marked: string): { text: string; position: Position; offset: number } {
  const offset = marked.indexOf('<|>');
  if (offset < 0) throw new Error('no <|> cursor marker');
  const text = marked.slice(0, offset) + marked.slice(offset + 3);
  return { text, offset, position: new LineIndex(text).positionAt(offset) };
}
