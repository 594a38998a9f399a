/**
 * The trial table's columns: what each shows, its header in words with its unit, and how its
 * value is read from a trial row. Keys: `number`, `stage`, `state`, `score` / `score:i`,
 * `param:NAME`, `metric:NAME`, `robust`.
 */
import type { TrialRow } from '../../protocol/messages';
import { fmt, fmtValue } from '../format';
import { metricInfo, metricTitle, objectiveTitle } from '../metric-info';
import { firstScore, scoreAt, type PanelStore } from '../store';

export interface Column {
  key: string;
  label: string;
  title: string;
  /** `num` right-aligned and range-filtered; `text` matched by substring; `state` by state. */
  kind: 'num' | 'text' | 'state';
  cls?: string;
  width: number;
}

/** Metrics shown by default when present (the column chooser adds any other). */
export const KEY_METRICS = ['total_return_pct', 'max_drawdown_pct', 'sharpe', 'profit_factor', 'trades', 'win_rate_pct'];

/** Robust score per trial number: the host's list when it sends one, else the plateau of the finalists. */
export function robustScores(store: PanelStore): Map<number, number> {
  const a = store.analysis as (PanelStore['analysis'] & { robustScores?: { number: number; robust: number }[] }) | null;
  const out = new Map<number, number>();
  for (const r of a?.robustScores ?? []) out.set(r.number, r.robust);
  for (const p of a?.plateau ?? []) if (p.number !== undefined && !out.has(p.number)) out.set(p.number, p.robust);
  return out;
}

/** Every column the table can show, in order (the chooser lists them; `visible` picks). */
export function allColumns(store: PanelStore): Column[] {
  const h = store.header;
  const cols: Column[] = [{ key: 'number', label: '#', title: 'Trial number', kind: 'num', width: 60 }];
  if (h && h.stages.length > 1) cols.push({ key: 'stage', label: 'Stage', title: 'The stage that ran the trial', kind: 'text', width: 90 });
  cols.push({ key: 'state', label: 'State', title: 'complete, infeasible (a constraint failed) or failed', kind: 'state', width: 92 });
  const nObj = Math.max(1, h?.directions.length ?? 1);
  for (let i = 0; i < nObj; i++) {
    const expr = h?.objectives[i];
    const dir = h?.directions[i] ?? 'maximize';
    cols.push({ key: i === 0 ? 'score' : `score:${i}`, label: objectiveTitle(expr, i, nObj), title: `${dir} ${expr ?? 'score'}`, kind: 'num', cls: 'score', width: 96 });
  }
  if (robustScores(store).size) cols.push({ key: 'robust', label: 'Robust score', title: 'Score of the neighbourhood: mean − std of the trials one step around (plateau); higher is sturdier', kind: 'num', cls: 'score', width: 104 });
  for (const p of store.tables.params) cols.push({ key: `param:${p}`, label: p, title: `parameter ${p}`, kind: 'num', cls: 'param', width: Math.max(70, 8 * p.length + 24) });
  const objs = new Set(h?.objectives ?? []);
  for (const m of store.tables.metrics) {
    if (objs.has(m)) continue;
    const info = metricInfo(m);
    cols.push({ key: `metric:${m}`, label: metricTitle(m), title: `${info.title ?? info.label}${info.unit ? ` (${info.unit})` : ''} — ${m}`, kind: 'num', width: Math.max(84, 7.5 * metricTitle(m).length + 28) });
  }
  return cols;
}

/** The columns shown: everything but metrics, plus the chosen metrics (default {@link KEY_METRICS}). */
export function visibleColumns(store: PanelStore, chosen: string[] | undefined): Column[] {
  const all = allColumns(store);
  const pick = new Set(chosen ?? KEY_METRICS.map((m) => `metric:${m}`));
  return all.filter((c) => !c.key.startsWith('metric:') || pick.has(c.key));
}

/** Reads a column's raw value for a row (null when the trial has none). */
export function valueGetter(store: PanelStore, key: string): (r: TrialRow) => number | string | null {
  if (key === 'number') return (r) => r.n;
  if (key === 'stage') return (r) => store.header?.stages[r.s]?.name ?? null;
  if (key === 'state') return (r) => r.st;
  if (key === 'score') return (r) => firstScore(r.sc);
  if (key.startsWith('score:')) {
    const i = Number(key.slice(6));
    return (r) => scoreAt(r.sc, i);
  }
  if (key === 'robust') {
    const m = robustScores(store);
    return (r) => m.get(r.n) ?? null;
  }
  if (key.startsWith('param:')) {
    const i = store.paramIndex(key.slice(6));
    return (r) => {
      const v = r.p[i];
      return v === null || v === undefined ? null : typeof v === 'boolean' ? String(v) : v;
    };
  }
  if (key.startsWith('metric:')) {
    const i = store.metricIndex(key.slice(7));
    return (r) => {
      const v = i < 0 ? undefined : r.m[i];
      return typeof v === 'number' ? v : null;
    };
  }
  return () => null;
}

/** A cell's text. */
export function cellText(key: string, v: number | string | null): string {
  if (v === null) return key === 'robust' ? '' : '–';
  if (typeof v === 'string') return v;
  if (key === 'number') return String(v);
  return key.startsWith('param:') ? fmtValue(v) : fmt(v);
}
