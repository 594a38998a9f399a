/**
 * Inlay hints: each searched parameter's number of values after its domain, and each stage's
 * feasible size after its opening brace. Numbers come from the model, computed once per version.
 */
import { InlayHintKind, type InlayHint } from 'vscode-languageserver';
import { domainSize, type Range } from '../../grammar/index';
import { comparePos, type ParsedDocument } from './document';
import { formatCount } from './lookup';

/** Hints inside `range` (the visible part of the editor). */
export function computeInlayHints(doc: ParsedDocument, range?: Range): InlayHint[] {
  const hints: InlayHint[] = [];
  const visible = (r: Range) => !range || (comparePos(r.end, range.start) >= 0 && comparePos(r.start, range.end) <= 0);
  for (const study of doc.analysis.studies) {
    if (!visible(study.range)) continue;
    for (const stage of study.stages) {
      if (!visible(stage.range)) continue;
      const brace = braceAfter(doc, stage.range.start);
      if (brace) {
        const what = (stage.search.method === 'grid' ? 'combination' : 'trial') + (stage.size === 1 && stage.sizeExact ? '' : 's');
        hints.push({
          position: brace,
          label: `${stage.sizeExact ? '' : '≈'}${formatCount(stage.size)} ${what}`,
          kind: InlayHintKind.Type,
          paddingLeft: true,
          tooltip: stage.search.method === 'grid' ? 'Feasible grid combinations (after `where`): the backtests this stage runs.' : `The trial budget of this ${stage.search.method} search.`,
        });
      }
      for (const p of stage.params) {
        if (!visible(p.range)) continue;
        const n = domainSize(p.domain);
        hints.push({
          position: p.range.end,
          // A separator, so the hint never reads as part of the number before it ("step 5 · 10 values").
          label: Number.isFinite(n) ? `· ${formatCount(n)} value${n === 1 ? '' : 's'}` : '· continuous',
          kind: InlayHintKind.Type,
          paddingLeft: true,
        });
      }
    }
  }
  return hints;
}

/** The position just after the first `{` at or after `from` (a stage's opening brace). */
function braceAfter(doc: ParsedDocument, from: { line: number; character: number }) {
  const start = doc.offsetAt(from);
  const tokens = doc.tokens;
  // Tokens are in document order: start at the first one at or after `from` (binary search),
  // not at the top of the file for every stage.
  let lo = 0;
  let hi = tokens.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tokens[mid]!.start < start) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.text === '{') return doc.positionAt(t.end);
    if (t.text === '}') return undefined;
  }
  return undefined;
}
