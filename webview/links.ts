/**
 * What links the table and the charts: the selected trial and the column filters (typed in the
 * table or brushed on the parallel coordinates). Views subscribe and redraw; the trial card
 * opens from `open` (a double-click on a row, a click on a chart point).
 */
import type { ColumnFilter } from './table/filters';

type Listener = (what: 'select' | 'filter') => void;

export class Links {
  /** The selected trial's number. */
  selected: number | undefined;
  readonly filters = new Map<string, ColumnFilter>();
  /** Bumped when the filters change (views compare it with what they drew). */
  filterVersion = 0;
  private readonly listeners: Listener[] = [];
  /** Opens a trial (re-runs it), or adds it to the trial card's overlay: set by the trial card. */
  open: (n: number, overlay?: boolean) => void = () => {};

  on(fn: Listener): void {
    this.listeners.push(fn);
  }

  select(n: number | undefined): void {
    if (n === this.selected) return;
    this.selected = n;
    for (const l of this.listeners) l('select');
  }

  setFilter(key: string, f: ColumnFilter | undefined): void {
    const empty = !f || (f.min === undefined && f.max === undefined && !f.text && !f.states?.length);
    if (empty) this.filters.delete(key);
    else this.filters.set(key, f);
    this.filterVersion++;
    for (const l of this.listeners) l('filter');
  }

  clearFilters(): void {
    if (!this.filters.size) return;
    this.filters.clear();
    this.filterVersion++;
    for (const l of this.listeners) l('filter');
  }
}
