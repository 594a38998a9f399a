/**
 * The overfitting verdict the header shows: how much the best result can be trusted. When the
 * run's analysis carries its verdict (`overfitting`, the same object the CLI report prints) the
 * panel shows exactly that — one estimator, one answer. For older runs it derives one from what
 * it has: the probability of backtest overfitting (PBO), the deflated Sharpe ratio,
 * out-of-sample efficiency (walk-forward or holdout), whether the best sits at the edge of a
 * parameter's range, and whether it is an isolated peak among its neighbours. Pure: the header
 * renders what this returns.
 */
import type { OverfittingEvidence, PlateauScore } from '../../protocol/analysis';
import { fmt, fmtValue } from '../format';
import type { PanelStore } from '../store';

export type Level = 'ok' | 'warn' | 'bad' | 'info';

export interface VerdictItem {
  key: string;
  level: Level;
  text: string;
  title: string;
}

export interface Verdict {
  items: VerdictItem[];
  /** `unknown` until there is evidence. */
  level: Exclude<Level, 'info'> | 'unknown';
  summary: string;
  /** One sentence from the run's analysis ("Out of sample the best parameters lost 17 %…"). */
  headline?: string;
}

const SUMMARY = { bad: 'Likely overfit', warn: 'Some signs of overfitting', ok: 'No sign of overfitting', unknown: 'Not enough evidence yet' } as const;

/** The run's own verdict, as the analysis computed it. */
function fromEvidence(o: OverfittingEvidence): Verdict {
  const level = ({ robust: 'ok', caution: 'warn', overfit: 'bad', unknown: 'unknown' } as const)[o.verdict];
  return {
    level,
    summary: SUMMARY[level],
    headline: o.headline,
    items: o.items.map((i) => ({ key: i.key, level: i.level, text: i.value !== null && !/edge|peak|plateau/.test(i.key) ? `${i.label} ${fmt(i.value, 2)}` : i.label, title: i.text })),
  };
}

/** The most robust finalist: the host's choice, else the plateau row with the best robust score. */
export function mostRobust(store: PanelStore): PlateauScore | null {
  const given = store.analysis?.mostRobust;
  if (given) return given;
  const rows = store.analysis?.plateau ?? [];
  if (!rows.length) return null;
  const min = store.directions[0] === 'minimize';
  return rows.reduce((a, b) => ((min ? b.robust < a.robust : b.robust > a.robust) ? b : a));
}

/** Parameters of the best trial at the low or high end of the values tried (or declared, when the host says). */
function edges(store: PanelStore): { param: string; value: number; side: 'low' | 'high'; declared: boolean }[] {
  const given = store.analysis?.edges;
  if (given) return given.map((e) => ({ ...e, declared: true }));
  const best = store.best;
  if (!best) return [];
  const out: { param: string; value: number; side: 'low' | 'high'; declared: boolean }[] = [];
  store.tables.params.forEach((p, i) => {
    const v = best.params[p];
    if (typeof v !== 'number') return;
    let lo = Infinity;
    let hi = -Infinity;
    const distinct = new Set<number>();
    for (const r of store.rows) {
      const x = r.p[i];
      if (typeof x !== 'number') continue;
      if (x < lo) lo = x;
      if (x > hi) hi = x;
      if (distinct.size < 4) distinct.add(x);
    }
    // Two values make every point an edge: say nothing then.
    if (distinct.size < 3) return;
    if (v === lo) out.push({ param: p, value: v, side: 'low', declared: false });
    else if (v === hi) out.push({ param: p, value: v, side: 'high', declared: false });
  });
  return out;
}

export function verdict(store: PanelStore): Verdict {
  if (store.analysis?.overfitting) return fromEvidence(store.analysis.overfitting);
  const items: VerdictItem[] = [];
  const pbo = store.analysis?.pbo;
  if (pbo && Number.isFinite(pbo.pbo)) {
    items.push({
      key: 'pbo',
      level: pbo.pbo >= 0.5 ? 'bad' : pbo.pbo >= 0.2 ? 'warn' : 'ok',
      text: `PBO ${fmt(pbo.pbo, 2)}`,
      title: `Probability of backtest overfitting: in ${fmt(pbo.pbo * 100, 3)} % of ${pbo.combinations ?? 'the'} in/out-of-sample splits the in-sample best ranked in the bottom half out of sample. Below 0.2 is reassuring, above 0.5 means the choice is worse than a coin toss.`,
    });
  }
  const ds = store.analysis?.deflatedSharpe;
  if (ds && Number.isFinite(ds.dsr)) {
    items.push({
      key: 'dsr',
      level: ds.dsr >= 0.95 ? 'ok' : ds.dsr >= 0.5 ? 'warn' : 'bad',
      text: `Deflated Sharpe ${fmt(ds.dsr, 2)}`,
      title: `Probability that the best Sharpe (${fmt(ds.sharpe, 3)}) beats the ${fmt(ds.expectedMaxSharpe, 3)} that ${ds.trials.toLocaleString('en-US')} zero-skill trials would reach by luck. 0.95 or more suggests skill.`,
    });
  }
  const v = store.validation;
  if (v?.kind === 'walkforward') {
    const w = v.report;
    const eff = w.efficiency;
    const lost = (w.stitchedReturnPct ?? 0) < 0;
    items.push({
      key: 'oos',
      level: lost || (eff !== null && eff < 0) ? 'bad' : eff !== null && eff < 0.5 ? 'warn' : 'ok',
      text: `OOS efficiency ${fmt(eff, 2)}`,
      title: 'Walk-forward efficiency: out-of-sample annualized return / in-sample annualized return, over the folds. Near 1 the edge carries over; below 0.5 most of it was fitted to the past.',
    });
  } else if (v?.kind === 'holdout') {
    const r = v.report.retention;
    items.push({
      key: 'oos',
      level: r === null ? 'warn' : r < 0 ? 'bad' : r < 0.5 ? 'warn' : 'ok',
      text: `OOS retention ${fmt(r, 2)}`,
      title: 'Holdout: mean out-of-sample score / mean in-sample score of the finalists.',
    });
  }
  for (const e of edges(store)) {
    items.push({
      key: 'edge',
      level: 'warn',
      text: `best at the edge: ${e.param} = ${fmtValue(e.value)}`,
      title: `The best ${e.param} is the ${e.side === 'low' ? 'lowest' : 'highest'} value ${e.declared ? 'of its declared range' : 'tried'}: the optimum may lie outside the range. Widen it and run again.`,
    });
  }
  const best = store.best;
  const peak = best?.number !== undefined ? store.analysis?.plateau?.find((p) => p.number === best.number) : undefined;
  if (peak) {
    items.push({
      key: 'peak',
      level: peak.needle ? 'bad' : 'ok',
      text: peak.needle ? 'isolated peak' : 'on a plateau',
      title: peak.needle
        ? `The best trial's ${peak.neighbours} neighbours score ${fmt(peak.neighbourhoodMean)} ± ${fmt(peak.neighbourhoodStd)} against its ${fmt(peak.score)}: small parameter changes lose the edge. "Apply most robust" picks a sturdier point.`
        : `Its ${peak.neighbours} neighbours score ${fmt(peak.neighbourhoodMean)} ± ${fmt(peak.neighbourhoodStd)}: the result does not hang on one exact parameter set.`,
    });
  }
  const level: Verdict['level'] = items.some((i) => i.level === 'bad') ? 'bad' : items.some((i) => i.level === 'warn') ? 'warn' : items.length >= 2 ? 'ok' : 'unknown';
  return { items, level, summary: SUMMARY[level] };
}
