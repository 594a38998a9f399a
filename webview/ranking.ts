/**
 * The ranking: the best K trials under the chosen sort key, kept incrementally — a delta merges
 * its new rows into the current top K (O(K + new)), a new key re-sorts once.
 */
import type { TrialRow } from '../protocol/messages';
import { firstScore, scoreAt, type PanelStore } from './store';

export const TOP_K = 50;

/** `score`, `score:1` (second objective), `metric:NAME` or `param:NAME`. */
export type SortKey = string;

export class Ranking {
  key: SortKey = 'score';
  /** Best first: for `score` this means the objective's direction; for others, descending values. */
  desc = true;
  top: TrialRow[] = [];
  private processed = 0;
  private epoch = -1;
  private sig = '';

  /** `k`: how many rows to keep (the table shows 50; parallel coordinates colour 300). */
  constructor(private readonly k = TOP_K) {}

  setSort(key: SortKey, desc: boolean): void {
    this.key = key;
    this.desc = desc;
  }

  /** The value a row sorts by (null sorts last). */
  value(store: PanelStore, r: TrialRow): number | string | null {
    const k = this.key;
    if (k === 'score') return firstScore(r.sc);
    if (k.startsWith('score:')) return scoreAt(r.sc, Number(k.slice(6)));
    if (k.startsWith('metric:')) return store.metric(r, k.slice(7));
    if (k.startsWith('param:')) {
      const v = r.p[store.paramIndex(k.slice(6))];
      return v === null || v === undefined ? null : typeof v === 'number' ? v : String(v);
    }
    if (k === 'number') return r.n;
    return null;
  }

  private compare(store: PanelStore): (a: TrialRow, b: TrialRow) => number {
    // For a score, "descending" means best first whatever the objective's direction.
    const objIdx = this.key === 'score' ? 0 : this.key.startsWith('score:') ? Number(this.key.slice(6)) : -1;
    const flip = objIdx >= 0 && store.directions[objIdx] === 'minimize' ? -1 : 1;
    const sign = (this.desc ? -1 : 1) * flip;
    return (a, b) => {
      const x = this.value(store, a);
      const y = this.value(store, b);
      if (x === null || y === null) return x === y ? a.n - b.n : x === null ? 1 : -1;
      if (x === y) return a.n - b.n;
      return (x < y ? -1 : 1) * sign;
    };
  }

  /** Brings the top K up to date with the store; returns true when it changed. */
  update(store: PanelStore, includeInfeasible = false): boolean {
    const sig = `${this.key}|${this.desc}|${includeInfeasible}`;
    const eligible = (r: TrialRow) => r.st === 'complete' || (includeInfeasible && r.st === 'infeasible');
    const cmp = this.compare(store);
    let candidates: TrialRow[];
    const fresh = sig !== this.sig || this.epoch !== store.epoch;
    if (fresh) {
      this.sig = sig;
      this.epoch = store.epoch;
      candidates = store.rows.filter(eligible);
    } else {
      if (this.processed === store.rows.length) return false;
      candidates = this.top.concat(store.rows.slice(this.processed).filter(eligible));
    }
    this.processed = store.rows.length;
    candidates.sort(cmp);
    const next = candidates.slice(0, this.k);
    // Most deltas leave the top rows as they were: then the table is not rebuilt.
    const same = next.length === this.top.length && next.every((r, i) => r === this.top[i]);
    this.top = next;
    return fresh || !same;
  }
}
