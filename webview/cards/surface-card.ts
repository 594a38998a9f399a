/**
 * The surface card: the score over any two parameters (mean or best per cell), chosen in its
 * pickers; until the user picks, the two most important parameters.
 */
import type { PanelViewState } from '../../protocol/messages';
import type { Card } from '../dom';
import { el } from '../dom';
import type { Links } from '../links';
import type { PanelStore } from '../store';
import { dropdown, setDropdownOptions } from '../ui';
import { Heatmap } from '../charts/heatmap';

export class SurfaceCard {
  private readonly heat: Heatmap;
  private readonly xPick: HTMLElement;
  private readonly yPick: HTMLElement;

  constructor(private readonly card: Card, private readonly store: PanelStore, links: Links, private readonly view: PanelViewState, changed: () => void) {
    this.heat = new Heatmap(card.body, store, links);
    const pick = (axis: 'heatX' | 'heatY') => (v: string) => {
      view[axis] = v;
      view.heatPicked = true;
      changed();
    };
    this.xPick = dropdown([], '', pick('heatX'), 'Surface: parameter on the x axis');
    this.yPick = dropdown([], '', pick('heatY'), 'Surface: parameter on the y axis');
    const agg = dropdown([{ value: 'mean', label: 'mean score' }, { value: 'best', label: 'best score' }], view.heatAgg === 'max' ? 'best' : 'mean', (v) => {
      view.heatAgg = v === 'best' ? 'max' : 'mean';
      changed();
    }, 'Surface: aggregate per cell');
    card.tools.append(this.xPick, el('span', 'picker-label', '×'), this.yPick, agg);
    card.note.textContent = 'Hatched: not tried. ×: tried, but no feasible result. Lines: contours of the score. Click a cell to open its best trial.';
  }

  /** Keeps the pickers in step with the run's parameters. */
  syncPickers(): void {
    const params = this.store.tables.params;
    const v = this.view;
    if (!v.heatPicked) {
      const ranked = [...(this.store.analysis?.importance ?? [])].sort((a, b) => b.importance - a.importance).map((i) => i.param).filter((p) => params.includes(p));
      const order = [...ranked, ...params.filter((p) => !ranked.includes(p))];
      v.heatX = order[0];
      v.heatY = order[1];
    }
    if (!v.heatX || !params.includes(v.heatX)) v.heatX = params[0];
    if (!v.heatY || !params.includes(v.heatY) || v.heatY === v.heatX) v.heatY = params.find((p) => p !== v.heatX);
    const opts = params.map((p) => ({ value: p, label: p }));
    setDropdownOptions(this.xPick, opts, v.heatX ?? '');
    setDropdownOptions(this.yPick, opts, v.heatY ?? '');
    this.card.card.hidden = params.length < 2;
  }

  draw(): void {
    if (this.card.card.hidden) return;
    this.heat.draw(this.view.heatX ?? '', this.view.heatY ?? '', this.view.heatAgg === 'max' ? 'best' : 'mean');
  }
}
