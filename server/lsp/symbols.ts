/**
 * Document symbols (strategy declarations → params; studies → stages → params) from the
 * syntax tree, which exists even for half-typed studies; and folding ranges from tokens.
 */
import { FoldingRangeKind, SymbolKind, type DocumentSymbol, type FoldingRange } from 'vscode-languageserver';
import type { Range } from '../../grammar/index';
import type { ParsedDocument } from './document';
import { formatCount } from './lookup';

/** The outline of a document. */
export function computeDocumentSymbols(doc: ParsedDocument): DocumentSymbol[] {
  const out: DocumentSymbol[] = [];
  // Models by where their study starts: one look-up per study, not a scan of all of them.
  const models = firstBy(doc.analysis.studies, (s) => `${s.range.start.line}:${s.range.start.character}`);
  for (const item of doc.analysis.ast.items) {
    if (item.kind === 'strategyDecl') {
      const children = item.params.filter((p) => p.name).map((p) => sym(p.name!.name, SymbolKind.Field, p.range, p.name!.range, p.type?.name));
      out.push(sym(item.name?.name ?? '(strategy)', SymbolKind.Class, item.range, item.name?.range ?? item.range, item.command ? 'command' : 'module', children));
      continue;
    }
    const model = models.get(`${item.range.start.line}:${item.range.start.character}`);
    const stageModels = firstBy(model?.stages ?? [], (m) => m.range.start.line);
    const stages = [];
    for (const s of item.statements) {
      if (s.kind !== 'stage') continue;
      const stageModel = stageModels.get(s.range.start.line);
      const params = s.statements
        .filter((p) => p.kind === 'param' && p.name)
        .map((p) => {
          const name = (p as { name: { name: string; range: Range } }).name;
          return sym(name.name, SymbolKind.Variable, p.range, name.range);
        });
      stages.push(sym(s.name?.value ?? '(stage)', SymbolKind.Module, s.range, s.name?.range ?? s.headRange, stageModel ? `${formatCount(stageModel.size)} backtests` : undefined, params));
    }
    out.push(sym(item.name?.value ?? '(study)', SymbolKind.Namespace, item.range, item.name?.range ?? item.headRange, model ? `${formatCount(model.total)} backtests` : undefined, stages));
  }
  return out;
}

/** The first of `items` for each key. */
function firstBy<T, K>(items: readonly T[], key: (t: T) => K): Map<K, T> {
  const out = new Map<K, T>();
  for (const it of items) if (!out.has(key(it))) out.set(key(it), it);
  return out;
}

function sym(name: string, kind: SymbolKind, range: Range, selectionRange: Range, detail?: string, children?: DocumentSymbol[]): DocumentSymbol {
  // VS Code rejects a symbol whose selection range is not inside its range.
  const inside =
    (selectionRange.start.line > range.start.line || (selectionRange.start.line === range.start.line && selectionRange.start.character >= range.start.character)) &&
    (selectionRange.end.line < range.end.line || (selectionRange.end.line === range.end.line && selectionRange.end.character <= range.end.character));
  return { name: name || '(unnamed)', kind, range, selectionRange: inside ? selectionRange : { start: range.start, end: range.start }, detail, children };
}

/** Folding: every brace pair spanning lines, block comments, runs of line comments. */
export function computeFoldingRanges(doc: ParsedDocument): FoldingRange[] {
  const out: FoldingRange[] = [];
  const stack: number[] = [];
  const tokens = doc.tokens;
  let commentRun: { start: number; end: number } | undefined;
  const flushComments = () => {
    if (commentRun && commentRun.end > commentRun.start) out.push({ startLine: commentRun.start, endLine: commentRun.end, kind: FoldingRangeKind.Comment });
    commentRun = undefined;
  };
  for (const t of tokens) {
    if (t.kind === 'comment') {
      if (t.text.startsWith('/*')) {
        flushComments();
        if (t.endLine > t.line) out.push({ startLine: t.line, endLine: t.endLine, kind: FoldingRangeKind.Comment });
      } else if (t.newlineBefore) {
        if (commentRun && commentRun.end === t.line - 1) commentRun.end = t.line;
        else {
          flushComments();
          commentRun = { start: t.line, end: t.line };
        }
      }
      continue;
    }
    flushComments();
    if (t.text === '{') stack.push(t.line);
    else if (t.text === '}') {
      const start = stack.pop();
      // Keep the closing brace visible: fold up to the line before it.
      if (start !== undefined && t.line - 1 > start) out.push({ startLine: start, endLine: t.line - 1 });
    }
  }
  flushComments();
  return out;
}
