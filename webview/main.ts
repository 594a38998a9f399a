/**
 * The results panel: builds the cards, wires the table, the charts and the trial card through
 * one selection/filter model ({@link Links}), and draws what the extension sends
 * (protocol/messages.ts): a snapshot when it loads or becomes visible, then throttled deltas.
 * Drawing is scheduled by the {@link RenderLoop}.
 */
import './panel.css';
import type { ToWebview } from '../protocol/messages';
import { CompareCard } from './cards/compare-card';
import { renderRobustness } from './cards/robustness';
import { ParetoCard } from './cards/pareto-card';
import { renderLog, renderStages } from './cards/stages';
import { SurfaceCard } from './cards/surface-card';
import { EdfChart } from './charts/edf';
import { addSaveTools, saveTools } from './charts/export';
import { HistoryChart } from './charts/history';
import { ImportanceChart } from './charts/importance';
import { ParallelCoordinates } from './charts/parallel';
import { SliceCharts } from './charts/slices';
import { Surface3d } from './charts/surface3d';
import { TrialCard } from './detail/trial-card';
import { card, el } from './dom';
import { RunHeaderView } from './header/run-header';
import { Links } from './links';
import { objectiveTitle } from './metric-info';
import { RenderLoop, timed } from './render-loop';
import { PanelStore } from './store';
import { TrialTable, type TableState } from './table/trial-table';
import { onThemeChange } from './theme';
import { registerUi } from './ui';
import { post, saveView, view } from './vscode-api';

registerUi();
const store = new PanelStore();
const links = new Links();

// ---- layout ---------------------------------------------------------------------------------

const app = document.getElementById('app')!;
app.replaceChildren();
const header = new RunHeaderView(store);
const grid = el('div', 'grid');
const cards = {
  history: card('history', 'Best so far', { wide: true, chart: true }),
  trials: card('trials', 'Trials', { wide: true }),
  detail: card('detail', 'Trial', { wide: true }),
  importance: card('importance', 'Parameter importance', { chart: true }),
  surface: card('heatmap', 'Surface', { chart: true, tall: true }),
  surface3d: card('surface3d', '3-D surface', { chart: true, tall: true }),
  edf: card('edf', 'Distribution of scores', { chart: true, tall: true }),
  slices: card('slices', 'Slices', { wide: true }),
  parallel: card('parallel', 'Parallel coordinates', { wide: true, chart: true }),
  pareto: card('pareto', 'Pareto front', { chart: true, tall: true }),
  compare: card('compare', 'Compare runs', { wide: true }),
  stages: card('stages', 'Stages'),
  robustness: card('robustness', 'Robustness', { wide: true }),
  log: card('log', 'Messages'),
};
grid.append(...Object.values(cards).map((c) => c.card));
const emptyNote = el('p', 'empty', 'No run yet. Run a study (OptStudy: Run Study) or open a saved run.');
app.append(header.root, emptyNote, grid);

const history = new HistoryChart(cards.history.body, store, links);
const table = new TrialTable(cards.trials, store, links, view as TableState, saveView);
const trial = new TrialCard(cards.detail, store, links, () => loop.schedule(), saveTools(cards.detail, 'trial equity'));
const importance = new ImportanceChart(cards.importance.body, cards.importance.note);
const surface = new SurfaceCard(cards.surface, store, links, view, () => (saveView(), loop.dirtyHeavy(true)));
const pareto = new ParetoCard(cards.pareto, store, links, view, () => (saveView(), loop.dirtyHeavy(true)));
const parallel = new ParallelCoordinates(cards.parallel.body, store, links);
const surface3d = new Surface3d(cards.surface3d.body, store, links);
const slices = new SliceCharts(cards.slices.body, store, links);
const compare = new CompareCard(cards.compare, store, () => loop.dirtyHeavy(true));
const edf = new EdfChart(cards.edf.body, store, links, () => compare.edf());
const surfaceArgs = () => [view.heatX ?? '', view.heatY ?? '', view.heatAgg === 'max' ? 'best' : 'mean'] as const;
addSaveTools(cards.history, 'best so far');
addSaveTools(cards.importance, 'parameter importance');
addSaveTools(cards.surface, 'surface', () => surface.draw());
addSaveTools(cards.surface3d, '3-d surface', () => surface3d.draw(...surfaceArgs()));
addSaveTools(cards.edf, 'distribution of scores');
addSaveTools(cards.slices, 'slices');
addSaveTools(cards.parallel, 'parallel coordinates', () => parallel.draw());
addSaveTools(cards.pareto, 'pareto front');
addSaveTools(cards.compare, 'compare runs');
cards.surface3d.note.textContent = 'The Surface card\'s parameters, lifted to the score. Drag to turn; click a point to open its best trial.';
cards.edf.note.textContent = 'Share of feasible trials scoring at most each value: a steep rise near the best means a broad optimum.';
cards.slices.note.textContent = 'The score against each parameter, every feasible trial a point. Click a point to open its trial.';
cards.parallel.note.textContent = 'Drag along an axis to keep only the trials in that range (the table follows); click the axis to clear.';

// ---- linking --------------------------------------------------------------------------------

links.open = (n, overlay) => trial.open(n, overlay);
links.on((what) => {
  if (what === 'select') {
    view.selected = links.selected;
    saveView();
    trial.show(links.selected);
    table.renderWindow();
    loop.dirtyHeavy(true);
  } else {
    table.update(true);
    loop.dirtyHeavy(true);
  }
});

// ---- drawing --------------------------------------------------------------------------------

/** Sections redrawn only when what they show changed. */
let sectionsKey = '';

const loop = new RenderLoop({
  streaming: () => store.header?.status === 'running' || store.header?.status === 'starting',
  light(rebuild) {
    header.render();
    emptyNote.hidden = !!store.header;
    grid.hidden = !store.header;
    if (!store.header) return;
    surface.syncPickers();
    pareto.syncPickers();
    const h = store.header;
    const objs = h.objectives;
    cards.history.note.textContent = objs.length && objs.some((o, i) => objectiveTitle(o, i, objs.length) === 'score' || objectiveTitle(o, i, objs.length).startsWith('objective'))
      ? `score = ${objs.map((o, i) => `${h.directions[i] ?? 'maximize'} ${o}`).join('; ')}`
      : '';
    timed('history', () => history.update(rebuild));
    // Small runs re-sort every frame; big ones with the heavy views.
    if (store.rows.length <= 5000) timed('table', () => table.update());
    else table.renderWindow();
    const key = `${store.epoch}|${store.version}|${h.status}|${store.analysis?.trials}|${!!store.validation}|${store.logs.length}`;
    if (key !== sectionsKey) {
      sectionsKey = key;
      renderStages(cards.stages, store);
      renderLog(cards.log, store);
      renderRobustness(cards.robustness, store, links);
    }
    if (rebuild) trial.redraw();
  },
  heavy(rebuild) {
    if (!store.header) return [];
    return [
      () => store.rows.length > 5000 && timed('table', () => table.update()),
      () => timed('importance', () => importance.update(store, rebuild)),
      () => timed('heatmap', () => surface.draw()),
      () => timed('pareto', () => pareto.draw(rebuild)),
      () => timed('parallel', () => parallel.draw()),
      () => {
        cards.surface3d.card.hidden = cards.surface.card.hidden;
        if (!cards.surface3d.card.hidden) timed('surface3d', () => surface3d.draw(...surfaceArgs()));
      },
      () => timed('slices', () => slices.update(rebuild)),
      () => timed('edf', () => edf.update()),
      () => timed('compare', () => compare.draw()),
    ];
  },
});

// ---- messages -------------------------------------------------------------------------------

window.addEventListener('message', (ev: MessageEvent<ToWebview>) => {
  const m = ev.data;
  if (!m || typeof m !== 'object') return;
  switch (m.type) {
    case 'snapshot':
      onSnapshot(m);
      break;
    case 'delta':
      if (!timed('store', () => store.applyDelta(m.delta))) post({ type: 'ready' });
      else loop.dirtyHeavy(false);
      break;
    case 'trialDetail':
      trial.receive(m.detail);
      break;
    case 'trialDetailPending':
      break;
    case 'compareRun':
      compare.load(m.run);
      break;
  }
  loop.schedule();
});

/**
 * A snapshot of the same run (the host re-sends one whenever the panel shows) keeps the view:
 * the selection, the open trial, the filters, the scroll position — and opens nothing
 * (#19 defect 1). Another run starts clean, at the top (#19 defect 6, item 12).
 */
function onSnapshot(m: Extract<ToWebview, { type: 'snapshot' }>): void {
  const id = m.run?.header.id;
  const previous = store.header?.id ?? view.runId;
  const sameRun = id !== undefined && id === previous;
  trial.setRun(id);
  store.loadSnapshot(m.run);
  view.runId = id;
  view.runDir = m.run?.header.runDir;
  if (sameRun) {
    // A reloaded panel shows its selected trial again (from what the run recorded; no re-run).
    if (links.selected === undefined && view.selected !== undefined && store.row(view.selected)) links.select(view.selected);
    else trial.show(links.selected);
  } else {
    view.selected = undefined;
    links.select(undefined);
    links.clearFilters();
    trial.hide();
    table.resetScroll();
    window.scrollTo(0, 0);
  }
  saveView();
  loop.dirtyHeavy(true);
}

onThemeChange(() => loop.themeChanged());

// Custom canvases follow their boxes; Chart.js charts resize themselves.
const ro = new ResizeObserver(() => loop.dirtyHeavy(true));
ro.observe(cards.surface.body);
ro.observe(cards.parallel.body);
ro.observe(cards.surface3d.body);

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') post({ type: 'ready' });
});

header.render();
post({ type: 'ready' });
