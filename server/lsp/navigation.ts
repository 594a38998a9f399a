/**
 * Go-to-definition (a declared strategy, its parameters; data and module paths open the file)
 * and rename of declared strategies and their parameters, over the syntax tree.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DocumentLink, Location, TextEdit, WorkspaceEdit } from 'vscode-languageserver';
import { exprNameNodes, type Position, type Range, type StrategyDeclAst, type StudyAst } from '../../grammar/index';
import { contains, type ParsedDocument } from './document';

type Occurrence = { range: Range; role: 'decl' | 'use' };

/** Where the symbol at `position` is defined. */
export function computeDefinition(doc: ParsedDocument, position: Position): Location[] | null {
  const dir = doc.filePath ? path.dirname(doc.filePath) : null;
  for (const item of doc.analysis.ast.items) {
    if (item.kind === 'strategyDecl') {
      if (item.module && contains(item.module.range, position)) return fileLocation(dir, item.module.value);
      continue;
    }
    for (const s of item.statements) {
      if (s.kind === 'data' && s.path && contains(s.path.range, position)) return fileLocation(dir, s.path.value);
      if (s.kind === 'strategy' && s.module && contains(s.module.range, position)) return fileLocation(dir, s.module.value);
      if (s.kind === 'warm_start' && s.path && contains(s.path.range, position)) return fileLocation(dir, s.path.value);
    }
  }
  const target = symbolAt(doc, position);
  if (!target) return null;
  const decl = target.occurrences.find((o) => o.role === 'decl');
  return decl ? [{ uri: doc.uri, range: decl.range }] : null;
}

function fileLocation(dir: string | null, rel: string): Location[] | null {
  if (!dir || !rel) return null;
  const abs = path.resolve(dir, rel);
  if (!fs.existsSync(abs)) return null;
  const zero = { line: 0, character: 0 };
  return [{ uri: pathToFileURL(abs).href, range: { start: zero, end: zero } }];
}

/** Links on the data, module and warm-start paths that exist (Ctrl+click opens the file). */
export function computeDocumentLinks(doc: ParsedDocument): DocumentLink[] {
  const dir = doc.filePath ? path.dirname(doc.filePath) : null;
  if (!dir) return [];
  const out: DocumentLink[] = [];
  const link = (p: { value: string; range: Range } | undefined, tooltip: string) => {
    if (!p || !p.value) return;
    const abs = path.resolve(dir, p.value);
    if (!fs.existsSync(abs)) return;
    // The link covers the path inside the quotes.
    const r = p.range;
    const inner = r.start.line === r.end.line && r.end.character - r.start.character >= 2 ? { start: { line: r.start.line, character: r.start.character + 1 }, end: { line: r.end.line, character: r.end.character - 1 } } : r;
    out.push({ range: inner, target: pathToFileURL(abs).href, tooltip });
  };
  for (const item of doc.analysis.ast.items) {
    if (item.kind === 'strategyDecl') {
      link(item.module, 'Open the strategy module');
      continue;
    }
    for (const s of item.statements) {
      if (s.kind === 'data') link(s.path, 'Open the price file');
      if (s.kind === 'strategy') link(s.module, 'Open the strategy module');
      if (s.kind === 'warm_start') link(s.path, 'Open the earlier run');
    }
  }
  return out;
}

/** The renameable symbol at a position: its range there and every occurrence in the document. */
export function symbolAt(doc: ParsedDocument, position: Position): { range: Range; name: string; kind: 'strategy' | 'param'; occurrences: Occurrence[] } | undefined {
  const decls = doc.analysis.ast.items.filter((i): i is StrategyDeclAst => i.kind === 'strategyDecl');
  const studies = doc.analysis.ast.items.filter((i): i is StudyAst => i.kind === 'study');
  for (const decl of decls) {
    if (!decl.name) continue;
    const name = decl.name.name;
    const strategyOcc = strategyOccurrences(decl, studies);
    const hit = strategyOcc.find((o) => contains(o.range, position));
    if (hit) return { range: hit.range, name, kind: 'strategy', occurrences: strategyOcc };
    for (const p of decl.params) {
      if (!p.name) continue;
      const occ = paramOccurrences(decl, p.name.name, studies);
      const h = occ.find((o) => contains(o.range, position));
      if (h) return { range: h.range, name: p.name.name, kind: 'param', occurrences: occ };
    }
  }
  return undefined;
}

function usesStrategy(study: StudyAst, name: string): boolean {
  return study.statements.some((s) => s.kind === 'strategy' && s.name?.name === name);
}

function strategyOccurrences(decl: StrategyDeclAst, studies: StudyAst[]): Occurrence[] {
  const out: Occurrence[] = [{ range: decl.name!.range, role: 'decl' }];
  for (const study of studies) {
    for (const s of study.statements) if (s.kind === 'strategy' && s.name?.name === decl.name!.name) out.push({ range: s.name.range, role: 'use' });
  }
  return out;
}

function paramOccurrences(decl: StrategyDeclAst, param: string, studies: StudyAst[]): Occurrence[] {
  const out: Occurrence[] = [];
  for (const p of decl.params) if (p.name?.name === param) out.push({ range: p.name.range, role: 'decl' });
  for (const study of studies) {
    if (!usesStrategy(study, decl.name!.name)) continue;
    for (const s of study.statements) {
      if (s.kind === 'strategy') for (const o of s.overrides) if (o.name?.name === param) out.push({ range: o.name.range, role: 'use' });
      if (s.kind !== 'stage') continue;
      for (const st of s.statements) {
        if (st.kind === 'param' && st.name?.name === param) out.push({ range: st.name.range, role: 'use' });
        if (st.kind === 'where' && st.expr) for (const n of exprNameNodes(st.expr)) if (n.name === param) out.push({ range: n.range, role: 'use' });
      }
    }
  }
  return out;
}

/** For `textDocument/prepareRename`: the range to rename, or null when the symbol cannot be renamed. */
export function prepareRename(doc: ParsedDocument, position: Position): { range: Range; placeholder: string } | null {
  const s = symbolAt(doc, position);
  return s ? { range: s.range, placeholder: s.name } : null;
}

/** Renames a declared strategy or one of its parameters everywhere in the document. */
export function computeRename(doc: ParsedDocument, position: Position, newName: string): WorkspaceEdit | null {
  const s = symbolAt(doc, position);
  if (!s) return null;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(newName)) throw new Error(`"${newName}" is not a valid name: use letters, digits and _, not starting with a digit.`);
  const edits: TextEdit[] = s.occurrences.map((o) => ({ range: o.range, newText: newName }));
  return { changes: { [doc.uri]: edits } };
}
