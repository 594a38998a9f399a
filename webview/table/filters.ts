/**
 * Column filters of the trial table, shared with the charts (brushing an axis of the parallel
 * coordinates sets the same filter the table's range box shows). A numeric filter is a closed
 * range, typed as `0.3..0.5`, `>= 0.3`, `< 10` or a single value; a text filter matches a
 * substring; the state filter keeps the chosen states.
 */
import type { TrialRow } from '../../protocol/messages';
import type { TrialState } from '../../protocol/run-events';
import { fmt } from '../format';
import type { PanelStore } from '../store';
import { valueGetter } from './columns';

export interface ColumnFilter {
  min?: number;
  max?: number;
  text?: string;
  states?: TrialState[];
}

/** Parses what a user typed in a numeric filter box; null for an empty box, undefined when it does not parse. */
export function parseRange(s: string): ColumnFilter | null | undefined {
  const t = s.trim().replace(/\s+/g, ' ').replace(/,/g, '');
  if (!t) return null;
  const num = (x: string) => (x.trim() === '' ? NaN : Number(x.trim()));
  let m = /^(-?[\d.]+(?:e-?\d+)?)?\s*(?:\.\.|…|to)\s*(-?[\d.]+(?:e-?\d+)?)?$/i.exec(t);
  if (m && (m[1] || m[2])) {
    const f: ColumnFilter = {};
    if (m[1]) f.min = num(m[1]);
    if (m[2]) f.max = num(m[2]);
    return Object.values(f).every((v) => Number.isFinite(v)) ? f : undefined;
  }
  m = /^(>=|<=|>|<|=|≥|≤)\s*(-?[\d.]+(?:e-?\d+)?)$/.exec(t);
  if (m) {
    const v = num(m[2]!);
    if (!Number.isFinite(v)) return undefined;
    if (m[1] === '=') return { min: v, max: v };
    return /[>≥]/.test(m[1]!) ? { min: v } : { max: v };
  }
  const v = num(t);
  return Number.isFinite(v) ? { min: v, max: v } : undefined;
}

/** How a numeric filter reads back in its box. */
export function rangeText(f: ColumnFilter | undefined): string {
  if (!f || (f.min === undefined && f.max === undefined)) return '';
  if (f.min !== undefined && f.max !== undefined) return f.min === f.max ? fmt(f.min, 6) : `${fmt(f.min, 6)}..${fmt(f.max, 6)}`;
  return f.min !== undefined ? `>= ${fmt(f.min, 6)}` : `<= ${fmt(f.max!, 6)}`;
}

/** A predicate for all active filters (null when none is active). */
export function rowPredicate(store: PanelStore, filters: Map<string, ColumnFilter>): ((r: TrialRow) => boolean) | null {
  const tests: ((r: TrialRow) => boolean)[] = [];
  for (const [key, f] of filters) {
    const get = valueGetter(store, key);
    if (f.states?.length) {
      const ok = new Set(f.states);
      tests.push((r) => ok.has(r.st));
    }
    if (f.text) {
      const needle = f.text.toLowerCase();
      tests.push((r) => String(get(r) ?? '').toLowerCase().includes(needle));
    }
    if (f.min !== undefined || f.max !== undefined) {
      const lo = f.min ?? -Infinity;
      const hi = f.max ?? Infinity;
      tests.push((r) => {
        const v = get(r);
        return typeof v === 'number' && v >= lo && v <= hi;
      });
    }
  }
  if (!tests.length) return null;
  return (r) => tests.every((t) => t(r));
}
