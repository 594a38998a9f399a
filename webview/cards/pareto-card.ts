/** The Pareto card (several objectives): two objective pickers over the Pareto scatter. */
import type { PanelViewState } from '../../protocol/messages';
import { el, type Card } from '../dom';
import type { Links } from '../links';
import { objectiveTitle } from '../metric-info';
import type { PanelStore } from '../store';
import { dropdown, setDropdownOptions } from '../ui';
import { ParetoChart } from '../charts/pareto';

export class ParetoCard {
  private readonly chart: ParetoChart;
  private readonly xPick: HTMLElement;
  private readonly yPick: HTMLElement;
  private readonly vs = el('span', 'picker-label', 'vs');

  constructor(private readonly card: Card, private readonly store: PanelStore, links: Links, private readonly view: PanelViewState, changed: () => void) {
    this.chart = new ParetoChart(card.body, store, links);
    this.xPick = dropdown([], '0', (v) => ((view.paretoX = Number(v)), changed()), 'Pareto: objective on the x axis');
    this.yPick = dropdown([], '1', (v) => ((view.paretoY = Number(v)), changed()), 'Pareto: objective on the y axis');
    card.tools.append(this.xPick, this.vs, this.yPick);
  }

  syncPickers(): void {
    const h = this.store.header!;
    const n = h.directions.length;
    this.card.card.hidden = n < 2;
    const v = this.view;
    if ((v.paretoX ?? 0) >= n) v.paretoX = 0;
    if ((v.paretoY ?? 1) >= n || v.paretoY === v.paretoX) v.paretoY = v.paretoX === 0 ? 1 : 0;
    const opts = h.directions.map((d, i) => ({ value: String(i), label: `${objectiveTitle(h.objectives[i], i, n)} (${d})` }));
    setDropdownOptions(this.xPick, opts, String(v.paretoX ?? 0));
    setDropdownOptions(this.yPick, opts, String(v.paretoY ?? 1));
    this.xPick.hidden = this.yPick.hidden = this.vs.hidden = n <= 2;
  }

  draw(rebuild: boolean): void {
    if (!this.card.card.hidden) this.chart.update(this.view.paretoX ?? 0, this.view.paretoY ?? 1, rebuild);
  }
}
