/**
 * The table of ALL trials, virtualized: only the rows in view (plus a margin) exist in the DOM,
 * spacer rows stand in for the rest, so 100,000 trials scroll as smoothly as 100. Sorting and
 * filtering work on an index array (`Int32Array`) over the store's rows, recomputed when the
 * sort, the filters or the rows change (the render loop throttles that while a run streams).
 * One click selects a trial (linked to the charts), a double-click or Enter opens it (re-runs it).
 */
import type { TrialRow } from '../../protocol/messages';
import type { Card } from '../dom';
import { el } from '../dom';
import { fmtCount } from '../format';
import type { Links } from '../links';
import type { PanelStore } from '../store';
import { allColumns, cellText, valueGetter, visibleColumns, type Column } from './columns';
import { parseRange, rangeText, rowPredicate } from './filters';
import { ColumnChooser } from './column-chooser';

export const ROW_H = 24;
const OVERSCAN = 8;

export interface TableState {
  sortKey: string;
  sortDesc: boolean;
  columns?: string[];
}

export class TrialTable {
  private readonly scroller = el('div', 'table-scroll');
  private readonly table = el('table', 'trials');
  private readonly colgroup = el('colgroup');
  private readonly thead = el('thead');
  private readonly tbody = el('tbody');
  private readonly topSpacer = el('tr', 'spacer');
  private readonly bottomSpacer = el('tr', 'spacer');
  private readonly pool: HTMLTableRowElement[] = [];
  private readonly chooser: ColumnChooser;
  private cols: Column[] = [];
  private colSig = '';
  private order: Int32Array = new Int32Array(0);
  private orderSig = '';
  private contentVersion = 0;
  private windowSig = '';

  constructor(private readonly card: Card, private readonly store: PanelStore, private readonly links: Links, private readonly state: TableState, private readonly saveState: () => void) {
    this.table.append(this.colgroup, this.thead, this.tbody);
    this.scroller.append(this.table);
    this.scroller.tabIndex = 0;
    this.scroller.setAttribute('role', 'grid');
    card.body.append(this.scroller);
    this.chooser = new ColumnChooser(card.tools, () => allColumns(store).filter((c) => c.key.startsWith('metric:')), () => this.chosen(), (keys) => {
      state.columns = keys;
      saveState();
      this.update(true);
    });
    this.scroller.addEventListener('scroll', () => this.renderWindow());
    this.tbody.addEventListener('click', (ev) => {
      // Shift+click belongs to Shift+double-click (overlay): the trial shown stays selected.
      if (ev.shiftKey) return;
      const n = this.rowOf(ev.target);
      if (n !== undefined) this.links.select(n);
    });
    this.tbody.addEventListener('dblclick', (ev) => {
      const n = this.rowOf(ev.target);
      if (n !== undefined) this.links.open(n, ev.shiftKey);
    });
    this.scroller.addEventListener('keydown', (ev) => this.onKey(ev));
  }

  private chosen(): string[] {
    return this.state.columns ?? visibleColumns(this.store, undefined).filter((c) => c.key.startsWith('metric:')).map((c) => c.key);
  }

  private rowOf(target: EventTarget | null): number | undefined {
    const tr = (target as HTMLElement | null)?.closest?.('tr[data-n]') as HTMLElement | null;
    return tr ? Number(tr.dataset['n']) : undefined;
  }

  private onKey(ev: KeyboardEvent): void {
    if (ev.target instanceof HTMLInputElement || ev.target instanceof HTMLSelectElement) return;
    const pos = this.positionOf(this.links.selected);
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      const next = Math.min(this.order.length - 1, Math.max(0, pos < 0 ? 0 : pos + (ev.key === 'ArrowDown' ? 1 : -1)));
      const r = this.store.rows[this.order[next]!];
      if (r) {
        this.links.select(r.n);
        this.reveal(r.n);
      }
    } else if (ev.key === 'Enter' && this.links.selected !== undefined) {
      this.links.open(this.links.selected);
    }
  }

  /** Sorts by a column: a second click on the same column flips the direction. */
  setSort(key: string): void {
    if (this.state.sortKey === key) this.state.sortDesc = !this.state.sortDesc;
    else {
      this.state.sortKey = key;
      // Best first for scores; for the rest, the natural reading (biggest returns first, smallest drawdowns).
      this.state.sortDesc = !/drawdown|^metric:lost$|^param:|^number$|^stage$|^state$/.test(key);
    }
    this.saveState();
    this.update(true);
  }

  /** Trials shown (after the filters), in order. */
  get shown(): number {
    return this.order.length;
  }

  /** Brings the table up to date; `force` re-sorts even when only new rows arrived. */
  update(force = false): void {
    const s = this.store;
    if (!s.header) return;
    this.cols = visibleColumns(s, this.state.columns);
    if (!this.cols.some((c) => c.key === this.state.sortKey)) this.state.sortKey = this.cols.find((c) => c.key === 'score') ? 'score' : 'number';
    const colSig = this.cols.map((c) => c.key).join('|');
    if (colSig !== this.colSig) {
      this.colSig = colSig;
      this.buildHead();
    }
    this.syncHead();
    const sig = `${s.epoch}|${s.rows.length}|${this.state.sortKey}|${this.state.sortDesc}|${this.links.filterVersion}|${s.analysis?.trials ?? 0}`;
    if (force || sig !== this.orderSig) {
      this.orderSig = sig;
      this.order = this.sortedOrder();
      this.contentVersion++;
    }
    this.note();
    this.renderWindow();
  }

  private sortedOrder(): Int32Array {
    const rows = this.store.rows;
    const keep = rowPredicate(this.store, this.links.filters);
    const idx: number[] = [];
    for (let i = 0; i < rows.length; i++) if (!keep || keep(rows[i]!)) idx.push(i);
    const order = Int32Array.from(idx);
    const key = this.state.sortKey;
    const get = valueGetter(this.store, key);
    const objIdx = key === 'score' ? 0 : key.startsWith('score:') ? Number(key.slice(6)) : -1;
    const flip = objIdx >= 0 && this.store.directions[objIdx] === 'minimize' ? -1 : 1;
    const sign = (this.state.sortDesc ? -1 : 1) * flip;
    const nums = new Float64Array(rows.length).fill(NaN);
    const strs: (string | null)[] = [];
    let textual = false;
    for (const i of order) {
      const v = get(rows[i]!);
      if (typeof v === 'number') nums[i] = v;
      else if (typeof v === 'string') {
        textual = true;
        strs[i] = v;
      }
    }
    const tie = (a: number, b: number) => rows[a]!.n - rows[b]!.n;
    if (textual) {
      order.sort((a, b) => {
        const x = strs[a] ?? (Number.isNaN(nums[a]!) ? null : String(nums[a]));
        const y = strs[b] ?? (Number.isNaN(nums[b]!) ? null : String(nums[b]));
        if (x === null || y === null) return x === y ? tie(a, b) : x === null ? 1 : -1;
        return x === y ? tie(a, b) : x.localeCompare(y, undefined, { numeric: true }) * sign;
      });
    } else {
      order.sort((a, b) => {
        const x = nums[a]!;
        const y = nums[b]!;
        // NaN (no value) sorts last whatever the direction.
        if (x !== x) return y !== y ? tie(a, b) : 1;
        if (y !== y) return -1;
        return x === y ? tie(a, b) : (x < y ? -1 : 1) * sign;
      });
    }
    return order;
  }

  private buildHead(): void {
    this.colgroup.replaceChildren(...this.cols.map((c) => {
      const col = el('col');
      col.style.width = `${c.width}px`;
      return col;
    }));
    this.table.style.minWidth = `${this.cols.reduce((a, c) => a + c.width, 0)}px`;
    const names = el('tr', 'names');
    const filters = el('tr', 'filters');
    for (const c of this.cols) {
      const th = el('th', c.cls, c.label);
      th.title = `${c.title}. Click to sort.`;
      th.dataset['key'] = c.key;
      th.tabIndex = 0;
      th.addEventListener('click', () => this.setSort(c.key));
      th.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter' || ev.key === ' ') this.setSort(c.key);
      });
      names.append(th);
      const fth = el('th', 'filter');
      fth.append(this.filterInput(c));
      filters.append(fth);
    }
    this.thead.replaceChildren(names, filters);
    this.topSpacer.replaceChildren(el('td'));
    this.bottomSpacer.replaceChildren(el('td'));
    (this.topSpacer.firstChild as HTMLTableCellElement).colSpan = this.cols.length;
    (this.bottomSpacer.firstChild as HTMLTableCellElement).colSpan = this.cols.length;
    this.pool.length = 0;
    this.windowSig = '';
  }

  private filterInput(c: Column): HTMLElement {
    if (c.kind === 'state') {
      const sel = el('select', 'filter');
      sel.setAttribute('aria-label', 'Filter by state');
      for (const [v, label] of [['', 'all'], ['complete', 'complete'], ['infeasible', 'infeasible'], ['failed', 'failed'], ['complete,infeasible', 'not failed']]) {
        const o = el('option', undefined, label);
        o.value = v!;
        sel.append(o);
      }
      sel.dataset['key'] = c.key;
      sel.addEventListener('change', () => this.links.setFilter(c.key, sel.value ? { states: sel.value.split(',') as TrialRow['st'][] } : undefined));
      return sel;
    }
    const input = el('input', 'filter');
    input.type = 'text';
    input.dataset['key'] = c.key;
    input.placeholder = c.kind === 'num' ? 'a..b, >= a' : 'contains';
    input.setAttribute('aria-label', `Filter ${c.label}`);
    input.title = c.kind === 'num' ? 'A range: 0.3..0.5, >= 0.3, < 10, or one value' : 'Trials whose value contains this text';
    let timer: number | undefined;
    input.addEventListener('input', () => {
      clearTimeout(timer);
      timer = window.setTimeout(() => {
        if (c.kind !== 'num') {
          this.links.setFilter(c.key, input.value.trim() ? { text: input.value.trim() } : undefined);
          return;
        }
        const f = parseRange(input.value);
        input.classList.toggle('invalid', f === undefined);
        if (f !== undefined) this.links.setFilter(c.key, f ?? undefined);
      }, 250);
    });
    return input;
  }

  /** Shows the sort arrow and the filters set elsewhere (a brush) in the header. */
  private syncHead(): void {
    for (const th of this.thead.querySelectorAll<HTMLElement>('tr.names th')) {
      const on = th.dataset['key'] === this.state.sortKey;
      th.classList.toggle('sorted', on);
      if (on) th.setAttribute('aria-sort', this.state.sortDesc ? 'descending' : 'ascending');
      else th.removeAttribute('aria-sort');
      th.dataset['arrow'] = on ? (this.state.sortDesc ? '▼' : '▲') : '';
    }
    for (const input of this.thead.querySelectorAll<HTMLInputElement>('input.filter')) {
      if (document.activeElement === input) continue;
      const f = this.links.filters.get(input.dataset['key']!);
      input.value = f?.text ?? rangeText(f);
      input.classList.remove('invalid');
    }
  }

  private note(): void {
    const total = this.store.rows.length;
    const n = this.order.length;
    const parts = [n === total ? `${fmtCount(total)} trials.` : `${fmtCount(n)} of ${fmtCount(total)} trials match the filters.`];
    parts.push('Click a row to select it; double-click (or Enter) runs that backtest and opens the trial.');
    this.card.note.replaceChildren(document.createTextNode(parts.join(' ')));
    if (this.links.filters.size) {
      const clear = el('button', 'link', 'Clear filters');
      clear.addEventListener('click', () => this.links.clearFilters());
      this.card.note.append(' ', clear);
    }
  }

  /** Draws the rows in view. Cheap when nothing moved: rows are reused, only changed cells are rewritten. */
  renderWindow(): void {
    const total = this.order.length;
    const viewH = this.scroller.clientHeight || 400;
    const headH = this.thead.offsetHeight;
    const first = Math.max(0, Math.floor(Math.max(0, this.scroller.scrollTop - headH) / ROW_H) - OVERSCAN);
    const last = Math.min(total, first + Math.ceil(viewH / ROW_H) + 2 * OVERSCAN);
    const sig = `${first}|${last}|${this.contentVersion}`;
    if (sig === this.windowSig) {
      // Same rows in view (a selection changed): classes only, the row elements stay (a double-click's two clicks land on one element).
      for (const tr of this.pool) this.markSelected(tr);
      return;
    }
    this.windowSig = sig;
    this.topSpacer.style.height = `${first * ROW_H}px`;
    this.bottomSpacer.style.height = `${(total - last) * ROW_H}px`;
    const count = last - first;
    while (this.pool.length < count) this.pool.push(this.newRow());
    const rows = this.store.rows;
    const getters = this.cols.map((c) => valueGetter(this.store, c.key));
    const kids: HTMLElement[] = [this.topSpacer];
    for (let k = 0; k < count; k++) {
      const r = rows[this.order[first + k]!]!;
      const tr = this.pool[k]!;
      const key = `${r.n}|${this.contentVersion}`;
      if (tr.dataset['key'] !== key) {
        tr.dataset['key'] = key;
        tr.dataset['n'] = String(r.n);
        tr.className = `st-${r.st}`;
        tr.title = r.e ? `${r.st}: ${r.e}` : '';
        const cells = tr.children;
        for (let c = 0; c < this.cols.length; c++) {
          const td = cells[c] as HTMLElement;
          td.textContent = cellText(this.cols[c]!.key, getters[c]!(r));
        }
      }
      this.markSelected(tr);
      kids.push(tr);
    }
    kids.push(this.bottomSpacer);
    this.tbody.replaceChildren(...kids);
  }

  private markSelected(tr: HTMLTableRowElement): void {
    const on = tr.dataset['n'] !== undefined && Number(tr.dataset['n']) === this.links.selected;
    tr.classList.toggle('selected', on);
    tr.setAttribute('aria-selected', String(on));
  }

  private newRow(): HTMLTableRowElement {
    const tr = el('tr');
    for (const c of this.cols) tr.append(el('td', `${c.kind === 'num' ? 'num' : 'left'}${c.cls ? ` ${c.cls}` : ''}`));
    return tr;
  }

  private positionOf(n: number | undefined): number {
    if (n === undefined) return -1;
    const i = this.store.indexOf(n);
    return i < 0 ? -1 : this.order.indexOf(i);
  }

  /** Scrolls a trial's row into view (a chart click selected it). */
  reveal(n: number): void {
    const pos = this.positionOf(n);
    if (pos < 0) return;
    const top = pos * ROW_H;
    const headH = this.thead.offsetHeight;
    const view = this.scroller.clientHeight - headH;
    if (top < this.scroller.scrollTop || top + ROW_H > this.scroller.scrollTop + view) this.scroller.scrollTop = Math.max(0, top - view / 2);
    this.renderWindow();
  }

  /** Back to the top (a new run). */
  resetScroll(): void {
    this.scroller.scrollTop = 0;
  }
}
