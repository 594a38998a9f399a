/**
 * "Columns…": a small popover of checkboxes, one per metric, choosing the trial table's metric
 * columns (parameters and scores are always shown). The choice is kept in the view state.
 */
import { el } from '../dom';
import type { Column } from './columns';

export class ColumnChooser {
  private readonly pop = el('div', 'popover');
  private readonly btn = el('button', 'tool-button', 'Columns…');

  constructor(tools: HTMLElement, private readonly metrics: () => Column[], private readonly chosen: () => string[], private readonly onChange: (keys: string[]) => void) {
    this.btn.title = 'Choose the metric columns';
    this.btn.setAttribute('aria-haspopup', 'true');
    this.pop.hidden = true;
    this.pop.setAttribute('role', 'dialog');
    this.pop.setAttribute('aria-label', 'Metric columns');
    this.btn.addEventListener('click', (ev) => {
      ev.stopPropagation();
      if (this.pop.hidden) this.open();
      else this.pop.hidden = true;
    });
    document.addEventListener('click', (ev) => {
      if (!this.pop.hidden && !this.pop.contains(ev.target as Node)) this.pop.hidden = true;
    });
    const wrap = el('span', 'popover-anchor');
    wrap.append(this.btn, this.pop);
    tools.append(wrap);
  }

  private open(): void {
    const on = new Set(this.chosen());
    const list = this.metrics().map((c) => {
      const label = el('label', 'check');
      const box = el('input');
      box.type = 'checkbox';
      box.checked = on.has(c.key);
      box.dataset['key'] = c.key;
      box.addEventListener('change', () => {
        const keys = [...this.pop.querySelectorAll<HTMLInputElement>('input[type=checkbox]')].filter((b) => b.checked).map((b) => b.dataset['key']!);
        this.onChange(keys);
      });
      label.append(box, document.createTextNode(` ${c.label}`));
      label.title = c.title;
      return label;
    });
    this.pop.replaceChildren(...(list.length ? list : [el('p', 'note', 'No metrics yet.')]));
    this.pop.hidden = false;
  }
}
