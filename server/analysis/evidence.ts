/**
 * "Will the best parameters hold up?" in one place: the figures the run and the report have
 * (PBO, Deflated Sharpe, walk-forward efficiency and out-of-sample return, holdout retention,
 * best at the edge of its range, isolated peak) turned into rated lines and one verdict. The
 * live analysis computes it from what it has; `optstudy report` computes it again with PBO and
 * measured moments, and the panel shows whichever came last — the same function, so the panel
 * and the report never disagree.
 */
import * as fs from 'node:fs';
import { analyze, type Domain } from '../../grammar';
import type { DeflatedSharpeSummary, EvidenceItem, OverfittingEvidence, ParamEdge, PboSummary, PlateauScore } from '../../protocol/analysis';
import type { ParamValues, RunValidation } from '../../protocol/run-events';
import type { Direction, TrialLike } from './trial-data';

export interface EvidenceInput {
  directions: Direction[];
  best: TrialLike | null;
  /** The best trial's own neighbourhood score (grid plateau or nearest trials), when known. */
  bestRobust?: PlateauScore | null;
  /** The trial "Apply most robust" would apply. */
  mostRobust?: PlateauScore | null;
  edges?: ParamEdge[];
  deflatedSharpe?: DeflatedSharpeSummary | null;
  pbo?: PboSummary | null;
  validation?: RunValidation | null;
  /** Evidence that could not be computed, and why. */
  missing?: string[];
}

/** Three significant digits, no exponent for everyday magnitudes. */
export function fmt3(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString('en-US');
  if (a === 0) return '0';
  return String(Number(x.toPrecision(3)));
}

const pct = (x: number) => `${x >= 0 ? '+' : '−'}${fmt3(Math.abs(x))} %`;

function pboItem(p: PboSummary): EvidenceItem {
  const level = p.pbo >= 0.5 ? 'bad' : p.pbo >= 0.2 ? 'warn' : 'ok';
  return {
    key: 'pbo',
    label: 'PBO',
    value: p.pbo,
    level,
    text: `${fmt3(p.pbo)}: in ${Math.round(p.pbo * 100)} % of ${p.combinations.toLocaleString('en-US')} splits the in-sample best ranked in the bottom half out of sample`,
  };
}

function dsrItem(d: DeflatedSharpeSummary): EvidenceItem {
  const level = d.dsr >= 0.95 ? 'ok' : d.dsr >= 0.5 ? 'warn' : 'bad';
  const verdict = level === 'ok' ? 'likely skill' : level === 'warn' ? 'inconclusive' : 'likely luck';
  return {
    key: 'dsr',
    label: 'Deflated Sharpe',
    value: d.dsr,
    level,
    text: `${fmt3(d.dsr)} (${verdict}): best Sharpe ${fmt3(d.sharpe)} against ${fmt3(d.expectedMaxSharpe)} expected from ${d.trials.toLocaleString('en-US')} trials of no skill`,
  };
}

function validationItems(v: RunValidation): { items: EvidenceItem[]; oosReturn: number | null; where: string } {
  const items: EvidenceItem[] = [];
  if (v.kind === 'walkforward') {
    const w = v.report;
    const e = w.efficiency;
    if (e !== null) items.push({ key: 'wfe', label: 'Walk-forward efficiency', value: e, level: e >= 0.5 ? 'ok' : e >= 0 ? 'warn' : 'bad', text: `${fmt3(e)}: out-of-sample annualized return ÷ in-sample (${w.profitableFolds}/${w.folds.length} folds profitable)` });
    const r = w.stitchedReturnPct;
    if (r !== null) items.push({ key: 'oos', label: 'Out of sample', value: r, level: r >= 0 ? 'ok' : 'bad', text: `${pct(r)} over the ${w.folds.length} stitched test windows` });
    return { items, oosReturn: r, where: `walk-forward, ${w.folds.length} folds` };
  }
  const h = v.report;
  if (h.retention !== null) items.push({ key: 'holdout', label: 'Holdout retention', value: h.retention, level: h.retention >= 0.5 ? 'ok' : h.retention >= 0 ? 'warn' : 'bad', text: `${fmt3(h.retention)}: out-of-sample score ÷ in-sample score of the top ${h.rows.length}` });
  const r = h.rows[0]?.outOfSample.metrics.total_return_pct;
  const oos = typeof r === 'number' && Number.isFinite(r) ? r : null;
  if (oos !== null) items.push({ key: 'oos', label: 'Out of sample', value: oos, level: oos >= 0 ? 'ok' : 'bad', text: `${pct(oos)} for the in-sample best on the last ${fmt3(v.fraction * 100)} % of the data` });
  return { items, oosReturn: oos, where: `holdout, last ${fmt3(v.fraction * 100)} %` };
}

const paramsText = (p: ParamValues) => Object.entries(p).map(([k, v]) => `${k} = ${typeof v === 'number' ? fmt3(v) : v}`).join(', ');

/** Rates every piece of evidence there is and gives one verdict and headline. */
export function overfittingEvidence(input: EvidenceInput): OverfittingEvidence {
  const items: EvidenceItem[] = [];
  if (input.pbo) items.push(pboItem(input.pbo));
  if (input.deflatedSharpe) items.push(dsrItem(input.deflatedSharpe));
  const v = input.validation ? validationItems(input.validation) : null;
  if (v) items.push(...v.items);
  for (const e of input.edges ?? []) {
    items.push({ key: 'edge', label: 'Edge of the range', value: e.value, level: 'warn', text: `${e.param} = ${fmt3(e.value)} is the ${e.side === 'high' ? 'top' : 'bottom'} of its range: the optimum may lie beyond it` });
  }
  const br = input.bestRobust;
  const alt = input.mostRobust && input.best && input.mostRobust.number !== input.best.number ? input.mostRobust : null;
  if (br?.needle) {
    items.push({
      key: 'isolated-peak',
      label: 'Isolated peak',
      value: br.neighbourhoodMean,
      level: 'bad',
      text: `the best trial's ${br.neighbours} neighbours average ${fmt3(br.neighbourhoodMean)} against its ${fmt3(br.score)}${alt ? `; the most robust trial is #${alt.number} (${paramsText(alt.params)}, robust score ${fmt3(alt.robust)})` : ''}`,
    });
  } else if (br) {
    items.push({ key: 'plateau', label: 'Plateau', value: br.robust, level: 'ok', text: `the best trial's ${br.neighbours} neighbours hold up: robust score ${fmt3(br.robust)} (mean ${fmt3(br.neighbourhoodMean)} ± ${fmt3(br.neighbourhoodStd)})` });
  }
  const bad = items.filter((i) => i.level === 'bad');
  const warn = items.filter((i) => i.level === 'warn');
  const strong = items.filter((i) => i.level === 'ok' && ['pbo', 'dsr', 'wfe', 'holdout', 'oos'].includes(i.key));
  const verdict: OverfittingEvidence['verdict'] = bad.length ? 'overfit' : warn.length ? 'caution' : strong.length ? 'robust' : 'unknown';
  let headline: string;
  if (v && v.oosReturn !== null) {
    headline = v.oosReturn < 0 ? `Out of sample the best parameters lost ${fmt3(-v.oosReturn)} % (${v.where})` : `Out of sample the best parameters made ${fmt3(v.oosReturn)} % (${v.where})`;
  } else if (bad.length || warn.length) {
    const top = bad[0] ?? warn[0]!;
    headline = `${top.label}: ${top.text}`;
  } else if (strong.length) headline = `No sign of overfitting: ${strong.map((i) => `${i.label} ${fmt3(i.value)}`).join(', ')}`;
  else headline = 'Not enough evidence yet to judge overfitting';
  return {
    verdict,
    headline,
    items,
    ...(input.pbo !== undefined ? { pbo: input.pbo } : {}),
    ...(input.deflatedSharpe !== undefined ? { deflatedSharpe: input.deflatedSharpe } : {}),
    ...(input.validation?.kind === 'walkforward'
      ? { walkForward: { efficiency: input.validation.report.efficiency, stitchedReturnPct: input.validation.report.stitchedReturnPct, profitableFolds: input.validation.report.profitableFolds, folds: input.validation.report.folds.length } }
      : {}),
    ...(input.validation?.kind === 'holdout'
      ? { holdout: { retention: input.validation.report.retention, rankCorrelation: input.validation.report.rankCorrelation, bestOosReturnPct: (input.validation.report.rows[0]?.outOfSample.metrics.total_return_pct as number | null | undefined) ?? null } }
      : {}),
    ...(input.missing?.length ? { missing: input.missing } : {}),
  };
}

/** Numeric bounds per parameter of each stage, as the study declares them. */
export type DeclaredRanges = Map<string, Map<string, { lo: number; hi: number }>>;

function boundsOf(d: Domain): { lo: number; hi: number } | null {
  if (d.kind === 'list') {
    const nums = d.values.filter((x): x is number => typeof x === 'number');
    return nums.length === d.values.length && nums.length > 1 ? { lo: Math.min(...nums), hi: Math.max(...nums) } : null;
  }
  return { lo: d.lo, hi: d.hi };
}

const rangesCache = new Map<string, { mtimeMs: number; ranges: DeclaredRanges | null }>();

/**
 * The declared ranges of a study's stages, read from its file (cached while the file is
 * unchanged); null when the file or the study is gone.
 */
export function declaredRanges(file: string | undefined, study: string | undefined): DeclaredRanges | null {
  if (!file) return null;
  let mtimeMs: number;
  try {
    mtimeMs = fs.statSync(file).mtimeMs;
  } catch {
    return null;
  }
  const key = `${file}\u0000${study ?? ''}`;
  const hit = rangesCache.get(key);
  if (hit && hit.mtimeMs === mtimeMs) return hit.ranges;
  let ranges: DeclaredRanges | null = null;
  try {
    const a = analyze(fs.readFileSync(file, 'utf8'));
    const model = study === undefined ? a.studies[0] : a.studies.find((s) => s.name === study);
    if (model) {
      ranges = new Map();
      for (const st of model.stages) {
        const m = new Map<string, { lo: number; hi: number }>();
        for (const p of st.params) {
          const b = boundsOf(p.domain);
          if (b) m.set(p.name, b);
        }
        ranges.set(st.name, m);
      }
    }
  } catch {
    ranges = null;
  }
  rangesCache.set(key, { mtimeMs, ranges });
  return ranges;
}

/**
 * The best trial's parameters at an end of their range: the declared one when known, else the
 * range of values its stage tried. Only parameters its stage searched (others are fixed).
 */
export function paramEdges(best: TrialLike | null, stageTrials: readonly TrialLike[], declared: Map<string, { lo: number; hi: number }> | undefined): ParamEdge[] {
  if (!best) return [];
  const out: ParamEdge[] = [];
  for (const [param, value] of Object.entries(best.params)) {
    if (typeof value !== 'number') continue;
    let b = declared?.get(param);
    if (!b) {
      let lo = Infinity;
      let hi = -Infinity;
      for (const t of stageTrials) {
        const x = t.params[param];
        if (typeof x !== 'number') continue;
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
      if (!(hi > lo)) continue; // not searched in this stage
      b = { lo, hi };
    }
    // A grid lands on its bounds (a hair off in floating point); a continuous search comes
    // within a few percent of them at best.
    const distinct = new Set(stageTrials.map((t) => t.params[param])).size;
    const tol = (distinct > 64 ? 0.02 : 1e-8) * (b.hi - b.lo || 1);
    if (value >= b.hi - tol) out.push({ param, value, side: 'high' });
    else if (value <= b.lo + tol) out.push({ param, value, side: 'low' });
  }
  return out;
}
