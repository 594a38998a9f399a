/**
 * Analysis by parts, for the editor's keystrokes and for everyone else alike. A document that
 * is a clean sequence of top-level items (strategy declarations and studies, each closing on
 * its own line) is analyzed item by item; a study whose header and closing brace stand on
 * their own lines is parsed one part at a time — a part being a line that begins a study
 * statement (`data`, `stage`, `constraint`, … as the parser defines them) and the lines up to
 * the next one — and each stage's own checks (its grid size above all) are kept with its part.
 *
 * An `Analyzer` kept between versions of a document parses again only the parts whose text
 * changed and checks again only the studies that did; an unchanged part that moved (lines
 * inserted above it) has its positions moved instead. `analyze(text)` is a fresh `Analyzer`,
 * so the editor's result is the CLI's by construction. Text that is not a clean sequence of
 * items (unbalanced braces, a duplicate name, …) is analyzed in one parse.
 *
 * A new study statement needs nothing here: the statement keywords come from the parser.
 */
import type { IToken, TokenType } from 'chevrotain';
import { analyzeWhole, finish, safely, semanticTokens, syntaxDiagnostics } from './analyze';
import { checkDeclarations, checkStudy, classMap, type StageCheck, type TokenClass } from './checks';
import { cstToAst, stringValue, studyPartToAst } from './cst-to-ast';
import type { AnalyzeOptions, Diagnostic, DocumentAnalysis, FileAst, Position, StageAst, StrategyDeclAst, StudyAst, StudyModel, StudyStatementAst } from './model';
import { getParser, parseStudyPart, parseText, type ParseResult } from './parser';
import { LineIndex } from './positions';
import * as T from './tokens';

/** Analyzes one document. Total: any text gives a result, never an exception. */
export function analyze(text: string, options: AnalyzeOptions = {}): DocumentAnalysis {
  return new Analyzer(options).analyze(text);
}

/** A part of a study: whole lines, from a line that begins a statement to the next such line. */
interface Part {
  text: string;
  /** The document line it starts on (its positions are the document's). */
  base: number;
  /** Every position it holds, once: moving the part is a loop over these. */
  positions: Position[];
  statements: StudyStatementAst[];
  syntax: Diagnostic[];
  /** Its stages' own checks (by their order in the part), by what they depend on outside the part. */
  stageChecks: Map<string, StageCheck[]>;
}

/** A top-level item as last analyzed. */
interface Entry {
  kind: 'study' | 'strategy';
  base: number;
  /** The positions it holds that its parts do not (its header, a whole-parsed item's tree). */
  positions: Position[];
  ast: StudyAst | StrategyDeclAst | undefined;
  /** Syntax findings of an item parsed whole (a parted study keeps them in its parts). */
  syntax: Diagnostic[];
  parts: Part[];
  check?: { context: string; study: StudyModel; diagnostics: Diagnostic[]; classes: TokenClass[] };
}

/** Analyzes versions of one document, keeping what an edit did not touch. */
export class Analyzer {
  private entries = new Map<string, Entry>();
  /** On the last call: 'parts' when analyzed by parts, 'whole' when in one parse. */
  lastMode: 'parts' | 'whole' = 'whole';
  /** On the last call: items and parts parsed (not reused). */
  lastParsed = 0;
  /** On the last call: stages whose own checks ran (not reused). */
  lastCheckedStages = 0;

  constructor(private readonly options: AnalyzeOptions = {}) {}

  analyze(text: string): DocumentAnalysis {
    const lines = new LineIndex(text);
    return safely(lines, () => {
      const items = splitItems(text);
      if (!items) {
        this.entries.clear();
        this.lastMode = 'whole';
        this.lastParsed = 1;
        this.lastCheckedStages = 0;
        return analyzeWhole(text, this.options);
      }
      return this.byParts(text, lines, items);
    });
  }

  private byParts(text: string, lines: LineIndex, items: Item[]): DocumentAnalysis {
    this.lastMode = 'parts';
    this.lastParsed = 0;
    this.lastCheckedStages = 0;
    const previous = this.entries;
    const next = new Map<string, Entry>();
    const seen = new Map<string, number>();
    const keyed = items.map((item) => {
      const itemText = text.slice(lineStart(text, item.start), item.end);
      const n = seen.get(itemText) ?? 0;
      seen.set(itemText, n + 1);
      const key = `${n}\u0001${itemText}`;
      const hit = previous.get(key);
      if (hit) previous.delete(key);
      return { item, key, hit };
    });
    // Parts of the items that changed, to be found again by their text.
    const pool = new Map<string, Part[]>();
    for (const e of previous.values()) for (const p of e.parts) (pool.get(p.text) ?? pool.set(p.text, []).get(p.text)!).push(p);

    const entryOf = (k: (typeof keyed)[number]): Entry => {
      let e = k.hit;
      if (!e) e = this.parseItem(text, lines, k.item, pool);
      next.set(k.key, e);
      return e;
    };
    // Declarations first: every study depends on them.
    const declEntries = keyed.filter((k) => k.item.kind === 'strategy').map((k) => {
      const e = entryOf(k);
      move(e, k.item.startLine);
      return e;
    });
    const declAst: FileAst = { range: lines.fullRange, items: declEntries.map((e) => e.ast).filter((a): a is StrategyDeclAst => !!a) };
    const decls = checkDeclarations(declAst, this.options);
    const context = JSON.stringify([...decls.strategies]);

    const astItems: FileAst['items'] = [];
    const studies: StudyModel[] = [];
    const diagnostics: Diagnostic[] = decls.diagnostics.slice();
    const classes: TokenClass[][] = [decls.classes];
    for (const k of keyed) {
      const e = k.item.kind === 'strategy' ? next.get(k.key)! : entryOf(k);
      if (k.item.kind === 'study') {
        // A check made against other declarations, or before the study moved, is made again:
        // it holds positions of other items (a declared module's path), which stay where they are.
        if (e.check && (e.check.context !== context || e.base !== k.item.startLine)) e.check = undefined;
        move(e, k.item.startLine);
        if (!e.check && e.ast?.kind === 'study') e.check = { context, ...this.checkStudy(e, decls.strategies, lines) };
      }
      if (e.ast) astItems.push(e.ast);
      push(diagnostics, e.syntax);
      for (const p of e.parts) push(diagnostics, p.syntax);
      if (e.check) {
        studies.push(e.check.study);
        push(diagnostics, e.check.diagnostics);
        classes.push(e.check.classes);
      }
    }
    this.entries = next;
    const ast: FileAst = { range: lines.fullRange, items: astItems };
    return finish(ast, diagnostics, studies, decls.strategies, () => semanticTokens(lines, lexWhole(text), classMap(classes.flat())));
  }

  /** The checks of a study, its stages' own checks kept in their parts. */
  private checkStudy(e: Entry, strategies: DocumentAnalysis['strategies'], lines: LineIndex) {
    const owner = new Map<StageAst, { part: Part; index: number }>();
    for (const p of e.parts) {
      let index = 0;
      for (const st of p.statements) if (st.kind === 'stage') owner.set(st, { part: p, index: index++ });
    }
    const cache = (st: StageAst, context: string, compute: () => StageCheck): StageCheck => {
      const o = owner.get(st);
      let checks = o?.part.stageChecks.get(context);
      let c = checks?.[o!.index];
      if (!c) {
        c = compute();
        this.lastCheckedStages++;
        if (o) {
          if (!checks) {
            // Checks against other strategies are rarely worth keeping.
            if (o.part.stageChecks.size >= 4) o.part.stageChecks.clear();
            o.part.stageChecks.set(context, (checks = []));
          }
          checks[o.index] = c;
        }
      }
      return c;
    };
    return checkStudy(e.ast as StudyAst, strategies, this.options, lines, cache);
  }

  /** Parses an item that changed: a study by parts when it can be, anything else whole. */
  private parseItem(text: string, lines: LineIndex, item: Item, pool: Map<string, Part[]>): Entry {
    if (item.kind === 'study') {
      const layout = studyLayout(text, item);
      const head = layout && studyHead(text, lines, item, layout.headerEnd);
      if (layout && head) {
        const parts = layout.parts.map((p) => {
          const partText = text.slice(p.start, p.end);
          const reused = pool.get(partText)?.pop();
          if (reused) {
            shift(reused.positions, p.line - reused.base);
            reused.base = p.line;
            return reused;
          }
          this.lastParsed++;
          return parsePart(partText, p.line);
        });
        const statements: StudyStatementAst[] = [];
        for (const p of parts) push(statements, p.statements);
        const range = { start: lines.position(item.start), end: lines.position(item.end) };
        const ast: StudyAst = { kind: 'study', range, headRange: head.headRange, name: head.name, statements, complete: true };
        return { kind: 'study', base: item.startLine, ast, syntax: [], parts, positions: [range.start, range.end, ...head.positions] };
      }
    }
    this.lastParsed++;
    const start = lineStart(text, item.start);
    const itemText = text.slice(start, item.end);
    const parsed = parseText(itemText);
    const positions: Position[] = [];
    const li = new LineIndex(itemText, item.startLine, positions);
    const ast = cstToAst(parsed.cst, li).items[0];
    const syntax = syntaxDiagnostics(itemText, li, parsed);
    return { kind: item.kind, base: item.startLine, ast, syntax, parts: [], positions };
  }
}

/**
 * Parses a part. Every position in it is made by its own line index, which lists them: moving
 * the part is a loop over that list (its stages' own checks hold no other positions).
 */
function parsePart(text: string, line: number): Part {
  const parsed = parseStudyPart(text);
  const positions: Position[] = [];
  const li = new LineIndex(text, line, positions);
  return { text, base: line, positions, statements: studyPartToAst(parsed.cst, li), syntax: syntaxDiagnostics(text, li, parsed), stageChecks: new Map() };
}

/** Moves an entry and its parts to start on `line`: a loop over the positions they hold. */
function move(e: Entry, line: number): void {
  const delta = line - e.base;
  if (delta === 0) return;
  shift(e.positions, delta);
  for (const p of e.parts) {
    shift(p.positions, delta);
    p.base += delta;
  }
  e.base = line;
}

function shift(positions: readonly Position[], delta: number): void {
  if (delta !== 0) for (const p of positions) p.line += delta;
}

function push<T>(into: T[], from: readonly T[]): void {
  for (const x of from) into.push(x);
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/** The whole text's tokens, for semantic tokens (asked for rarely, and never by the engine). */
function lexWhole(text: string): Pick<ParseResult, 'tokens' | 'comments'> {
  const lexed = T.optstudyLexer.tokenize(text);
  return { tokens: lexed.tokens, comments: (lexed.groups['comments'] as IToken[] | undefined) ?? [] };
}

let starters: Set<string> | undefined;

/** The words that begin a study statement, as the parser defines them. */
export function studyStatementStarters(): Set<string> {
  if (!starters) {
    starters = new Set<string>();
    for (const path of getParser().computeContentAssist('studyBody', [])) {
      const word = keywordOf(path.nextTokenType);
      if (word) starters.add(word);
    }
  }
  return starters;
}

function keywordOf(t: TokenType): string | undefined {
  const p = t.PATTERN;
  const word = p instanceof RegExp ? p.source : typeof p === 'string' ? p : undefined;
  return word !== undefined && word in T.KEYWORDS ? word : undefined;
}

/** The header `study "name" {`, lexed: its ranges, or undefined when it is not exactly that. */
function studyHead(text: string, lines: LineIndex, item: Item, headerEnd: number): { headRange: StudyAst['headRange']; name: StudyAst['name']; positions: Position[] } | undefined {
  const lexed = T.optstudyLexer.tokenize(text.slice(item.start, headerEnd));
  const [kw, name, brace] = lexed.tokens;
  if (lexed.errors.length || lexed.tokens.length !== 3 || kw?.tokenType !== T.Study || name?.tokenType !== T.StringLit || brace?.tokenType !== T.LBrace) return undefined;
  const at = (t: IToken) => lines.range(item.start + t.startOffset, item.start + t.startOffset + t.image.length);
  const kwRange = at(kw);
  const nameRange = at(name);
  return { headRange: { start: kwRange.start, end: nameRange.end }, name: { value: stringValue(name.image), range: nameRange }, positions: [kwRange.start, nameRange.start, nameRange.end] };
}

/**
 * Where a study's parts are: its header `study "…" {` must end its line (but for a comment),
 * and its closing brace begin one; parts start at each line of the body, outside brackets and
 * comments, that begins with a study statement's keyword. Null when the study is not laid out
 * so (it is then parsed whole).
 */
function studyLayout(text: string, item: Item): { headerEnd: number; parts: { start: number; end: number; line: number }[] } | null {
  // The header: `study`, blanks, a one-line string, blanks, `{`.
  let i = item.start + 5;
  while (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9) i++;
  if (text.charCodeAt(i) !== 34) return null;
  i++;
  while (i < item.end && text.charCodeAt(i) !== 34) {
    if (text.charCodeAt(i) === 10) return null;
    i += text.charCodeAt(i) === 92 ? 2 : 1;
  }
  i++;
  while (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9) i++;
  if (text.charCodeAt(i) !== 123) return null;
  const headerEnd = i + 1;
  const close = item.end - 1;
  // The rest of the header line: blanks or a line comment.
  const eol = text.indexOf('\n', headerEnd);
  if (eol < 0 || eol > close) return null;
  const rest = text.slice(headerEnd, eol).trim();
  if (rest !== '' && !rest.startsWith('//')) return null;
  if (text.slice(lineStart(text, close), close).trim() !== '') return null;
  const words = studyStatementStarters();
  const bodyStart = eol + 1;
  const closeLine = lineStart(text, close);
  const parts: { start: number; end: number; line: number }[] = [];
  let line = item.startLine + 1;
  let depth = 0;
  let inComment = false;
  for (let s = bodyStart; s < closeLine; ) {
    const e = text.indexOf('\n', s);
    const end = e < 0 || e >= closeLine ? closeLine : e + 1;
    if (depth === 0 && !inComment) {
      let k = s;
      while (text.charCodeAt(k) === 32 || text.charCodeAt(k) === 9) k++;
      let w = k;
      while (w < end && isWordChar(text.charCodeAt(w))) w++;
      if (w > k && words.has(text.slice(k, w))) {
        if (parts.length) parts[parts.length - 1]!.end = s;
        parts.push({ start: s, end, line });
      }
    }
    // Brackets and comments through the line (strings stay on their line).
    for (let k = s; k < end; k++) {
      const c = text.charCodeAt(k);
      if (inComment) {
        if (c === 42 && text.charCodeAt(k + 1) === 47) {
          inComment = false;
          k++;
        }
      } else if (c === 47 && text.charCodeAt(k + 1) === 47) break;
      else if (c === 47 && text.charCodeAt(k + 1) === 42) {
        inComment = true;
        k++;
      } else if (c === 34) {
        k++;
        while (k < end && text.charCodeAt(k) !== 34 && text.charCodeAt(k) !== 10) k += text.charCodeAt(k) === 92 ? 2 : 1;
      } else if (c === 123 || c === 91 || c === 40) depth++;
      else if ((c === 125 || c === 93 || c === 41) && depth > 0) depth--;
    }
    if (parts.length) parts[parts.length - 1]!.end = end;
    s = end;
    line++;
  }
  if (depth !== 0 || inComment) return null;
  if (parts.length === 0) return { headerEnd, parts: [{ start: bodyStart, end: closeLine, line: item.startLine + 1 }] };
  // Lines before the first statement (comments, blanks, stray text) belong to the first part.
  parts[0]!.start = bodyStart;
  parts[0]!.line = item.startLine + 1;
  return { headerEnd, parts };
}

interface Item {
  kind: 'study' | 'strategy';
  name: string;
  /** Offsets of the item's text. */
  start: number;
  end: number;
  startLine: number;
  endLine: number;
}

const isWordChar = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
/** Characters the language's lexer accepts outside strings and comments (anything else: full analysis). */
const ALLOWED = new Set([...'{}[](),:=+-*/^<>%;.!'].map((c) => c.charCodeAt(0)));

/** Whether nothing but blanks and line ends stand between `i` and the next item (no `{`, no comment). */
function bodyless(text: string, i: number): boolean {
  let k = i;
  while (k < text.length && (text.charCodeAt(k) === 10 || text.charCodeAt(k) === 32 || text.charCodeAt(k) === 9 || text.charCodeAt(k) === 13)) k++;
  return k >= text.length || (text.charCodeAt(k) !== 123 && text.charCodeAt(k) !== 47);
}

/**
 * The document's top-level items, or null when it is not a clean sequence of them (then the
 * caller analyzes the whole text at once). One allocation-free pass over the characters: on
 * a 5,000-line document it must cost far less than parsing the edited study.
 */
export function splitItems(text: string): Item[] | null {
  // Lines end at `\n` here; a lone `\r` (also a line end to the parser) is left to the whole parse.
  if (/\r(?!\n)/.test(text)) return null;
  const items: Item[] = [];
  const names = new Set<string>();
  const sc = new ItemScanner(text);
  for (;;) {
    const blank = sc.skipBlank();
    if (blank === null) return null;
    if (!blank) return items;
    const head = sc.head();
    if (!head || names.has(head.key)) return null; // duplicate names are a cross-item check
    names.add(head.key);
    const end = sc.body(head.word);
    if (end < 0 || !sc.tail()) return null;
    items.push({ kind: head.word, name: head.key, start: head.start, end, startLine: head.startLine, endLine: sc.endLine });
  }
}

/** A cursor over the text (offset, line, the line's start) and the steps of an item. */
class ItemScanner {
  private i = 0;
  private line = 0;
  private lineStart = 0;
  /** The line an item's body ended on. */
  endLine = 0;
  private readonly n: number;

  constructor(private readonly text: string) {
    this.n = text.length;
  }

  /** Skips blanks, line ends and comments: true at a token, false at the end, null for an unterminated comment. */
  skipBlank(): boolean | null {
    const { text, n } = this;
    while (this.i < n) {
      const c = text.charCodeAt(this.i);
      if (c === 10) this.newLine(this.i + 1);
      else if (c === 32 || c === 9 || c === 13 || c === 0xfeff) this.i++;
      else {
        const cm = this.skipComment();
        if (cm === null) return null;
        if (!cm) return true;
      }
    }
    return false;
  }

  /** `study "name"` or `strategy name` starting a line; null for anything else. */
  head(): { word: 'study' | 'strategy'; key: string; start: number; startLine: number } | null {
    const { text, n } = this;
    if (text.slice(this.lineStart, this.i).trim() !== '') return null;
    const start = this.i;
    const startLine = this.line;
    while (this.i < n && isWordChar(text.charCodeAt(this.i))) this.i++;
    const word = text.slice(start, this.i);
    if (word !== 'study' && word !== 'strategy') return null;
    while (this.i < n && (text.charCodeAt(this.i) === 32 || text.charCodeAt(this.i) === 9)) this.i++;
    const nameStart = this.i;
    if (text.charCodeAt(this.i) === 34) {
      const close = text.indexOf('"', this.i + 1);
      const nl = text.indexOf('\n', this.i + 1);
      if (close < 0 || (nl >= 0 && nl < close)) return null;
      this.i = close + 1;
    } else while (this.i < n && isWordChar(text.charCodeAt(this.i))) this.i++;
    if (this.i === nameStart) return null;
    return { word, key: `${word}:${text.slice(nameStart, this.i)}`, start, startLine };
  }

  /** The rest of the item to its closing brace (or a body-less declaration's line end): its end offset, or -1. */
  body(word: 'study' | 'strategy'): number {
    const { text, n } = this;
    let depth = 0;
    let quoted = false;
    while (this.i < n) {
      const d = text.charCodeAt(this.i);
      if (d === 10) {
        if (depth === 0) {
          // `strategy NAME backtrader|command|module "…"` without a body ends on its line,
          // unless a `{` (or a comment, to be safe) follows: a header spread over lines is
          // left to the full analysis.
          if (word !== 'strategy' || !quoted || !bodyless(text, this.i)) return -1;
          return this.ended(this.i);
        }
        this.newLine(this.i + 1);
        continue;
      }
      if (d === 34) {
        if (!this.skipString()) return -1;
        quoted = true;
        continue;
      }
      const cm = this.skipComment();
      if (cm === null) return -1;
      if (cm) continue;
      if (d === 123) depth++;
      else if (d === 125 && --depth === 0) return this.ended(++this.i);
      else if (d !== 125 && !(d === 32 || d === 9 || d === 13 || isWordChar(d) || ALLOWED.has(d))) return -1;
      this.i++;
    }
    // A body-less declaration ends the text.
    return depth === 0 && word === 'strategy' && quoted ? this.ended(n) : -1;
  }

  /** Nothing but blanks and comments may follow the closing brace on its line. */
  tail(): boolean {
    const { text, n } = this;
    while (this.i < n && text.charCodeAt(this.i) !== 10) {
      const e = text.charCodeAt(this.i);
      if (e === 32 || e === 9 || e === 13) {
        this.i++;
        continue;
      }
      if (!this.skipComment()) return false;
    }
    return true;
  }

  private ended(end: number): number {
    this.endLine = this.line;
    return end;
  }

  private newLine(at: number): void {
    this.i = at;
    this.line++;
    this.lineStart = at;
  }

  /** A string on one line at i (escapes skipped); false when it is not closed on its line. */
  private skipString(): boolean {
    const { text, n } = this;
    let k = this.i + 1;
    while (k < n && text.charCodeAt(k) !== 34 && text.charCodeAt(k) !== 10) k += text.charCodeAt(k) === 92 ? 2 : 1;
    if (k >= n || text.charCodeAt(k) !== 34) return false;
    this.i = k + 1;
    return true;
  }

  /** Skips a comment at i (false if none); null when a block comment is unterminated. */
  private skipComment(): boolean | null {
    const { text, n } = this;
    if (text.charCodeAt(this.i) !== 47) return false;
    const next = text.charCodeAt(this.i + 1);
    if (next === 47) {
      while (this.i < n && text.charCodeAt(this.i) !== 10) this.i++;
      return true;
    }
    if (next !== 42) return false;
    const close = text.indexOf('*/', this.i + 2);
    if (close < 0) return null;
    for (let k = this.i; k < close; k++) if (text.charCodeAt(k) === 10) {
      this.line++;
      this.lineStart = k + 1;
    }
    this.i = close + 2;
    return true;
  }
}
