/**
 * Quick fixes from diagnostics: the diagnostic's `data` says what to do where it can
 * ("did you mean" replacements); the others are derived from the syntax tree at the
 * diagnostic's range — swap reversed range bounds, give a grid range a step, add a `search`
 * (or `trials`), remove a duplicate stage parameter.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CodeActionKind, type CodeAction, type Diagnostic as LspDiagnostic, type TextEdit } from 'vscode-languageserver';
import {
  BUILTIN_STRATEGIES,
  DEFAULT_TRIALS,
  IssueCodes,
  METRICS,
  SEARCH_METHODS,
  type DomainAst,
  type Range,
  type SearchAst,
  type SpaceParamAst,
  type StageAst,
  type StudyAst,
} from '../../grammar/index';
import { contains, type ParsedDocument } from './document';
import { closestMatch, findStrategy } from './lookup';

/** The quick fixes for the given diagnostics (those of the request's context). */
export function computeCodeActions(doc: ParsedDocument, diagnostics: LspDiagnostic[]): CodeAction[] {
  const out: CodeAction[] = [];
  for (const d of diagnostics) {
    if (d.source !== undefined && d.source !== 'optstudy') continue;
    try {
      out.push(...fixesFor(doc, d));
    } catch {
      // A fix that cannot be computed is simply not offered.
    }
  }
  return out;
}

function fixesFor(doc: ParsedDocument, d: LspDiagnostic): CodeAction[] {
  const c: FixContext = {
    doc,
    d,
    code: String(d.code ?? ''),
    data: (d.data ?? {}) as Record<string, unknown>,
    fix: (title, edits, preferred = false) => ({ title, kind: CodeActionKind.QuickFix, diagnostics: [d], isPreferred: preferred || undefined, edit: { changes: { [doc.uri]: edits } } }),
    text: (r) => doc.text.slice(doc.offsetAt(r.start), doc.offsetAt(r.end)),
    located: undefined,
  };
  const fromData = fixesFromData(c);
  if (fromData) return fromData;
  c.located = paramAt(doc, d.range);
  switch (c.code) {
    case IssueCodes.ReversedRange:
      return swapBounds(c);
    case IssueCodes.ContinuousInGrid:
      return stepOrRandom(c);
    case IssueCodes.DefaultTrials:
      return explicitTrials(c);
    case IssueCodes.DuplicateParam:
    case IssueCodes.ParamInSeveralStages:
      return removeParam(c);
    case IssueCodes.MissingData:
      return addData(c);
    case 'missing-search':
      return addSearch(c);
    default:
      return [];
  }
}

/** A diagnostic and what its fixes are made with. */
interface FixContext {
  doc: ParsedDocument;
  d: LspDiagnostic;
  code: string;
  data: Record<string, unknown>;
  fix: (title: string, edits: TextEdit[], preferred?: boolean) => CodeAction;
  text: (r: Range) => string;
  /** The `param` the diagnostic is on, if any. */
  located: ReturnType<typeof paramAt>;
}

/** The fixes the diagnostic's data spells out; null when it spells out none. */
function fixesFromData(c: FixContext): CodeAction[] | null {
  const { doc, d, code, data, fix, text } = c;
  // The fix travels in data where the language could say it: a replacement for the
  // diagnostic's range, or a text to insert at a position.
  const replacement = typeof data.replacement === 'string' ? data.replacement : closestFor(doc, code, text(d.range), d.range);
  if (replacement && replacement !== text(d.range)) {
    const title = code === IssueCodes.ReversedRange ? `Swap the bounds (${replacement})` : `Replace with '${replacement}'`;
    return [fix(title, [{ range: d.range, newText: replacement }], true)];
  }
  if (typeof data.insert === 'string' && isPosition(data.at)) {
    const title = code === IssueCodes.ContinuousInGrid ? `Give the range a step (${data.insert.trim()})` : `Insert '${data.insert.trim()}'`;
    const out = [fix(title, [{ range: { start: data.at, end: data.at }, newText: data.insert }], true)];
    const located = paramAt(doc, d.range);
    if (code === IssueCodes.ContinuousInGrid && located) {
      const edit = setSearch(doc, located.stage, 'random');
      if (edit) out.push(fix('Search this stage with `random` instead of a grid', [edit]));
    }
    return out;
  }
  if (code === IssueCodes.DateOrder && typeof data.from === 'string' && typeof data.to === 'string') {
    // The range covers `FROM to TO`: write the dates the other way round.
    const m = /^(\S+)(\s+to\s+)(\S+)$/.exec(text(d.range));
    if (m) return [fix(`Swap the dates (from ${data.from} to ${data.to})`, [{ range: d.range, newText: `${data.from}${m[2]}${data.to}` }], true)];
  }
  return null;
}

function swapBounds({ located, fix, text }: FixContext): CodeAction[] {
  const dom = located?.param.domain;
  if (!dom?.lo || !dom.hi) return [];
  return [fix('Swap the bounds', [
    { range: dom.lo.range, newText: text(dom.hi.range) },
    { range: dom.hi.range, newText: text(dom.lo.range) },
  ], true)];
}

function stepOrRandom({ doc, located, fix, text }: FixContext): CodeAction[] {
  const out: CodeAction[] = [];
  const dom = located?.param.domain;
  if (dom?.lo && dom.hi && !dom.step && !dom.isLog) {
    const step = suggestStep(dom, located?.type ?? guessType(doc, text(dom.lo.range), text(dom.hi.range)));
    out.push(fix(`Give the range a step (step ${step})`, [{ range: { start: dom.hi.range.end, end: dom.hi.range.end }, newText: ` step ${step}` }], true));
  }
  if (located) {
    const edit = setSearch(doc, located.stage, 'random');
    if (edit) out.push(fix('Search this stage with `random` instead of a grid', [edit]));
  }
  return out;
}

function explicitTrials({ doc, d, fix }: FixContext): CodeAction[] {
  const stage = stageAt(doc, d.range);
  const search = stage?.statements.find((s): s is SearchAst => s.kind === 'search');
  if (!search?.method) return [];
  const brace = tokenAfter(doc, search.method.range.end, '{', search.range.end);
  const edit: TextEdit = brace
    ? { range: { start: brace, end: brace }, newText: ` trials ${DEFAULT_TRIALS},` }
    : { range: { start: search.method.range.end, end: search.method.range.end }, newText: ` { trials ${DEFAULT_TRIALS} }` };
  return [fix(`Set the budget explicitly (trials ${DEFAULT_TRIALS})`, [edit], true)];
}

function removeParam({ doc, code, located, fix, text }: FixContext): CodeAction[] {
  if (!located) return [];
  const r = located.param.range;
  const lineStart = { line: r.start.line, character: 0 };
  const onlyThis = doc.lines.lineText(r.start.line).trim() === text(r).trim() || doc.lines.lineText(r.start.line).trim().startsWith(text(r).trim());
  const del: Range = onlyThis && r.end.line + 1 < doc.lines.lineCount ? { start: lineStart, end: { line: r.end.line + 1, character: 0 } } : r;
  return [fix(`Remove this \`param ${located.param.name?.name ?? ''}\``, [{ range: del, newText: '' }], code === IssueCodes.DuplicateParam)];
}

/** `data "…"` with the price files beside the study offered first. */
function addData({ doc, d, fix }: FixContext): CodeAction[] {
  const study = doc.analysis.ast.items.find((i): i is StudyAst => i.kind === 'study' && contains(i.range, d.range.start));
  const brace = study && tokenAfter(doc, study.headRange.start, '{', study.range.end);
  if (!study || !brace) return [];
  const indent = /^\s*/.exec(doc.lines.lineText(study.range.start.line))![0] + '  ';
  // Offer the price files beside the study (its folder and a `data/` folder in it).
  const files = dataFilesNear(doc.filePath);
  const choices = files.length ? files : [''];
  return choices.map((f, k) => fix(f ? `Add \`data "${f}"\`` : 'Add a `data` line', [{ range: { start: brace, end: brace }, newText: `\n${indent}data "${f}"` }], k === 0 && !!f));
}

function addSearch({ doc, d, fix }: FixContext): CodeAction[] {
  const stage = stageAt(doc, d.range);
  if (!stage || stage.statements.some((s) => s.kind === 'search')) return [];
  const edit = setSearch(doc, stage, 'grid');
  return edit ? [fix('Add `search grid`', [edit])] : [];
}

/** The closest known name for an unknown-name diagnostic without `data`. */
function closestFor(doc: ParsedDocument, code: string, written: string, range: Range): string | undefined {
  if (!/^[A-Za-z_]\w*$/.test(written)) return undefined;
  switch (code) {
    case IssueCodes.UnknownMetric:
      return closestMatch(written, METRICS.map((m) => m.name));
    case IssueCodes.UnknownStrategy:
      return closestMatch(written, [...BUILTIN_STRATEGIES.map((s) => s.name), ...doc.analysis.strategies.keys()]);
    case IssueCodes.UnknownSearchMethod:
      return closestMatch(written, SEARCH_METHODS.map((m) => m.name));
    case IssueCodes.UnknownParameter: {
      const study = doc.analysis.studies.find((s) => contains(s.range, range.start));
      const name = study?.strategy?.name;
      const schema = study?.strategy?.schema ?? (name ? findStrategy(doc, name)?.params : undefined) ?? [];
      return closestMatch(written, schema.map((p) => p.name));
    }
    default:
      return undefined;
  }
}

/** Price files (`.txt`, `.csv`) in the study's folder and its `data/` folder, relative paths, at most five. */
function dataFilesNear(studyFile: string | null): string[] {
  if (!studyFile) return [];
  const dir = path.dirname(studyFile);
  const out: string[] = [];
  for (const sub of ['data', '.']) {
    try {
      for (const f of fs.readdirSync(path.join(dir, sub)).sort()) {
        if (/\.(txt|csv)$/i.test(f) && !/readme/i.test(f)) out.push(sub === '.' ? f : `${sub}/${f}`);
      }
    } catch {
      // No such folder.
    }
  }
  return out.slice(0, 5);
}

function isPosition(x: unknown): x is { line: number; character: number } {
  return typeof x === 'object' && x !== null && Number.isInteger((x as { line: unknown }).line) && Number.isInteger((x as { character: unknown }).character);
}

function stageAt(doc: ParsedDocument, r: Range): StageAst | undefined {
  for (const item of doc.analysis.ast.items) {
    if (item.kind !== 'study' || !contains(item.range, r.start)) continue;
    for (const s of item.statements) if (s.kind === 'stage' && contains(s.range, r.start)) return s;
  }
  return undefined;
}

/** The stage parameter whose statement contains the range, with its type when the study knows it. */
function paramAt(doc: ParsedDocument, r: Range): { stage: StageAst; param: SpaceParamAst; type?: string } | undefined {
  const stage = stageAt(doc, r);
  if (!stage) return undefined;
  const param = stage.statements.find((s): s is SpaceParamAst => s.kind === 'param' && contains(s.range, r.start) && contains(s.range, r.end));
  if (!param) return undefined;
  const study = doc.analysis.studies.find((s) => contains(s.range, r.start));
  const type = study?.strategy?.schema.find((p) => p.name === param.name?.name)?.type;
  return { stage, param, type };
}

function guessType(_doc: ParsedDocument, lo: string, hi: string): string {
  return /[.eE]/.test(lo + hi) ? 'float' : 'int';
}

/** A round step giving about ten values: 1, 2 or 5 times a power of ten (whole for integers). */
export function suggestStep(dom: DomainAst, type: string): number {
  const lo = Number(dom.lo && 'value' in dom.lo ? dom.lo.value : NaN);
  const hi = Number(dom.hi && 'value' in dom.hi ? dom.hi.value : NaN);
  const width = Math.abs(hi - lo);
  if (!Number.isFinite(width) || width === 0) return 1;
  const raw = width / 10;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const m = raw / p;
  let step = (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
  step = Number(step.toPrecision(6));
  if (type === 'int') step = Math.max(1, Math.round(step));
  return step;
}

/** An edit that makes the stage search with `method`: replaces the method, or inserts a `search` line. */
function setSearch(doc: ParsedDocument, stage: StageAst, method: string): TextEdit | undefined {
  const search = stage.statements.find((s): s is SearchAst => s.kind === 'search');
  const budget = method === 'grid' ? '' : ` { trials ${DEFAULT_TRIALS} }`;
  if (search?.method) {
    const hasOptions = tokenAfter(doc, search.method.range.end, '{', search.range.end) !== undefined;
    return { range: search.method.range, newText: method + (hasOptions ? '' : budget) };
  }
  const brace = tokenAfter(doc, stage.headRange.start, '{', stage.range.end);
  if (!brace) return undefined;
  const indent = /^\s*/.exec(doc.lines.lineText(stage.range.start.line))![0] + '  ';
  return { range: { start: brace, end: brace }, newText: `\n${indent}search ${method}${budget}` };
}

/** The end position of the first `text` token between `from` and `limit`. */
function tokenAfter(doc: ParsedDocument, from: { line: number; character: number }, text: string, limit: { line: number; character: number }) {
  const a = doc.offsetAt(from);
  const b = doc.offsetAt(limit);
  for (const t of doc.tokens) {
    if (t.start < a) continue;
    if (t.start >= b) break;
    if (t.text === text) return doc.positionAt(t.end);
  }
  return undefined;
}
