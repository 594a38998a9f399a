/**
 * The OptStudy requests (protocol/lsp-requests.ts): `optstudy/resolveStudy` gives the client
 * the study to run, exactly as the language resolved it; `optstudy/gridSize` the sizes of
 * every study and stage.
 */
import type { GridSizeResult, ResolveStudyParams, ResolveStudyResult, ResolvedStudy } from '../../protocol/lsp-requests';
import type { Position, StudyModel } from '../../grammar/index';
import { comparePos, contains, type ParsedDocument } from './document';

/** The study at a position (or the one named, or all), resolved for running. */
export function resolveStudy(doc: ParsedDocument, params: Pick<ResolveStudyParams, 'position' | 'study'>): ResolveStudyResult {
  const studies = doc.analysis.studies;
  let chosen: StudyModel[];
  if (params.study !== undefined) chosen = studies.filter((s) => s.name === params.study);
  else if (params.position) {
    const p: Position = params.position;
    const inside = studies.find((s) => contains(s.range, p));
    // Between studies, the next one down is the one the user means (a lens sits above it).
    chosen = inside ? [inside] : studies.filter((s) => comparePos(s.range.start, p) >= 0).slice(0, 1);
  } else chosen = studies;
  const errors = doc.analysis.diagnostics.filter((d) => d.severity === 'error');
  const out: ResolvedStudy[] = chosen.map((s) => ({
    name: s.name,
    file: doc.filePath ?? doc.uri,
    range: s.range,
    hasErrors: s.hasErrors || errors.some((e) => contains(s.range, e.range.start)),
    model: toJson(s),
  }));
  return { version: doc.version, studies: out };
}

/** Sizes of every study and stage. */
export function gridSizes(doc: ParsedDocument): GridSizeResult {
  return {
    version: doc.version,
    studies: doc.analysis.studies.map((s) => ({
      name: s.name,
      total: Number.isFinite(s.total) ? s.total : null,
      exact: s.totalExact,
      range: s.range,
      stages: s.stages.map((st) => ({ name: st.name, size: Number.isFinite(st.size) ? st.size : null, exact: st.sizeExact, search: st.search.method, range: st.range })),
    })),
  };
}

/** A JSON-safe copy (Infinity → null), so the model survives JSON-RPC unchanged otherwise. */
function toJson(s: StudyModel): unknown {
  return JSON.parse(JSON.stringify(s, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)));
}
