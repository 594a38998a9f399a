/**
 * The HTML report: ONE self-contained file — Chart.js read from the installed package and
 * inlined, the data embedded as JSON, a Content-Security-Policy that forbids every network
 * load — with summary, rankings, history, importance, slices, surface, Pareto and robustness
 * sections. Tables are rendered here; charts are drawn by html-client.ts in the browser.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ParamSlice, Surface } from '../../protocol/analysis';
import type { ParamValues } from '../../protocol/run-events';
import type { RankedTrial } from '../analysis/rankings';
import { scoreVector } from '../analysis/trial-data';
import { CLIENT_JS } from './html-client';
import type { ReportModel } from './index';
import type { ValidationResult } from './validation';
import { fmt } from './text';

let chartJsSource: string | null = null;

/**
 * Chart.js's UMD build from node_modules, found by walking up from this bundle (dist/, out/…)
 * and from the working folder. The banner's URLs are dropped so the file names no remote host.
 */
export function chartJs(): string {
  if (chartJsSource) return chartJsSource;
  const rel = path.join('node_modules', 'chart.js', 'dist', 'chart.umd.min.js');
  const tried: string[] = [];
  // The packaged extension ships the file beside its bundles (scripts/package.mjs).
  const beside = path.join(__dirname, 'chart.umd.min.js');
  if (fs.existsSync(beside)) return (chartJsSource = clean(fs.readFileSync(beside, 'utf8')));
  tried.push(beside);
  for (const base of [__dirname, process.cwd()]) {
    let dir = base;
    for (let i = 0; i < 8; i++) {
      const f = path.join(dir, rel);
      tried.push(f);
      if (fs.existsSync(f)) {
        chartJsSource = clean(fs.readFileSync(f, 'utf8'));
        return chartJsSource;
      }
      const up = path.dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  throw new Error(`Chart.js is not installed (looked for ${rel} above ${__dirname}); run npm install in the OptStudy folder.`);
}

/** Drops the banner's URLs (the report names no remote host) and keeps `</script` out of the inline script. */
function clean(js: string): string {
  return js.replace(/\/\*![\s\S]*?\*\//g, (c) => c.replace(/https?:\/\/\S+/g, '')).replace(/<\/script/gi, '<\\/script');
}

function esc(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function fmtScore(s: unknown): string {
  return Array.isArray(s) ? s.map((x) => fmt(x)).join(', ') : fmt(s);
}

function paramsHtml(p: ParamValues): string {
  return Object.entries(p).map(([k, v]) => `<span class="kv">${esc(k)}=<b>${esc(v)}</b></span>`).join(' ');
}

function rankingTable(rows: RankedTrial[], metrics: string[], perSymbol?: SymbolColumns): string {
  if (!rows.length) return '<p class="muted">No feasible trials.</p>';
  const symHead = perSymbol ? perSymbol.symbols.map((sym) => `<th>${esc(sym)} ${esc(perSymbol.metric)}</th>`).join('') : '';
  const symCells = (r: RankedTrial) => (perSymbol ? perSymbol.values(r.number).map((v) => `<td class="num">${esc(fmt(v))}</td>`).join('') : '');
  return `<table><thead><tr><th>#</th><th>trial</th><th>stage</th><th>score</th>${metrics.map((m) => `<th>${esc(m)}</th>`).join('')}${symHead}<th>parameters</th></tr></thead><tbody>${rows
    .map((r) => `<tr><td>${r.rank}</td><td>${esc(r.number)}</td><td>${esc(r.stage)}</td><td class="num">${esc(fmtScore(r.score))}</td>${metrics.map((m) => `<td class="num">${esc(fmt(r.metrics[m]))}</td>`).join('')}${symCells(r)}<td>${paramsHtml(r.params)}</td></tr>`)
    .join('')}</tbody></table>`;
}

/** A basket run's per-symbol columns for the rankings: one metric of each symbol's own backtest. */
interface SymbolColumns {
  symbols: string[];
  metric: string;
  values(trial: number | undefined): unknown[];
}

function symbolColumns(m: ReportModel, metric: string | undefined): SymbolColumns | undefined {
  const first = m.trials.find((t) => t.symbols?.length);
  if (!first || !metric) return undefined;
  const symbols = first.symbols!.map((x) => x.symbol);
  const byNumber = new Map(m.trials.map((t) => [t.number, t]));
  const values = (n: number | undefined) => {
    const t = n === undefined ? undefined : byNumber.get(n);
    return symbols.map((sym) => t?.symbols?.find((x) => x.symbol === sym)?.metrics[metric]);
  };
  return { symbols, metric, values };
}

/** The best trial of a basket run, symbol by symbol (each symbol's own backtest). */
function bestSymbolsHtml(m: ReportModel, metrics: string[]): string {
  const best = m.snapshot.best;
  const t = best ? m.trials.find((x) => x.number === best.number) : undefined;
  if (!t?.symbols?.length) return '';
  return `<h3>Best trial, symbol by symbol</h3><table><thead><tr><th>symbol</th>${metrics.map((k) => `<th>${esc(k)}</th>`).join('')}</tr></thead><tbody>${t.symbols
    .map((x) => `<tr><td>${esc(x.symbol)}</td>${metrics.map((k) => `<td class="num">${esc(fmt(x.metrics[k]))}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/** A heat-map table: cells coloured from low (red) to high (green) — or the reverse when minimizing — with gaps marked. */
function surfaceTable(s: Surface, which: 'mean' | 'max', minimize: boolean): string {
  const grid = s[which];
  const vals = grid.flat().filter((v): v is number => v !== null);
  const lo = Math.min(...vals);
  const hi = Math.max(...vals);
  const colour = (v: number) => {
    let t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
    if (minimize) t = 1 - t;
    return `hsl(${Math.round(t * 120)}, 65%, ${Math.round(82 - t * 22)}%)`;
  };
  const head = `<tr><th>${esc(s.y)} \\ ${esc(s.x)}</th>${s.xs.map((x) => `<th>${esc(fmt(x))}</th>`).join('')}</tr>`;
  const body = s.ys
    .map((y, j) => `<tr><th>${esc(fmt(y))}</th>${s.xs.map((_, i) => {
      const v = grid[j]![i]!;
      return v === null ? '<td class="gap" title="no feasible trial">·</td>' : `<td class="num" style="background:${colour(v)}" title="${esc(`${s.x}=${s.xs[i]}, ${s.y}=${y}: ${fmt(v)} (${s.count[j]![i]} trials)`)}">${esc(fmt(v, 2))}</td>`;
    }).join('')}</tr>`)
    .join('');
  return `<table class="heat"><caption>${which} of the score over all other parameters</caption>${head}${body}</table>`;
}

function thinPoints<T>(xs: T[], max: number): T[] {
  if (xs.length <= max) return xs;
  const step = xs.length / max;
  return Array.from({ length: max }, (_, k) => xs[Math.floor(k * step)]!);
}

/** Chart data the page script draws. */
function chartData(m: ReportModel) {
  const s = m.snapshot;
  const label = m.run.objectives.length > 1 ? `${m.run.objectives[0]} (objective 1)` : (m.run.objectives[0] ?? 'score');
  const hist = s.history ?? [];
  const maxAnova = Math.max(0, ...s.importance.map((i) => (Number.isFinite(i.negLog10P ?? NaN) ? i.negLog10P! : 0)));
  const numericSlice = (sl: ParamSlice) => sl.numeric;
  const slicesOut = (s.slices ?? []).filter(numericSlice).map((sl) => ({
    param: sl.param,
    points: sl.points.map((p) => ({ x: p.x as number, y: p.y })),
    mean: sl.buckets.filter((b) => b.mean !== null).map((b) => ({ x: b.value as number, y: b.mean! })),
    max: sl.buckets.filter((b) => b.max !== null).map((b) => ({ x: b.value as number, y: b.max! })),
  }));
  let pareto: { all: { x: number; y: number }[]; front: { x: number; y: number }[]; xLabel: string; yLabel: string } | null = null;
  if (m.run.directions.length === 2 && s.pareto) {
    const all = m.trials.filter((t) => t.state === 'complete').map((t) => scoreVector(t)).filter((v): v is number[] => v !== null);
    pareto = {
      all: thinPoints(all, 3000).map((v) => ({ x: v[0]!, y: v[1]! })),
      front: s.pareto.map((p) => p.score as number[]).map((v) => ({ x: v[0]!, y: v[1]! })).sort((a, b) => a.x - b.x),
      xLabel: `${m.run.directions[0]} ${m.run.objectives[0]}`,
      yLabel: `${m.run.directions[1]} ${m.run.objectives[1]}`,
    };
  }
  const eq = m.reruns.best?.equity ?? [];
  const wfSource = m.validation
    .map((v) => (v && typeof v === 'object' && 'report' in v ? (v as { report: unknown }).report : v))
    .find((v) => v && typeof v === 'object' && 'stitchedEquity' in v) as { stitchedEquity?: { value: number }[] } | undefined;
  const wf = wfSource?.stitchedEquity ?? [];
  return {
    history: hist.length
      ? {
          label,
          points: hist.filter((h) => h.score !== null).map((h) => ({ x: h.number, y: h.score! })),
          best: hist.filter((h) => h.best !== null).map((h) => ({ x: h.number, y: h.best! })),
        }
      : null,
    importance: {
      labels: s.importance.map((i) => i.param),
      share: s.importance.map((i) => i.importance),
      anova: s.importance.map((i) => (maxAnova > 0 && Number.isFinite(i.negLog10P ?? NaN) ? i.negLog10P! / maxAnova : i.negLog10P === Infinity ? 1 : 0)),
    },
    slices: slicesOut,
    pareto,
    hypervolume: (s.hypervolume?.points ?? []).map((p) => ({ x: p.trials, y: p.hypervolume })),
    equity: thinPoints(eq.map((y, x) => ({ x, y })), 1500),
    pbo: (m.reruns.pbo?.logitHistogram ?? []).map((b) => ({ label: `${b.lo.toFixed(1)}…${b.hi.toFixed(1)}`, lo: b.lo, hi: b.hi, count: b.count })),
    walkForward: thinPoints(wf.map((p, x) => ({ x, y: p.value })), 1500),
    sliceParams: slicesOut.map((x) => x.param),
  };
}

/** Holdout and walk-forward tables (ValidationResult); anything else is shown as JSON. */
function validationHtml(v: unknown): string {
  const r = v as ValidationResult;
  const win = (w: { from: string; to: string; start: number; end: number }) => `${esc(w.from)} … ${esc(w.to)} <span class="muted">(${w.end - w.start} bars)</span>`;
  if (r && r.kind === 'holdout') {
    const h = r.report;
    return `<h3>Holdout: last ${Math.round(r.fraction * 100)} % out of sample</h3>
<p>In-sample ${win(h.inSample)}; out-of-sample ${win(h.outOfSample)}. The in-sample top ${h.rows.length} of ${r.candidates} candidates re-run out of sample: rank correlation ${esc(fmt(h.rankCorrelation, 3))}, OOS/IS score retention ${esc(fmt(h.retention, 3))}.</p>
<table><thead><tr><th>IS rank</th><th>IS score</th><th>OOS score</th><th>OOS return %</th><th>OOS max DD %</th><th>parameters</th></tr></thead><tbody>${h.rows
      .map((x) => `<tr><td>${x.rank}</td><td class="num">${esc(fmt(x.inSample.score))}</td><td class="num">${esc(fmt(x.outOfSample.score))}</td><td class="num">${esc(fmt(x.outOfSample.metrics.total_return_pct, 2))}</td><td class="num">${esc(fmt(x.outOfSample.metrics.max_drawdown_pct, 2))}</td><td>${paramsHtml(x.params)}</td></tr>`)
      .join('')}</tbody></table>`;
  }
  if (r && r.kind === 'walkforward') {
    const w = r.report;
    return `<h3>Walk-forward: ${r.folds} folds, ${Math.round(r.train * 100)} % train, ${r.anchored ? 'anchored' : 'rolling'}</h3>
<p>Walk-forward efficiency <b>${esc(fmt(w.efficiency, 3))}</b> (mean annualized OOS return / mean annualized IS return); stitched OOS return ${esc(fmt(w.stitchedReturnPct, 2))} %; ${w.profitableFolds}/${w.folds.length} folds profitable out of sample. ${r.source === 'run' ? `Each fold re-ran the study's stages on its training window (${r.candidates} trials in all).` : `Each fold re-picks the best of ${r.candidates} candidates in sample.`}${r.note ? ` <span class="muted">(${esc(r.note)})</span>` : ''}</p>
<table><thead><tr><th>fold</th><th>train</th><th>test</th><th>IS score</th><th>OOS score</th><th>IS ann. return</th><th>OOS ann. return</th><th>efficiency</th><th>parameters</th></tr></thead><tbody>${w.folds
      .map((f) => `<tr><td>${f.fold}</td><td>${win(f.train)}</td><td>${win(f.test)}</td><td class="num">${esc(fmt(f.inSample.score))}</td><td class="num">${esc(fmt(f.outOfSample.score))}</td><td class="num">${esc(fmt(f.inSample.annualizedReturn === null ? null : f.inSample.annualizedReturn * 100, 2))} %</td><td class="num">${esc(fmt(f.outOfSample.annualizedReturn === null ? null : f.outOfSample.annualizedReturn * 100, 2))} %</td><td class="num">${esc(fmt(f.efficiency, 3))}</td><td>${paramsHtml(f.params)}</td></tr>`)
      .join('')}</tbody></table>`;
  }
  return `<h3>Validation recorded by the run</h3><pre>${esc(JSON.stringify(v, (k, x) => (k === 'stitchedEquity' ? undefined : x), 2))}</pre>`;
}

const STYLE = `
:root{--fg:#1a202c;--muted:#718096;--bg:#fff;--card:#f7fafc;--grid:#e2e8f0;--accent:#2b6cb0;--bad:#c53030;--ok:#2f855a}
@media (prefers-color-scheme: dark){:root{--fg:#e2e8f0;--muted:#a0aec0;--bg:#1a202c;--card:#2d3748;--grid:#4a5568;--accent:#90cdf4;--bad:#feb2b2;--ok:#9ae6b4}}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:var(--fg);background:var(--bg);margin:0;padding:24px;max-width:1200px;margin:auto}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid var(--grid);padding-bottom:4px}h3{font-size:15px;margin:16px 0 6px}
nav a{margin-right:12px;color:var(--accent);text-decoration:none}.muted{color:var(--muted)}.warn{color:var(--bad)}.good{color:var(--ok)}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}th,td{border:1px solid var(--grid);padding:3px 7px;text-align:left;vertical-align:top}th{background:var(--card)}
td.num{text-align:right;font-variant-numeric:tabular-nums}.kv{white-space:nowrap;margin-right:6px}
.heat td{min-width:44px;text-align:center;color:#1a202c}.heat td.gap{background:repeating-linear-gradient(45deg,transparent,transparent 3px,var(--grid) 3px,var(--grid) 5px);color:var(--muted)}
.chart{position:relative;height:300px;margin:8px 0 16px}.chart.small{height:220px}.grid2{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:12px}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{background:var(--card);border-radius:6px;padding:10px 14px;min-width:150px}.card b{display:block;font-size:18px}
.badge{display:inline-block;padding:0 6px;border-radius:8px;background:var(--bad);color:#fff;font-size:11px}
`;

export function reportHtml(m: ReportModel): string {
  const metricCols = ['sharpe', 'total_return_pct', 'max_drawdown_pct', 'trades', 'profit_factor'].filter((k) => m.trials.some((t) => k in (t.metrics ?? {})));
  const data = chartData(m);
  const sec = [
    summarySection(m, metricCols),
    rankingsSection(m, metricCols),
    historySection(),
    importanceSection(m.snapshot),
    slicesSection(m.snapshot, data),
    surfaceSection(m.snapshot, m.run.directions[0] === 'minimize'),
    ...(m.run.directions.length > 1 ? [paretoSection(m, data)] : []),
    robustnessSection(m, data),
  ];
  return page(m, sec, JSON.stringify(data).replace(/</g, '\\u003c'));
}

function summarySection(m: ReportModel, metricCols: string[]): string {
  const s = m.snapshot;
  const c = s.counts!;
  const best = s.best;
  return `<section id="summary"><h2>Summary</h2>
<div class="cards">
<div class="card">trials<b>${s.trials}</b><span class="muted">${c.complete} complete · ${c.infeasible} infeasible · ${c.failed} failed</span></div>
<div class="card">${m.run.directions.length > 1 ? 'best by objective 1' : 'best score'}<b>${esc(best ? fmtScore(best.score) : '—')}</b><span class="muted">${best ? `trial ${esc(best.number)} · ${esc(best.stage)}` : ''}</span></div>
<div class="card">status<b>${esc(m.run.status)}</b><span class="muted">${esc(m.run.startedAt ?? '')}</span></div>
${s.deflatedSharpe ? `<div class="card">deflated Sharpe<b class="${s.deflatedSharpe.dsr >= 0.95 ? 'good' : 'warn'}">${esc(fmt(s.deflatedSharpe.dsr, 3))}</b><span class="muted">P(true Sharpe beats the luck of ${s.deflatedSharpe.trials} trials)</span></div>` : ''}
${m.reruns.pbo ? `<div class="card">PBO<b class="${m.reruns.pbo.pbo <= 0.2 ? 'good' : 'warn'}">${esc(fmt(m.reruns.pbo.pbo, 3))}</b><span class="muted">probability of backtest overfitting</span></div>` : ''}
</div>
<p>Objective${m.run.objectives.length > 1 ? 's' : ''}: ${m.run.objectives.map((o, i) => `<b>${esc(m.run.directions[i])}</b> <code>${esc(o)}</code>`).join('; ')}${m.run.directionsFrom === 'default' ? ' <span class="warn">(directions unknown: maximize assumed)</span>' : ''}</p>
${best ? `<p>Best parameters: ${paramsHtml(best.params)}</p>` : ''}
${bestSymbolsHtml(m, metricCols)}
<p class="muted">Run folder ${esc(m.run.dir)}${m.run.seed !== null ? ` · seed ${m.run.seed}` : ''} · stages: ${m.run.stages.map((st) => `${esc(st.name)}${st.method ? ` (${esc(st.method)})` : ''}`).join(', ')}</p>
${m.run.warnings.map((w) => `<p class="warn">⚠ ${esc(w)}</p>`).join('')}
</section>`;
}

function rankingsSection(m: ReportModel, metricCols: string[]): string {
  const perSymbol = symbolColumns(m, metricCols[0]);
  return `<section id="rankings"><h2>Rankings</h2><h3>Top ${m.rankings.top.length}</h3>${rankingTable(m.rankings.top, metricCols, perSymbol)}
${m.rankings.perStage.length > 1 ? m.rankings.perStage.map((p) => `<h3>Stage ${esc(p.stage)}</h3>${rankingTable(p.top, metricCols, perSymbol)}`).join('') : ''}
<h3>Bottom ${m.rankings.bottom.length}</h3>${rankingTable(m.rankings.bottom, metricCols)}
<h3>Best by metric</h3><table><thead><tr><th>metric</th><th>best</th><th>trial</th><th>parameters</th></tr></thead><tbody>${m.rankings.bestByMetric
    .map((b) => `<tr><td>${esc(b.metric)} <span class="muted">(${b.direction === 'maximize' ? '↑' : '↓'})</span></td><td class="num">${esc(fmt(b.value))}</td><td>${esc(b.number)}</td><td>${paramsHtml(b.params)}</td></tr>`)
    .join('')}</tbody></table></section>`;
}

function historySection(): string {
  return `<section id="history"><h2>History</h2><p class="muted">Score of every feasible trial and the running best, in trial order.</p><div class="chart"><canvas id="chart-history" role="img" aria-label="score history"></canvas></div></section>`;
}

function importanceSection(s: ReportModel['snapshot']): string {
  return `<section id="importance"><h2>Parameter importance</h2>
<p class="muted">fANOVA share: the part of the score's variance over the searched space explained by the parameter alone (random-forest functional ANOVA). One-way ANOVA: does the mean score differ across the parameter's values?</p>
<div class="chart small"><canvas id="chart-importance" role="img" aria-label="parameter importance"></canvas></div>
<table><thead><tr><th>parameter</th><th>fANOVA share</th><th>F</th><th>groups</th><th>p</th><th>−log10 p</th></tr></thead><tbody>${s.importance
    .map((i) => `<tr><td>${esc(i.param)}</td><td class="num">${esc(fmt(i.importance, 3))}</td><td class="num">${esc(fmt(i.fStat, 3))}</td><td class="num">${esc(i.groups ?? '')}</td><td class="num">${esc(fmt(i.pValue))}</td><td class="num">${esc(fmt(i.negLog10P, 2))}</td></tr>`)
    .join('')}</tbody></table>
${(s.stages ?? []).filter((st) => st.importance).map((st) => `<h3>Stage ${esc(st.name)}</h3><table><thead><tr><th>parameter</th><th>share</th><th>−log10 p</th></tr></thead><tbody>${st.importance!.map((i) => `<tr><td>${esc(i.param)}</td><td class="num">${esc(fmt(i.importance, 3))}</td><td class="num">${esc(fmt(i.negLog10P, 2))}</td></tr>`).join('')}</tbody></table>`).join('')}
<h3>Correlations</h3><table><thead><tr><th>parameter</th><th>target</th><th>Pearson</th><th>Spearman</th><th>n</th></tr></thead><tbody>${(s.correlations ?? [])
    .map((x) => `<tr><td>${esc(x.param)}</td><td>${esc(x.target)}</td><td class="num">${esc(fmt(x.pearson, 3))}</td><td class="num">${esc(fmt(x.spearman, 3))}</td><td class="num">${x.n}</td></tr>`)
    .join('')}</tbody></table></section>`;
}

function slicesSection(s: ReportModel['snapshot'], data: ReturnType<typeof chartData>): string {
  return `<section id="slices"><h2>Slices</h2><p class="muted">Score against one parameter (all others varying): every trial, and the mean and max per value.</p><div class="grid2">${data.slices
    .map((sl, i) => `<div><h3>${esc(sl.param)}</h3><div class="chart small"><canvas id="chart-slice-${i}" role="img" aria-label="score by ${esc(sl.param)}"></canvas></div></div>`)
    .join('')}</div>${(s.slices ?? []).filter((sl) => !sl.numeric).map((sl) => `<h3>${esc(sl.param)}</h3><table><thead><tr><th>value</th><th>trials</th><th>mean</th><th>max</th></tr></thead><tbody>${sl.buckets.map((b) => `<tr><td>${esc(b.value)}</td><td class="num">${b.count}</td><td class="num">${esc(fmt(b.mean))}</td><td class="num">${esc(fmt(b.max))}</td></tr>`).join('')}</tbody></table>`).join('')}</section>`;
}

function surfaceSection(s: ReportModel['snapshot'], minimize: boolean): string {
  return `<section id="surface"><h2>Surface</h2>${
    s.surface ? `<p class="muted">The two most important parameters; hatched cells had no feasible trial.</p><div class="grid2"><div>${surfaceTable(s.surface, 'mean', minimize)}</div><div>${surfaceTable(s.surface, 'max', minimize)}</div></div>` : '<p class="muted">Needs two searched parameters.</p>'
  }</section>`;
}

function paretoSection(m: ReportModel, data: ReturnType<typeof chartData>): string {
  const s = m.snapshot;
  return `<section id="pareto"><h2>Pareto front</h2><p>${s.pareto?.length ?? 0} non-dominated feasible trial(s). Hypervolume ${esc(fmt(s.hypervolume?.points.at(-1)?.hypervolume))} (${esc(s.hypervolume?.method ?? '—')}${s.hypervolume?.method === 'monte-carlo' ? ' estimate' : ''}, reference ${esc((s.hypervolume?.reference ?? []).map((x) => fmt(x)).join(', '))}).</p>
${data.pareto ? '<div class="chart"><canvas id="chart-pareto" role="img" aria-label="Pareto front"></canvas></div>' : ''}
<div class="chart small"><canvas id="chart-hypervolume" role="img" aria-label="hypervolume history"></canvas></div>
<table><thead><tr><th>trial</th><th>stage</th>${m.run.objectives.map((o) => `<th>${esc(o)}</th>`).join('')}<th>parameters</th></tr></thead><tbody>${(s.pareto ?? [])
    .map((p) => `<tr><td>${esc(p.number)}</td><td>${esc(p.stage)}</td>${(p.score as number[]).map((v) => `<td class="num">${esc(fmt(v))}</td>`).join('')}<td>${paramsHtml(p.params)}</td></tr>`)
    .join('')}</tbody></table></section>`;
}

/** Plateau scores, the Deflated Sharpe, PBO, the trade bootstrap, the best trial's equity and the validation. */
function robustnessSection(m: ReportModel, data: ReturnType<typeof chartData>): string {
  const s = m.snapshot;
  const r = m.reruns;
  const d = s.deflatedSharpe;
  const b = r.bootstrap;
  return `<section id="robustness"><h2>Robustness</h2>
<h3>Plateau (neighbourhood) scores</h3>${
    s.plateau?.length
      ? `<p class="muted">mean − λ·std of the score over the ±1-step grid neighbourhood (λ = 1). A needle beats its neighbours' mean by more than one standard deviation of all scores.</p><table><thead><tr><th>trial</th><th>score</th><th>plateau score</th><th>neighbourhood mean</th><th>std</th><th>neighbours</th><th></th><th>parameters</th></tr></thead><tbody>${s.plateau
          .map((p) => `<tr><td>${esc(p.number)}</td><td class="num">${esc(fmt(p.score))}</td><td class="num">${esc(fmt(p.robust))}</td><td class="num">${esc(fmt(p.neighbourhoodMean))}</td><td class="num">${esc(fmt(p.neighbourhoodStd))}</td><td class="num">${p.neighbours}/${p.cells}${p.infeasibleNeighbours ? ` (${p.infeasibleNeighbours} infeasible)` : ''}</td><td>${p.needle ? '<span class="badge">needle</span>' : ''}</td><td>${paramsHtml(p.params)}</td></tr>`)
          .join('')}</tbody></table>`
      : '<p class="muted">No grid-stage finalists to score.</p>'
  }
<h3>Deflated Sharpe Ratio</h3>${
    d
      ? `<p>DSR <b>${esc(fmt(d.dsr, 4))}</b>, PSR(0) ${esc(fmt(d.psr, 4))}: the best annualized Sharpe ${esc(fmt(d.sharpe, 3))} against ${esc(fmt(d.expectedMaxSharpe, 3))}, the maximum expected from ${d.trials} zero-skill trials, over ${d.observations} daily returns${d.momentsMeasured ? '' : ' (normal returns assumed)'}. <span class="muted">Bailey &amp; López de Prado (2014).</span></p>`
      : '<p class="muted">Not available (needs the sharpe metric and engine re-runs).</p>'
  }
<h3>Probability of Backtest Overfitting (CSCV)</h3>${
    r.pbo
      ? `<p>PBO <b>${esc(fmt(r.pbo.pbo, 3))}</b> over ${r.pbo.strategies} trials' daily returns, ${r.pbo.partitions} partitions, ${r.pbo.combinations} splits. Probability the in-sample best loses out of sample: ${esc(fmt(r.pbo.probabilityOfLoss, 3))}; degradation slope ${esc(fmt(r.pbo.degradationSlope, 3))}. <span class="muted">Bailey, Borwein, López de Prado &amp; Zhu.</span></p><div class="chart small"><canvas id="chart-pbo" role="img" aria-label="CSCV logits"></canvas></div>`
      : '<p class="muted">Not available.</p>'
  }
<h3>Monte Carlo bootstrap of the best trial's trades</h3>${
    b
      ? `<table><thead><tr><th></th><th>p5</th><th>p25</th><th>p50</th><th>p75</th><th>p95</th></tr></thead><tbody>${(
          [
            ['max drawdown %', b.maxDrawdownPct],
            ['max drawdown', b.maxDrawdown],
            ['final value', b.finalValue],
          ] as const
        )
          .map(([n, p]) => `<tr><td>${n}</td>${[p.p5, p.p25, p.p50, p.p75, p.p95].map((v) => `<td class="num">${esc(fmt(v, 2))}</td>`).join('')}</tr>`)
          .join('')}</tbody></table><p class="muted">${b.trades} trades resampled with replacement ×${b.iterations} (seed ${b.seed}; ${b.mode === 'returns' ? 'trade returns compounded, as the study sizes by percent' : 'money P&Ls added, as with fixed sizing'}); actual max drawdown ${esc(fmt(b.actualMaxDrawdownPct, 2))} %; P(final &lt; cash) ${esc(fmt(b.probabilityOfLoss, 3))}.</p>`
      : '<p class="muted">Not available.</p>'
  }
${r.best ? `<h3>Best trial's equity (re-run)</h3><div class="chart small"><canvas id="chart-equity" role="img" aria-label="best trial equity"></canvas></div>` : ''}
${data.walkForward.length ? '<h3>Walk-forward: stitched out-of-sample equity</h3><div class="chart small"><canvas id="chart-walkforward" role="img" aria-label="walk-forward equity"></canvas></div>' : ''}
${m.validation.map((v) => validationHtml(v)).join('')}
${m.validationNote ? `<p class="muted">Validation not run: ${esc(m.validationNote)}.</p>` : ''}
${!r.available && r.reason ? `<p class="muted">Engine re-runs skipped: ${esc(r.reason)}.</p>` : ''}
${r.mismatches.map((x) => `<p class="warn">⚠ ${esc(x)}</p>`).join('')}
</section>`;
}

/** The whole document: a strict CSP (inline script and style only, nothing fetched), the sections, the charts' data. */
function page(m: ReportModel, sec: string[], json: string): string {
  const title = `OptStudy report — ${m.run.study ?? m.run.dir}`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; font-src 'none'; connect-src 'none'; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="optstudy report">
<title>${esc(title)}</title><style>${STYLE}</style></head>
<body>
<h1>${esc(title)}</h1><p class="muted">Generated ${esc(m.generatedAt)}</p>
<nav><a href="#summary">Summary</a><a href="#rankings">Rankings</a><a href="#history">History</a><a href="#importance">Importance</a><a href="#slices">Slices</a><a href="#surface">Surface</a>${m.run.directions.length > 1 ? '<a href="#pareto">Pareto</a>' : ''}<a href="#robustness">Robustness</a></nav>
${sec.join('\n')}
<script type="application/json" id="report-data">${json}</script>
<script>${chartJs()}</script>
<script>${CLIENT_JS}</script>
</body></html>
`;
}
