/**
 * Apply Best Parameters: the text edits that fix a run's best parameters in the study.
 *
 * Behaviour (documented in package.json, setting `optstudy.applyBest.searchedParams`):
 * - Every applied parameter becomes an override on the study's strategy statement,
 *   `strategy NAME { p = v, … }`: an existing override's value is replaced, missing ones are
 *   added, and a statement without a block gets one.
 * - `comment` (default): the `param … in …` lines of the applied parameters are commented out
 *   (`// `), so the study keeps the searched ranges for later but runs the fixed values; a stage
 *   whose parameters are all applied is commented out whole, so no empty stage is left behind.
 * - `keep`: the stages are left as they are (a later run searches the same space again; the
 *   overrides then only matter to parameters outside the stages).
 * The extension applies the result as one WorkspaceEdit, so a single Undo reverts it.
 * Pure: no vscode.
 */
import type { ParamValues } from '../protocol/run-events';
import { scanStudies, type StudyInfo } from './study-scan';

export interface TextEdit {
  start: number;
  end: number;
  newText: string;
}

export type SearchedParamsMode = 'comment' | 'keep';

export interface ApplyBestResult {
  edits: TextEdit[];
  /** A one-line description for the notification. */
  summary: string;
  /** Set when nothing can be applied (no such study, no strategy statement, no parameters). */
  error?: string;
}

/** A parameter value as the language writes a literal. */
export function formatLiteral(v: number | string | boolean): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (!Number.isFinite(v)) return String(v);
  // Round-off from float grids (0.30000000000000004) is noise, not intent.
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(12)));
}

const lineStartOf = (text: string, off: number) => text.lastIndexOf('\n', off - 1) + 1;

/** Where a line's first non-blank character is. */
function firstNonBlank(text: string, lineStart: number): number {
  let k = lineStart;
  while (k < text.length && (text[k] === ' ' || text[k] === '\t')) k++;
  return k;
}

/** Computes the edits; applying them in any order (they never overlap) gives the new study. */
export function computeApplyBest(text: string, studyName: string | undefined, params: ParamValues, mode: SearchedParamsMode = 'comment'): ApplyBestResult {
  const scan = scanStudies(text);
  const study: StudyInfo | undefined = studyName === undefined ? scan.studies[0] : scan.studies.find((s) => s.name === studyName);
  if (!study) return { edits: [], summary: '', error: studyName === undefined ? 'the file has no study' : `no study named "${studyName}" in this file` };
  const names = Object.keys(params);
  if (names.length === 0) return { edits: [], summary: '', error: 'the run has no best parameters to apply' };
  const ref = study.strategy;
  if (!ref) return { edits: [], summary: '', error: `study "${study.name}" has no strategy statement to put the parameters on` };

  const edits: TextEdit[] = [];
  const added: string[] = [];
  const existing = new Map(ref.block?.overrides.map((o) => [o.name, o]) ?? []);
  for (const n of names) {
    const lit = formatLiteral(params[n]!);
    const o = existing.get(n);
    if (o) {
      if (o.value !== lit) edits.push({ start: o.valueSpan.start, end: o.valueSpan.end, newText: lit });
    } else added.push(`${n} = ${lit}`);
  }
  if (added.length) {
    if (!ref.block) edits.push({ start: ref.headEnd, end: ref.headEnd, newText: ` { ${added.join(', ')} }` });
    else if (ref.block.overrides.length === 0) edits.push({ start: ref.block.open + 1, end: ref.block.close, newText: ` ${added.join(', ')} ` });
    else {
      const last = ref.block.overrides[ref.block.overrides.length - 1]!;
      edits.push({ start: last.end, end: last.end, newText: `, ${added.join(', ')}` });
    }
  }

  let commented = 0;
  let stagesCommented = 0;
  if (mode === 'comment') {
    const applied = new Set(names);
    for (const st of study.stages) {
      const hits = st.params.filter((p) => applied.has(p.name));
      if (hits.length === 0) continue;
      if (hits.length === st.params.length) {
        // The whole stage: every line from its header to its closing brace.
        stagesCommented++;
        let ls = lineStartOf(text, st.start);
        while (ls <= st.end - 1 && ls < text.length) {
          const at = firstNonBlank(text, ls);
          const nl = text.indexOf('\n', ls);
          const lineEnd = nl < 0 ? text.length : nl;
          if (at < lineEnd && !text.startsWith('//', at)) edits.push({ start: at, end: at, newText: '// ' });
          if (nl < 0) break;
          ls = nl + 1;
        }
        commented += hits.length;
      } else {
        for (const p of hits) {
          edits.push({ start: p.start, end: p.start, newText: '// ' });
          commented++;
        }
      }
    }
  }
  edits.sort((a, b) => b.start - a.start || b.end - a.end);
  const parts = [`${names.length} parameter${names.length === 1 ? '' : 's'} fixed on strategy ${ref.name ?? 'module'}`];
  if (mode === 'comment' && commented) {
    parts.push(stagesCommented ? `${stagesCommented} stage${stagesCommented === 1 ? '' : 's'} and ${commented} searched line${commented === 1 ? '' : 's'} commented out` : `${commented} searched line${commented === 1 ? '' : 's'} commented out`);
  }
  return { edits, summary: parts.join('; ') };
}

/** Applies edits to a string (tests and previews; the extension uses a WorkspaceEdit). */
export function applyEdits(text: string, edits: TextEdit[]): string {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.start - a.start || b.end - a.end)) out = out.slice(0, e.start) + e.newText + out.slice(e.end);
  return out;
}
