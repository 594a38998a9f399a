/**
 * Apply Best Parameters: the text edits that fix a run's best parameters in the study.
 *
 * Behaviour (documented in package.json, setting `optstudy.applyBest.searchedParams`):
 * - Every applied parameter becomes an override on the study's strategy statement,
 *   `strategy NAME { p = v, … }`: an existing override's value is replaced, missing ones are
 *   added, and a statement without a block gets one.
 * - `comment` (default): the `param … in …` lines of the applied parameters are commented out
 *   (`// `), so the study keeps the searched ranges for later but runs the fixed values — except
 *   where that would leave a stage searching nothing: there each applied line is pinned to its
 *   value instead (`param fast in [12]`, the searched domain kept in a block comment after it), so every stage still runs
 *   (one backtest, the applied one) and the study stays runnable (#19-9: commenting out whole
 *   stages left "the study has no stage").
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
  let pinned = 0;
  if (mode === 'comment') {
    const applied = new Set(names);
    for (const st of study.stages) {
      const hits = st.params.filter((p) => applied.has(p.name));
      if (hits.length === 0) continue;
      const pin = hits.length === st.params.length;
      for (const p of hits) {
        if (pin && p.domain) {
          // A block comment: the stage's `}` may follow on the same line. A line pinned by an
          // earlier apply keeps its comment (the searched domain), only its value changes.
          const was = text.slice(p.domain.start, p.domain.end);
          const value = `[${formatLiteral(params[p.name]!)}]`;
          const pinnedBefore = /^\s*\/\* searched:/.test(text.slice(p.domain.end, p.end));
          if (!pinnedBefore) edits.push({ start: p.domain.start, end: p.domain.end, newText: `${value} /* searched: ${was.replace(/\*\//g, '* /')} */` });
          else if (was !== value) edits.push({ start: p.domain.start, end: p.domain.end, newText: value });
          pinned++;
        } else {
          edits.push({ start: p.start, end: p.start, newText: '// ' });
          commented++;
        }
      }
    }
  }
  edits.sort((a, b) => b.start - a.start || b.end - a.end);
  const parts = [`${names.length} parameter${names.length === 1 ? '' : 's'} fixed on strategy ${ref.name ?? 'module'}`];
  const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  if (commented) parts.push(`${plural(commented, 'searched line')} commented out`);
  if (pinned) parts.push(`${plural(pinned, 'searched line')} pinned to the applied value (a stage needs a parameter)`);
  return { edits, summary: parts.join('; ') };
}

/** Applies edits to a string (tests and previews; the extension uses a WorkspaceEdit). */
export function applyEdits(text: string, edits: TextEdit[]): string {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.start - a.start || b.end - a.end)) out = out.slice(0, e.start) + e.newText + out.slice(e.end);
  return out;
}
