/**
 * One CSV row per trial: number, stage, state, the score (one column per objective), every
 * parameter, every metric, and the error. RFC 4180 quoting (fields with a comma, quote, CR/LF
 * or edge spaces are quoted, quotes doubled), CRLF line ends, so spreadsheets open it as is.
 */
import type { TrialEvent } from '../../protocol/run-events';
import { metricNames, paramNames, type StartLike } from '../analysis/trial-data';

/** A CSV field, quoted when needed. */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** `obj[key]` when it is the object's own key: a metric named `constructor` is not Object's. */
function own(obj: Record<string, unknown> | undefined, key: string): unknown {
  return obj && Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

export function trialsCsv(trials: readonly TrialEvent[], start?: StartLike): string {
  const params = paramNames(trials, start);
  const metrics = metricNames(trials);
  const k = Math.max(1, start?.directions?.length ?? 0, ...trials.map((t) => (Array.isArray(t.score) ? t.score.length : 1)));
  const scoreCols = k === 1 ? ['score'] : Array.from({ length: k }, (_, i) => `score_${i + 1}`);
  // A parameter and a metric may share a name; prefix to keep the header unambiguous.
  const header = ['number', 'stage', 'state', ...scoreCols, ...params.map((p) => (metrics.includes(p) ? `param_${p}` : p)), ...metrics, 'error'];
  const rows = [header.map(csvField).join(',')];
  for (const t of trials) {
    const sc = Array.isArray(t.score) ? t.score : [t.score];
    rows.push(
      [t.number, t.stage, t.state, ...scoreCols.map((_, i) => sc[i] ?? null), ...params.map((p) => own(t.params, p)), ...metrics.map((m) => own(t.metrics, m)), t.error ?? '']
        .map(csvField)
        .join(','),
    );
  }
  return rows.join('\r\n') + '\r\n';
}
