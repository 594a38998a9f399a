/**
 * The results panel. It draws what the extension sends (protocol/messages.ts): a snapshot when
 * it loads or becomes visible, then throttled deltas. All rendering is coalesced into one
 * animation frame per burst of messages; the expensive views (heatmap, parallel coordinates,
 * Pareto, the panel's own importance estimate) redraw at most twice a second while streaming.
 */
import './panel.css';
import type { FromWebview, PanelViewState, RunHeader, ToWebview, TrialDetail, TrialRow } from '../protocol/messages';
import type { RunValidation, TrialSummary } from '../protocol/run-events';
import { fmt } from './charts/chartjs';
import { EquityChart } from './charts/equity';
import { Heatmap } from './charts/heatmap';
import { HistoryChart } from './charts/history';
import { ImportanceChart } from './charts/importance';
import { ParallelCoordinates } from './charts/parallel';
import { ParetoChart } from './charts/pareto';
import { Ranking } from './ranking';
import { firstScore, PanelStore, scoreAt } from './store';
import { onThemeChange } from './theme';
import { badge, button, dropdown, registerUi, setDisabled, setDropdownOptions, spinner, type DropdownOption } from './ui';

interface VsCodeApi {
  postMessage(msg: FromWebview): void;
  getState(): PanelViewState | undefined;
  setState(s: PanelViewState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const post = (m: FromWebview) => vscode.postMessage(m);
const view: PanelViewState = { sortKey: 'score', sortDesc: true, heatAgg: 'mean', paretoX: 0, paretoY: 1, ...(vscode.getState() ?? {}) };
const saveView = () => vscode.setState(view);

/** Metrics shown as table columns when present (any other metric is reachable through "Sort by"). */
const KEY_METRICS = ['sharpe', 'total_return_pct', 'max_drawdown_pct', 'profit_factor', 'trades', 'win_rate_pct'];
/** The heavy views redraw at most this often while streaming, or 8× their last cost when that is longer (a busy machine stays responsive). */
const HEAVY_INTERVAL_MS = 500;
let heavyInterval = HEAVY_INTERVAL_MS;

registerUi();
const store = new PanelStore();
const ranking = new Ranking();
ranking.setSort(view.sortKey ?? 'score', view.sortDesc ?? true);

// ---- DOM skeleton ---------------------------------------------------------------------------

const el = <K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};

function card(id: string, title: string, opts: { wide?: boolean; chart?: boolean; tall?: boolean } = {}) {
  const c = el('section', `card${opts.wide ? ' wide' : ''}`);
  c.id = id;
  const head = el('div', 'card-head');
  const h = el('h2', undefined, title);
  const tools = el('div', 'tools');
  head.append(h, tools);
  const note = el('p', 'note');
  const body = el('div', opts.chart ? `chart${opts.tall ? ' tall' : ''}` : 'body');
  c.append(head, note, body);
  return { card: c, tools, note, body, title: h };
}

const app = document.getElementById('app')!;
app.replaceChildren();

// Header.
const header = el('header', 'run-header');
const titleRow = el('div', 'title-row');
const studyTitle = el('h1', undefined, 'OptStudy');
const statusSlot = el('span', 'status-slot');
const stageLabel = el('span', 'stage-label');
const actions = el('div', 'actions');
const cancelBtn = button('Cancel', { onClick: () => post({ type: 'cancel' }), title: 'Stop the run; finished trials are kept in its journal' });
const resumeBtn = button('Resume', { onClick: () => post({ type: 'resume' }), title: 'Continue this run from its journal' });
const exportBtn = button('Export…', { onClick: () => post({ type: 'exportReport' }), title: 'Save an HTML, CSV or JSON report of this run' });
const runsBtn = button('Runs…', { onClick: () => post({ type: 'listRuns' }), title: 'Open another saved run' });
actions.append(cancelBtn, resumeBtn, exportBtn, runsBtn);
titleRow.append(studyTitle, statusSlot, stageLabel, actions);
const progressRow = el('div', 'progress-row');
const bar = el('div', 'bar');
bar.setAttribute('role', 'progressbar');
bar.setAttribute('aria-valuemin', '0');
bar.setAttribute('aria-valuemax', '100');
const fill = el('div', 'fill');
bar.append(fill);
const progressText = el('span', 'progress-text');
progressRow.append(bar, progressText);
const facts = el('div', 'facts');
header.append(titleRow, progressRow, facts);

const grid = el('div', 'grid');
const historyCard = card('history', 'Best so far', { wide: true, chart: true });
const rankingCard = card('ranking', 'Ranking', { wide: true });
const detailCard = card('detail', 'Trial', { wide: true });
const importanceCard = card('importance', 'Parameter importance', { chart: true });
const heatCard = card('heatmap', 'Surface', { chart: true, tall: true });
const paretoCard = card('pareto', 'Pareto front', { chart: true, tall: true });
const parallelCard = card('parallel', 'Parallel coordinates', { wide: true, chart: true });
const stagesCard = card('stages', 'Stages');
const robustCard = card('robustness', 'Robustness', { wide: true });
const logCard = card('log', 'Messages');
grid.append(historyCard.card, rankingCard.card, detailCard.card, importanceCard.card, heatCard.card, paretoCard.card, parallelCard.card, stagesCard.card, robustCard.card, logCard.card);
const emptyNote = el('p', 'empty', 'No run yet. Run a study (OptStudy: Run Study) or open a saved run.');
app.append(header, emptyNote, grid);
detailCard.card.hidden = true;

const history = new HistoryChart(historyCard.body);
const importance = new ImportanceChart(importanceCard.body, importanceCard.note);
const heatmap = new Heatmap(heatCard.body);
const pareto = new ParetoChart(paretoCard.body);
const parallel = new ParallelCoordinates(parallelCard.body);
const equityHost = el('div', 'chart');
const equity = new EquityChart(equityHost);

// Ranking controls.
const sortPicker = dropdown([], 'score', (v) => setSort(v, true), 'Sort the ranking by');
const sortLabel = el('label', 'picker-label', 'Sort by');
rankingCard.tools.append(sortLabel, sortPicker);
const table = el('table', 'ranking');
rankingCard.body.append(table);

// Heatmap controls.
const heatX = dropdown([], '', (v) => { view.heatX = v; view.heatPicked = true; saveView(); dirtyHeavy(true); }, 'Surface: parameter on the x axis');
const heatY = dropdown([], '', (v) => { view.heatY = v; view.heatPicked = true; saveView(); dirtyHeavy(true); }, 'Surface: parameter on the y axis');
const heatAgg = dropdown([{ value: 'mean', label: 'mean score' }, { value: 'best', label: 'best score' }], view.heatAgg === 'max' ? 'best' : 'mean',
  (v) => { view.heatAgg = v === 'best' ? 'max' : 'mean'; saveView(); dirtyHeavy(true); }, 'Surface: aggregate per cell');
heatCard.tools.append(heatX, el('span', 'picker-label', '×'), heatY, heatAgg);
heatCard.note.textContent = 'Hatched: not tried. ×: tried, but no feasible result.';

// Pareto controls.
const parX = dropdown([], '0', (v) => { view.paretoX = Number(v); saveView(); dirtyHeavy(true); }, 'Pareto: objective on the x axis');
const parY = dropdown([], '1', (v) => { view.paretoY = Number(v); saveView(); dirtyHeavy(true); }, 'Pareto: objective on the y axis');
paretoCard.tools.append(parX, el('span', 'picker-label', 'vs'), parY);

// ---- rendering ------------------------------------------------------------------------------

let frameQueued = false;
let heavyDirty = true;
let heavyForce = true;
let lastHeavy = 0;
let heavyTimer: number | undefined;
let themeChanged = false;

function schedule(): void {
  if (frameQueued) return;
  frameQueued = true;
  requestAnimationFrame(() => {
    frameQueued = false;
    render();
  });
}

function dirtyHeavy(force = false): void {
  heavyDirty = true;
  if (force) heavyForce = true;
  schedule();
}

function statusBadge(h: RunHeader): HTMLElement {
  const b = badge(h.status, h.error);
  b.classList.add(`status-${h.status}`);
  return b;
}

function fmtDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

function fmtScore(sc: TrialSummary['score'] | undefined): string {
  if (sc === null || sc === undefined) return '–';
  return Array.isArray(sc) ? sc.map((v) => fmt(v)).join(' · ') : fmt(sc);
}

function fact(label: string, value: string, title?: string): HTMLElement {
  const f = el('span', 'fact');
  f.append(el('span', 'fact-label', label), el('span', 'fact-value', value));
  if (title) f.title = title;
  return f;
}

function renderHeader(): void {
  const h = store.header;
  emptyNote.hidden = !!h;
  grid.hidden = !h;
  progressRow.hidden = !h;
  facts.hidden = !h;
  if (!h) {
    studyTitle.textContent = 'OptStudy results';
    statusSlot.replaceChildren();
    stageLabel.textContent = '';
    for (const b of [cancelBtn, resumeBtn, exportBtn]) b.hidden = true;
    return;
  }
  studyTitle.textContent = h.study || 'Study';
  studyTitle.title = h.file ?? '';
  statusSlot.replaceChildren(statusBadge(h));
  const running = h.status === 'running' || h.status === 'starting';
  if (running) statusSlot.append(spinner());
  const stIdx = h.stages.findIndex((s) => s.name === h.stage);
  stageLabel.textContent = h.stage ? `stage ${stIdx + 1}/${h.stages.length} · ${h.stage}` : '';
  cancelBtn.hidden = !running;
  resumeBtn.hidden = !(h.status === 'cancelled' || h.status === 'failed') || !h.runDir;
  exportBtn.hidden = false;
  setDisabled(exportBtn, !h.runDir);
  const pct = h.total > 0 ? Math.min(100, (100 * h.done) / h.total) : 0;
  fill.style.width = `${pct}%`;
  fill.classList.toggle('done', !running);
  bar.setAttribute('aria-valuenow', pct.toFixed(0));
  progressText.textContent = `${h.done.toLocaleString()} / ${h.total ? h.total.toLocaleString() : '?'} trials (${pct.toFixed(0)}%)`;
  const f: HTMLElement[] = [];
  if (running) {
    f.push(fact('rate', h.rate > 0 ? `${h.rate >= 10 ? Math.round(h.rate) : h.rate.toFixed(1)}/s` : '–'));
    f.push(fact('ETA', fmtDuration(h.etaMs)));
  }
  const elapsed = h.elapsedMs ?? (h.startedAt && running ? Date.now() - h.startedAt : undefined);
  if (elapsed !== undefined) f.push(fact('elapsed', fmtDuration(elapsed)));
  f.push(fact('complete', h.counts.complete.toLocaleString()));
  if (h.counts.infeasible) f.push(fact('infeasible', h.counts.infeasible.toLocaleString(), 'Trials that broke a constraint'));
  if (h.counts.failed) f.push(fact('failed', h.counts.failed.toLocaleString(), 'Trials that threw, timed out or lost their worker'));
  const best = store.best;
  if (best) {
    const objs = h.objectives.length ? h.objectives.join(' · ') : 'score';
    f.push(fact('best', fmtScore(best.score), `${objs} of trial #${best.number ?? '?'}`));
  }
  if (h.error) f.push(fact('error', h.error));
  facts.replaceChildren(...f);
}

/** Table columns: the score(s), the parameters, the key metrics (plus the sort metric). */
function columns(): { key: string; label: string; title?: string }[] {
  const h = store.header!;
  const cols: { key: string; label: string; title?: string }[] = [{ key: 'number', label: '#' }];
  const nObj = Math.max(1, h.directions.length);
  for (let i = 0; i < nObj; i++) {
    const name = h.objectives[i] ?? (nObj > 1 ? `objective ${i + 1}` : 'score');
    cols.push({ key: i === 0 ? 'score' : `score:${i}`, label: name.length > 28 ? `score${nObj > 1 ? ` ${i + 1}` : ''}` : name, title: `${h.directions[i] ?? 'maximize'} ${name}` });
  }
  for (const p of store.tables.params) cols.push({ key: `param:${p}`, label: p });
  const metrics = KEY_METRICS.filter((m) => store.tables.metrics.includes(m) && !h.objectives.includes(m));
  if (ranking.key.startsWith('metric:') && !metrics.includes(ranking.key.slice(7))) metrics.push(ranking.key.slice(7));
  for (const m of metrics) cols.push({ key: `metric:${m}`, label: m });
  return cols;
}

function cellValue(r: TrialRow, key: string): string {
  if (key === 'number') return String(r.n);
  if (key === 'score') return fmt(firstScore(r.sc));
  if (key.startsWith('score:')) return fmt(scoreAt(r.sc, Number(key.slice(6))));
  if (key.startsWith('param:')) {
    const v = r.p[store.paramIndex(key.slice(6))];
    return v === null || v === undefined ? '' : typeof v === 'number' ? fmt(v, 6) : String(v);
  }
  if (key.startsWith('metric:')) return fmt(store.metric(r, key.slice(7)));
  return '';
}

function setSort(key: string, fromPicker = false): void {
  if (!fromPicker && ranking.key === key) ranking.desc = !ranking.desc;
  else {
    ranking.key = key;
    ranking.desc = !/drawdown|^metric:lost$|^param:|^number$/.test(key);
  }
  view.sortKey = ranking.key;
  view.sortDesc = ranking.desc;
  saveView();
  renderTable(true);
}

function renderTable(force = false): void {
  if (!store.header) return;
  const changed = ranking.update(store);
  const sortOptions: DropdownOption[] = [
    ...columns().filter((c) => c.key.startsWith('score')).map((c) => ({ value: c.key, label: c.title ?? c.label })),
    ...store.tables.metrics.map((m) => ({ value: `metric:${m}`, label: m })),
    ...store.tables.params.map((p) => ({ value: `param:${p}`, label: `parameter ${p}` })),
  ];
  setDropdownOptions(sortPicker, sortOptions, ranking.key);
  const complete = store.header.counts.complete;
  rankingCard.note.textContent = ranking.top.length
    ? `Best ${ranking.top.length} of ${complete.toLocaleString()} complete trials. Click a row to re-run it and see its equity curve and trades.`
    : 'No complete trials yet.';
  if (!changed && !force) return;
  const cols = columns();
  const thead = el('thead');
  const hr = el('tr');
  for (const c of cols) {
    const th = el('th', c.key.startsWith('param:') ? 'param' : c.key.startsWith('score') ? 'score' : undefined);
    th.textContent = c.label;
    th.title = c.title ?? `Sort by ${c.label}`;
    th.dataset['key'] = c.key;
    th.tabIndex = 0;
    if (c.key === ranking.key) {
      th.classList.add('sorted');
      th.setAttribute('aria-sort', ranking.desc ? 'descending' : 'ascending');
      th.append(el('span', 'arrow', ranking.desc ? ' ▼' : ' ▲'));
    }
    th.addEventListener('click', () => setSort(c.key));
    th.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' || ev.key === ' ') setSort(c.key);
    });
    hr.append(th);
  }
  thead.append(hr);
  const tbody = el('tbody');
  const multiStage = store.header.stages.length > 1;
  for (const r of ranking.top) {
    const tr = el('tr');
    tr.dataset['n'] = String(r.n);
    tr.tabIndex = 0;
    if (r.n === view.selected) tr.classList.add('selected');
    if (multiStage) tr.title = `stage ${store.header.stages[r.s]?.name ?? ''}`;
    for (const c of cols) {
      const td = el('td', c.key.startsWith('param:') ? 'param' : c.key.startsWith('score') ? 'score' : undefined, cellValue(r, c.key));
      tr.append(td);
    }
    tr.addEventListener('click', () => selectTrial(r));
    tr.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') selectTrial(r);
    });
    tbody.append(tr);
  }
  table.replaceChildren(thead, tbody);
}

// ---- trial detail ---------------------------------------------------------------------------

let detailRow: TrialRow | null = null;

function selectTrial(r: TrialRow): void {
  detailRow = r;
  view.selected = r.n;
  saveView();
  const params = store.paramsOf(r);
  post({ type: 'openTrial', n: r.n, stage: store.header?.stages[r.s]?.name, params });
  for (const tr of table.querySelectorAll('tr.selected')) tr.classList.remove('selected');
  table.querySelector(`tr[data-n="${r.n}"]`)?.classList.add('selected');
  showDetail(r, null, true);
}

function kv(obj: Record<string, unknown>): HTMLElement {
  const dl = el('dl', 'kv');
  for (const [k, v] of Object.entries(obj)) {
    dl.append(el('dt', undefined, k), el('dd', undefined, typeof v === 'number' ? fmt(v, 6) : v === null ? '–' : String(v)));
  }
  return dl;
}

function showDetail(r: TrialRow, d: TrialDetail | null, pending: boolean): void {
  detailCard.card.hidden = false;
  const params = store.paramsOf(r);
  detailCard.title.textContent = `Trial #${r.n}`;
  const apply = button('Apply to study', { appearance: 'primary', onClick: () => post({ type: 'applyParams', params, n: r.n }), title: 'Write these parameters into the study as strategy overrides (undoable)' });
  const close = button('Close', { onClick: () => { detailCard.card.hidden = true; detailRow = null; view.selected = undefined; saveView(); equity.destroy(); } });
  detailCard.tools.replaceChildren(apply, close);
  // The re-run reports every metric; until it answers, the row's (the panel's subset).
  const metrics: Record<string, unknown> = {};
  if (d?.metrics) Object.assign(metrics, d.metrics);
  else store.tables.metrics.forEach((m, i) => { if (r.m[i] !== undefined) metrics[m] = r.m[i]; });
  const left = el('div', 'detail-side');
  left.append(el('h3', undefined, 'Parameters'), kv(params), el('h3', undefined, `Score: ${fmtScore(r.sc)}`), kv(metrics));
  const right = el('div', 'detail-main');
  if (pending) {
    detailCard.note.textContent = 'Re-running this trial…';
    right.append(spinner());
  } else if (d?.error) {
    detailCard.note.textContent = `Could not re-run the trial: ${d.error}`;
  } else if (d) {
    detailCard.note.textContent = `${d.trades.length} trades. ${d.equity.length ? `${d.equityFromTrades ? 'Closed-trade equity' : 'Equity'} from ${d.equity[0]!.date} to ${d.equity[d.equity.length - 1]!.date}.` : 'No equity curve (no closed trade).'}`;
    right.append(equityHost);
    const trades = el('table', 'trades');
    const head = el('tr');
    for (const c of ['entry', 'exit', 'size', 'entry price', 'exit price', 'pnl (net)']) head.append(el('th', undefined, c));
    const thead = el('thead');
    thead.append(head);
    const tb = el('tbody');
    for (const t of d.trades.slice(0, 500)) {
      const tr = el('tr');
      tr.append(el('td', undefined, t.entry_date), el('td', undefined, t.exit_date), el('td', 'num', fmt(t.size, 6)), el('td', 'num', fmt(t.entry_price, 6)), el('td', 'num', fmt(t.exit_price, 6)));
      const pnl = el('td', `num ${t.pnlcomm >= 0 ? 'pos' : 'neg'}`, fmt(t.pnlcomm, 6));
      tr.append(pnl);
      tb.append(tr);
    }
    trades.append(thead, tb);
    const wrap = el('div', 'trades-wrap');
    wrap.append(trades);
    right.append(wrap);
  }
  detailCard.body.replaceChildren(left, right);
  detailCard.body.classList.add('detail');
  if (d && !d.error) equity.draw(d);
}

// ---- other sections -------------------------------------------------------------------------

function renderStages(): void {
  const h = store.header;
  if (!h) return;
  const t = el('table', 'stages');
  const head = el('tr');
  for (const c of ['stage', 'search', 'trials', 'best score', 'best parameters', 'time', 'note']) head.append(el('th', undefined, c));
  const thead = el('thead');
  thead.append(head);
  const tb = el('tbody');
  h.stages.forEach((s, i) => {
    const tr = el('tr');
    if (s.name === h.stage && (h.status === 'running' || h.status === 'starting')) tr.classList.add('current');
    const best = s.best ?? (i === h.stages.length - 1 || s.name === h.stage ? null : null);
    tr.append(
      el('td', undefined, `${i + 1}. ${s.name}`),
      el('td', undefined, s.method),
      el('td', 'num', `${s.done.toLocaleString()} / ${s.size ? s.size.toLocaleString() : '?'}`),
      el('td', 'num', best ? fmtScore(best.score) : '–'),
      el('td', 'params', best ? Object.entries(best.params).map(([k, v]) => `${k} = ${typeof v === 'number' ? fmt(v, 6) : v}`).join(', ') : ''),
      el('td', 'num', s.elapsedMs !== undefined ? fmtDuration(s.elapsedMs) : ''),
      el('td', undefined, s.stoppedBy ? `stopped: ${s.stoppedBy}` : s.finished ? 'done' : s.done > 0 ? 'running' : 'waiting'),
    );
    tb.append(tr);
  });
  t.append(thead, tb);
  stagesCard.body.replaceChildren(t);
}

/**
 * Robustness, from the analysis snapshot when it carries it: the deflated Sharpe ratio (is the
 * best Sharpe more than the luck of trying many parameter sets?), plateau scores of the
 * finalists (does the neighbourhood of a good point hold up, or is it a needle?), and the
 * hypervolume for several objectives. Unknown extra fields (a newer host) are listed generically.
 */
function renderRobustness(): void {
  const a = store.analysis;
  const parts: HTMLElement[] = [];
  const ds = a?.deflatedSharpe;
  if (ds) {
    const p = el('p', 'robust-line');
    const verdict = ds.dsr >= 0.95 ? 'likely skill' : ds.dsr >= 0.5 ? 'inconclusive' : 'likely luck';
    p.append(
      el('strong', undefined, 'Deflated Sharpe: '),
      document.createTextNode(`${fmt(ds.dsr, 3)} (${verdict}). Best Sharpe ${fmt(ds.sharpe, 3)} against ${fmt(ds.expectedMaxSharpe, 3)} expected from ${ds.trials.toLocaleString()} zero-skill trials; PSR ${fmt(ds.psr, 3)}${ds.momentsMeasured ? '' : ' (normal returns assumed)'}.`),
    );
    p.title = 'Probability that the best trial\'s Sharpe ratio reflects real skill after accounting for the number of trials (Bailey & López de Prado).';
    parts.push(p);
  }
  if (a?.plateau?.length) {
    const t = el('table', 'plateau');
    const head = el('tr');
    for (const c of ['#', 'parameters', 'score', 'robust score', 'neighbourhood', 'neighbours', '']) head.append(el('th', c === 'parameters' ? 'left' : undefined, c));
    const thead = el('thead');
    thead.append(head);
    const tb = el('tbody');
    for (const r of a.plateau.slice(0, 10)) {
      const tr = el('tr');
      tr.append(
        el('td', undefined, r.number !== undefined ? String(r.number) : ''),
        el('td', 'params', Object.entries(r.params).map(([k, v]) => `${k} = ${typeof v === 'number' ? fmt(v, 6) : v}`).join(', ')),
        el('td', 'num', fmt(r.score)),
        el('td', 'num score', fmt(r.robust)),
        el('td', 'num', `${fmt(r.neighbourhoodMean)} ± ${fmt(r.neighbourhoodStd, 2)}`),
        el('td', 'num', `${r.neighbours}${r.infeasibleNeighbours ? ` (${r.infeasibleNeighbours} infeasible)` : ''}`),
        el('td', r.needle ? 'warn' : undefined, r.needle ? '⚠ isolated peak' : 'plateau'),
      );
      if (r.needle) tr.title = 'Its neighbours score much worse: small parameter changes lose the edge.';
      tb.append(tr);
    }
    t.append(thead, tb);
    parts.push(el('h3', undefined, 'Plateau of the finalists'), t);
  }
  const hv = a?.hypervolume;
  if (hv && hv.points.length) {
    const last = hv.points[hv.points.length - 1]!;
    parts.push(el('p', 'robust-line', `Hypervolume ${fmt(last.hypervolume, 5)} after ${last.trials.toLocaleString()} trials (${hv.method}, reference ${hv.reference.map((x) => fmt(x, 3)).join(', ')}).`));
  }
  if (store.validation) parts.push(...renderValidation(store.validation));
  const extra = (a as unknown as { robustness?: unknown } | null)?.robustness;
  if (extra !== undefined && extra !== null) parts.push(renderValue(extra));
  robustCard.card.hidden = parts.length === 0;
  if (!robustCard.card.hidden) robustCard.body.replaceChildren(...parts);
}

/** The run's `validate holdout|walkforward` results (end event): a summary line and one row per finalist / fold. */
function renderValidation(v: RunValidation): HTMLElement[] {
  const params = (p: TrialSummary['params']): string => Object.entries(p).map(([k, x]) => `${k} = ${typeof x === 'number' ? fmt(x, 6) : x}`).join(', ');
  const pct = (x: number | null | undefined): string => (x === null || x === undefined ? '–' : `${fmt(x * 100, 3)} %`);
  const table = (cols: string[], rows: string[][]): HTMLElement => {
    const t = el('table', 'plateau');
    const head = el('tr');
    for (const c of cols) head.append(el('th', c === 'parameters' ? 'left' : undefined, c));
    const thead = el('thead');
    thead.append(head);
    const tb = el('tbody');
    for (const r of rows) {
      const tr = el('tr');
      r.forEach((x, i) => tr.append(el('td', cols[i] === 'parameters' ? 'params' : 'num', x)));
      tb.append(tr);
    }
    t.append(thead, tb);
    return t;
  };
  const out: HTMLElement[] = [];
  if (v.kind === 'holdout') {
    const h = v.report;
    out.push(
      el('h3', undefined, `Holdout: last ${fmt(v.fraction * 100, 3)} % out of sample`),
      el('p', 'robust-line', `Optimized on ${h.inSample.from} … ${h.inSample.to}; the top ${h.rows.length} re-run on ${h.outOfSample.from} … ${h.outOfSample.to}. Rank correlation ${fmt(h.rankCorrelation, 3)}, OOS/IS score retention ${fmt(h.retention, 3)}.`),
      table(
        ['IS rank', 'IS score', 'OOS score', 'OOS return', 'parameters'],
        h.rows.map((r) => [String(r.rank), fmt(r.inSample.score), fmt(r.outOfSample.score), `${fmt(r.outOfSample.metrics.total_return_pct, 4)} %`, params(r.params)]),
      ),
    );
  } else {
    const w = v.report;
    out.push(
      el('h3', undefined, `Walk-forward: ${v.folds} folds, ${fmt(v.train * 100, 3)} % train, ${v.anchored ? 'anchored' : 'rolling'}`),
      el('p', 'robust-line', `Walk-forward efficiency ${fmt(w.efficiency, 3)}; stitched out-of-sample return ${fmt(w.stitchedReturnPct, 4)} %; ${w.profitableFolds}/${w.folds.length} folds profitable.`),
      table(
        ['fold', 'test window', 'IS score', 'OOS score', 'IS ann.', 'OOS ann.', 'efficiency', 'parameters'],
        w.folds.map((f) => [String(f.fold), `${f.test.from} … ${f.test.to}`, fmt(f.inSample.score), fmt(f.outOfSample.score), pct(f.inSample.annualizedReturn), pct(f.outOfSample.annualizedReturn), fmt(f.efficiency, 3), params(f.params)]),
      ),
    );
  }
  if (v.note) out.push(el('p', 'robust-line', v.note));
  return out;
}

function renderValue(v: unknown): HTMLElement {
  if (Array.isArray(v) && v.length && v.every((x) => x && typeof x === 'object' && !Array.isArray(x))) {
    const keys = [...new Set(v.flatMap((x) => Object.keys(x as object)))];
    const t = el('table', 'generic');
    const head = el('tr');
    for (const k of keys) head.append(el('th', undefined, k));
    const thead = el('thead');
    thead.append(head);
    const tb = el('tbody');
    for (const row of v.slice(0, 100) as Record<string, unknown>[]) {
      const tr = el('tr');
      for (const k of keys) tr.append(el('td', typeof row[k] === 'number' ? 'num' : undefined, short(row[k])));
      tb.append(tr);
    }
    t.append(thead, tb);
    return t;
  }
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const dl = el('dl', 'kv');
    for (const [k, x] of Object.entries(v)) {
      const dd = el('dd');
      if (x && typeof x === 'object') dd.append(renderValue(x));
      else dd.textContent = short(x);
      dl.append(el('dt', undefined, k), dd);
    }
    return dl;
  }
  return el('span', undefined, short(v));
}

function short(v: unknown): string {
  if (typeof v === 'number') return fmt(v, 5);
  if (v === null || v === undefined) return '–';
  if (typeof v === 'object') return Array.isArray(v) ? v.map(short).join(', ') : JSON.stringify(v);
  return String(v);
}

function renderLog(): void {
  logCard.card.hidden = store.logs.length === 0;
  if (logCard.card.hidden) return;
  const ul = el('ul', 'log');
  for (const l of store.logs.slice(-30)) ul.append(el('li', `log-${l.level}`, l.message));
  logCard.body.replaceChildren(ul);
}

function renderPickers(): void {
  const params = store.tables.params;
  const opts = params.map((p) => ({ value: p, label: p }));
  if (!view.heatPicked) {
    // Until the user picks, show the two most important parameters (the ones worth a surface).
    const ranked = [...(store.analysis?.importance ?? [])].sort((a, b) => b.importance - a.importance).map((i) => i.param).filter((p) => params.includes(p));
    const order = [...ranked, ...params.filter((p) => !ranked.includes(p))];
    view.heatX = order[0];
    view.heatY = order[1];
  }
  if (!view.heatX || !params.includes(view.heatX)) view.heatX = params[0];
  if (!view.heatY || !params.includes(view.heatY) || view.heatY === view.heatX) view.heatY = params.find((p) => p !== view.heatX);
  setDropdownOptions(heatX, opts, view.heatX ?? '');
  setDropdownOptions(heatY, opts, view.heatY ?? '');
  const h = store.header!;
  const nObj = h.directions.length;
  paretoCard.card.hidden = nObj < 2;
  const objOpts = h.directions.map((d, i) => ({ value: String(i), label: `${h.objectives[i] ?? `objective ${i + 1}`} (${d})` }));
  if ((view.paretoX ?? 0) >= nObj) view.paretoX = 0;
  if ((view.paretoY ?? 1) >= nObj || view.paretoY === view.paretoX) view.paretoY = view.paretoX === 0 ? 1 : 0;
  setDropdownOptions(parX, objOpts, String(view.paretoX ?? 0));
  setDropdownOptions(parY, objOpts, String(view.paretoY ?? 1));
  parX.hidden = parY.hidden = nObj <= 2;
  (paretoCard.tools.querySelector('.picker-label') as HTMLElement | null)?.toggleAttribute('hidden', nObj <= 2);
  heatCard.card.hidden = params.length < 2;
}

/** Time spent per view (ms, cumulative): read by the benchmark to find what costs. */
const timings: Record<string, number> = {};
(globalThis as unknown as { __optstudyTimings: typeof timings }).__optstudyTimings = timings;
function timed(name: string, fn: () => void): void {
  const t0 = performance.now();
  fn();
  timings[name] = (timings[name] ?? 0) + performance.now() - t0;
}

function timedBool(name: string, fn: () => boolean): boolean {
  const t0 = performance.now();
  const r = fn();
  timings[name] = (timings[name] ?? 0) + performance.now() - t0;
  return r;
}

function render(): void {
  const rebuild = themeChanged;
  themeChanged = false;
  renderHeader();
  if (!store.header) return;
  renderPickers();
  const objs = store.header.objectives;
  historyCard.note.textContent = objs.length && objs.some((o) => o.length > 24)
    ? `score = ${objs.map((o, i) => `${store.header!.directions[i] ?? 'maximize'} ${o}`).join('; ')}`
    : '';
  timed('history', () => history.update(store, rebuild));
  timed('table', () => renderTable(rebuild));
  renderStages();
  renderLog();
  renderRobustness();
  const now = performance.now();
  const running = store.header.status === 'running' || store.header.status === 'starting';
  if (heavyDirty && (heavyForce || rebuild || !running || now - lastHeavy >= heavyInterval)) {
    heavyDirty = false;
    heavyForce = false;
    lastHeavy = now;
    const h0 = performance.now();
    timed('importance', () => importance.update(store, rebuild));
    if (!heatCard.card.hidden) timed('heatmap', () => heatmap.draw(store, view.heatX ?? '', view.heatY ?? '', view.heatAgg === 'max' ? 'best' : 'mean'));
    if (!paretoCard.card.hidden) timed('pareto', () => pareto.update(store, view.paretoX ?? 0, view.paretoY ?? 1, rebuild));
    timed('parallel', () => parallel.draw(store));
    heavyInterval = Math.max(HEAVY_INTERVAL_MS, 8 * (performance.now() - h0));
  } else if (heavyDirty && heavyTimer === undefined) {
    // Make sure the last delta of a burst is drawn even if no further message comes.
    heavyTimer = window.setTimeout(() => {
      heavyTimer = undefined;
      schedule();
    }, Math.max(0, heavyInterval - (now - lastHeavy)));
  }
  if (rebuild && detailRow && !detailCard.card.hidden) {
    const d = lastDetail?.n === detailRow.n ? lastDetail : null;
    if (d && !d.error) equity.draw(d);
  }
}

let lastDetail: TrialDetail | null = null;

// ---- messages -------------------------------------------------------------------------------

window.addEventListener('message', (ev: MessageEvent<ToWebview>) => {
  const m = ev.data;
  if (!m || typeof m !== 'object') return;
  switch (m.type) {
    case 'snapshot':
      store.loadSnapshot(m.run);
      if (m.run) {
        view.runId = m.run.header.id;
        view.runDir = m.run.header.runDir;
        saveView();
        const sel = view.selected !== undefined ? store.rows.find((r) => r.n === view.selected) : undefined;
        if (sel) selectTrial(sel);
        else detailCard.card.hidden = true;
      }
      dirtyHeavy(true);
      break;
    case 'delta':
      if (!timedBool('store', () => store.applyDelta(m.delta))) post({ type: 'ready' });
      else dirtyHeavy(false);
      break;
    case 'trialDetail':
      lastDetail = m.detail;
      // From the panel's own click, or from the Open Trial command (then the row is chosen here).
      if (!detailRow || detailRow.n !== m.detail.n) {
        const row = store.rows.find((r) => r.n === m.detail.n);
        if (row) {
          detailRow = row;
          view.selected = row.n;
          saveView();
        }
      }
      if (detailRow && detailRow.n === m.detail.n) showDetail(detailRow, m.detail, false);
      break;
    case 'trialDetailPending':
      break;
  }
  schedule();
});

onThemeChange(() => {
  themeChanged = true;
  dirtyHeavy(true);
});

// Custom canvases follow their boxes; Chart.js charts resize themselves.
const ro = new ResizeObserver(() => dirtyHeavy(true));
ro.observe(heatCard.body);
ro.observe(parallelCard.body);

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') post({ type: 'ready' });
});

renderHeader();
post({ type: 'ready' });
