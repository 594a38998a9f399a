/**
 * The plain-text summary `optstudy report RUN_DIR` prints: the run, the best trials, which
 * parameters matter, and how much of the best score may be luck.
 */
import type { ParamValues } from '../../protocol/run-events';
import type { ReportModel } from './index';
import type { ValidationResult } from './validation';
import { validationTable } from '../run/validate-run';

/** A number for a table: up to 4 significant decimals, no exponent for ordinary magnitudes. */
export function fmt(v: unknown, digits = 4): string {
  if (v === null || v === undefined) return '—';
  if (typeof v !== 'number') return String(v);
  if (!Number.isFinite(v)) return v > 0 ? '∞' : v < 0 ? '−∞' : '—';
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e9)) return v.toExponential(2);
  return String(Number(v.toFixed(digits)));
}

export function fmtParams(p: ParamValues): string {
  return Object.entries(p).map(([k, v]) => `${k}=${v}`).join(' ');
}

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (c ?? '').padEnd(w[i]!)).join('  ').trimEnd();
  return [line(head), line(w.map((n) => '-'.repeat(n))), ...rows.map(line)].join('\n');
}

export function reportText(m: ReportModel): string {
  const s = m.snapshot;
  const out: string[] = [];
  const c = s.counts!;
  out.push(`Study: ${m.run.study ?? '(unknown)'}${m.run.file ? `  (${m.run.file})` : ''}`);
  out.push(`Run:   ${m.run.dir}  — ${m.run.status}`);
  out.push(`Trials: ${s.trials} (${c.complete} complete, ${c.infeasible} infeasible, ${c.failed} failed)`);
  out.push(`Objective${m.run.objectives.length > 1 ? 's' : ''}: ${m.run.objectives.map((o, i) => `${m.run.directions[i]} ${o}`).join('; ')}`);
  for (const w of m.run.warnings) out.push(`warning: ${w}`);
  out.push('');
  if (s.best) out.push(`Best: #${s.best.number} [${s.best.stage}] score ${fmtScore(s.best.score)}  ${fmtParams(s.best.params)}`);
  const metricCols = ['sharpe', 'total_return_pct', 'max_drawdown_pct', 'trades'].filter((k) => m.trials.some((t) => k in t.metrics));
  // A basket: the best trial's own backtest of each symbol (its score aggregates over them).
  const perSymbol = s.best ? m.trials.find((t) => t.number === s.best!.number)?.symbols : undefined;
  if (perSymbol?.length) out.push('', table(['symbol', ...metricCols], perSymbol.map((x) => [x.symbol, ...metricCols.map((k) => fmt(x.metrics[k]))])));
  out.push('');
  out.push('Top trials');
  out.push(
    table(
      ['#', 'trial', 'stage', 'score', ...metricCols, 'params'],
      m.rankings.top.slice(0, 10).map((r) => [String(r.rank), String(r.number ?? ''), r.stage ?? '', fmtScore(r.score), ...metricCols.map((k) => fmt(r.metrics[k])), fmtParams(r.params)]),
    ),
  );
  if (s.importance.length) {
    out.push('');
    out.push('Parameter importance (fANOVA share; one-way ANOVA)');
    out.push(table(['param', 'share', 'F', 'p', '-log10 p'], s.importance.map((i) => [i.param, fmt(i.importance, 3), fmt(i.fStat, 3), fmt(i.pValue), fmt(i.negLog10P, 2)])));
  }
  if (s.pareto?.length) {
    out.push('');
    out.push(`Pareto front: ${s.pareto.length} trial(s); hypervolume ${fmt(s.hypervolume?.points.at(-1)?.hypervolume)} (${s.hypervolume?.method ?? '—'})`);
  }
  out.push('');
  out.push('Robustness');
  // The same verdict the results panel shows in its header (server/analysis/evidence.ts).
  const ov = s.overfitting;
  if (ov) {
    out.push(`  Verdict: ${ov.verdict} — ${ov.headline}`);
    for (const i of ov.items) out.push(`    ${i.level === 'ok' ? '✓' : i.level === 'bad' ? '✗' : i.level === 'warn' ? '!' : '·'} ${i.label}: ${i.text}`);
  }
  if (s.mostRobust) out.push(`  Most robust: #${s.mostRobust.number ?? '?'} robust score ${fmt(s.mostRobust.robust)} (score ${fmt(s.mostRobust.score)})  ${fmtParams(s.mostRobust.params)}`);
  if (s.plateau?.length) {
    out.push(table(['trial', 'score', 'plateau', 'neighbours', 'needle'], s.plateau.map((p) => [String(p.number ?? ''), fmt(p.score), fmt(p.robust), `${p.neighbours}/${p.cells}`, p.needle ? 'NEEDLE' : ''])));
  } else out.push('  plateau scores: none (no grid stage finalists)');
  const d = s.deflatedSharpe;
  if (d) {
    out.push(`  Deflated Sharpe: ${fmt(d.dsr, 3)} (best Sharpe ${fmt(d.sharpe, 3)} vs ${fmt(d.expectedMaxSharpe, 3)} expected from ${d.trials} zero-skill trials; PSR ${fmt(d.psr, 3)}${d.momentsMeasured ? '' : ', normal returns assumed'})`);
  } else out.push('  Deflated Sharpe: not available (needs a sharpe metric and re-runs)');
  const r = m.reruns;
  if (r.pbo) out.push(`  PBO (CSCV, ${r.pbo.strategies} trials, ${r.pbo.partitions} partitions): ${fmt(r.pbo.pbo, 3)}; OOS loss probability ${fmt(r.pbo.probabilityOfLoss, 3)}`);
  if (r.bootstrap) {
    const b = r.bootstrap;
    out.push(`  Bootstrap of ${b.trades} trades ×${b.iterations}: max drawdown % p50 ${fmt(b.maxDrawdownPct.p50, 2)}, p95 ${fmt(b.maxDrawdownPct.p95, 2)} (actual ${fmt(b.actualMaxDrawdownPct, 2)}); P(loss) ${fmt(b.probabilityOfLoss, 3)}`);
  }
  for (const v of m.validation as ValidationResult[]) {
    if (v?.kind === 'walkforward') {
      const w = v.report;
      out.push(`  Walk-forward (${v.folds} folds, ${Math.round(v.train * 100)}% train, ${v.anchored ? 'anchored' : 'rolling'}): efficiency ${fmt(w.efficiency, 3)}, stitched OOS return ${fmt(w.stitchedReturnPct, 2)}%, ${w.profitableFolds}/${w.folds.length} folds profitable`);
    } else if (v?.kind === 'holdout') {
      const h = v.report;
      out.push(`  Holdout (${Math.round(v.fraction * 100)}% OOS): top ${h.rows.length} IS→OOS rank correlation ${fmt(h.rankCorrelation, 3)}, score retention ${fmt(h.retention, 3)}`);
    }
  }
  // Validation the run computed itself (optimized on the window): its folds / finalists in full.
  for (const v of m.validation as ValidationResult[])
    if (v?.source === 'run') out.push(validationTable(v, m.run.objectives[0]).trimEnd().split('\n').map((l) => `    ${l}`).join('\n'));
  if (m.validationNote) out.push(`  validation not run: ${m.validationNote}`);
  if (!r.available && r.reason) out.push(`  re-runs skipped: ${r.reason}`);
  for (const x of r.mismatches) out.push(`  warning: ${x}`);
  return out.join('\n') + '\n';
}

function fmtScore(s: unknown): string {
  return Array.isArray(s) ? `[${s.map((x) => fmt(x)).join(', ')}]` : fmt(s);
}
