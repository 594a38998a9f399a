/**
 * The robustness card, from the analysis snapshot and the run's validation: the deflated Sharpe
 * ratio, the plateau of the finalists (robust score, isolated peaks), the hypervolume of several
 * objectives, and the holdout / walk-forward tables. Clicking a finalist selects its trial.
 */
import type { RunValidation } from '../../protocol/run-events';
import { el, simpleTable, type Card } from '../dom';
import { fmt, fmtCount, fmtParams, fmtShare, fmtSignedPct } from '../format';
import type { Links } from '../links';
import type { PanelStore } from '../store';

export function renderRobustness(c: Card, store: PanelStore, links: Links): void {
  const a = store.analysis;
  const parts: HTMLElement[] = [];
  const ds = a?.deflatedSharpe;
  if (ds) {
    const p = el('p', 'robust-line');
    const verdict = ds.dsr >= 0.95 ? 'likely skill' : ds.dsr >= 0.5 ? 'inconclusive' : 'likely luck';
    p.append(
      el('strong', undefined, 'Deflated Sharpe: '),
      document.createTextNode(`${fmt(ds.dsr, 3)} (${verdict}). Best Sharpe ${fmt(ds.sharpe, 3)} against ${fmt(ds.expectedMaxSharpe, 3)} expected from ${fmtCount(ds.trials)} zero-skill trials; PSR ${fmt(ds.psr, 3)}${ds.momentsMeasured ? '' : ' (normal returns assumed)'}.`),
    );
    p.title = 'Probability that the best trial\'s Sharpe ratio reflects real skill after accounting for the number of trials (Bailey & López de Prado).';
    parts.push(p);
  }
  if (a?.plateau?.length) {
    const rows = a.plateau.slice(0, 10);
    const t = simpleTable('plateau', ['#', 'parameters', 'score', 'robust score', 'neighbourhood', 'neighbours', ''], rows.map((r) => [
      r.number !== undefined ? String(r.number) : '',
      fmtParams(r.params),
      fmt(r.score),
      fmt(r.robust),
      `${fmt(r.neighbourhoodMean)} ± ${fmt(r.neighbourhoodStd, 2)}`,
      `${r.neighbours}${r.infeasibleNeighbours ? ` (${r.infeasibleNeighbours} infeasible)` : ''}`,
      r.needle ? '⚠ isolated peak' : 'plateau',
    ]), [false, false, true, true, true, true, false]);
    t.querySelectorAll('tbody tr').forEach((tr, i) => {
      const r = rows[i]!;
      tr.children[1]?.classList.add('params');
      tr.children[3]?.classList.add('score');
      if (r.needle) {
        tr.lastElementChild?.classList.add('warn');
        (tr as HTMLElement).title = 'Its neighbours score much worse: small parameter changes lose the edge.';
      }
      if (r.number !== undefined) {
        (tr as HTMLElement).dataset['n'] = String(r.number);
        tr.classList.add('clickable');
        tr.addEventListener('click', () => links.select(r.number));
        tr.addEventListener('dblclick', () => links.open(r.number!));
      }
    });
    parts.push(el('h3', undefined, 'Plateau of the finalists'), t);
  }
  const hv = a?.hypervolume;
  if (hv && hv.points.length) {
    const last = hv.points[hv.points.length - 1]!;
    parts.push(el('p', 'robust-line', `Hypervolume ${fmt(last.hypervolume, 5)} after ${fmtCount(last.trials)} trials (${hv.method}, reference ${hv.reference.map((x) => fmt(x, 3)).join(', ')}).`));
  }
  if (store.validation) parts.push(...validationTables(store.validation));
  c.card.hidden = parts.length === 0;
  if (!c.card.hidden) c.body.replaceChildren(...parts);
}

/** The run's `validate holdout|walkforward` results: a summary line and one row per finalist / fold. */
function validationTables(v: RunValidation): HTMLElement[] {
  const out: HTMLElement[] = [];
  if (v.kind === 'holdout') {
    const h = v.report;
    out.push(
      el('h3', undefined, `Holdout: last ${fmt(v.fraction * 100, 3)} % out of sample`),
      el('p', 'robust-line', `Optimized on ${h.inSample.from} … ${h.inSample.to}; the top ${h.rows.length} re-run on ${h.outOfSample.from} … ${h.outOfSample.to}. Rank correlation ${fmt(h.rankCorrelation, 3)}, OOS/IS score retention ${fmt(h.retention, 3)}.`),
      simpleTable('plateau', ['IS rank', 'IS score', 'OOS score', 'OOS return', 'parameters'], h.rows.map((r) => [String(r.rank), fmt(r.inSample.score), fmt(r.outOfSample.score), fmtSignedPct(r.outOfSample.metrics['total_return_pct']), fmtParams(r.params)]), [true, true, true, true, false]),
    );
  } else {
    const w = v.report;
    out.push(
      el('h3', undefined, `Walk-forward: ${v.folds} folds, ${fmt(v.train * 100, 3)} % train, ${v.anchored ? 'anchored' : 'rolling'}`),
      el('p', 'robust-line', `Walk-forward efficiency ${fmt(w.efficiency, 3)}; stitched out-of-sample return ${fmtSignedPct(w.stitchedReturnPct)}; ${w.profitableFolds}/${w.folds.length} folds profitable.`),
      simpleTable('plateau', ['fold', 'test window', 'IS score', 'OOS score', 'IS ann.', 'OOS ann.', 'efficiency', 'parameters'], w.folds.map((f) => [
        String(f.fold), `${f.test.from} … ${f.test.to}`, fmt(f.inSample.score), fmt(f.outOfSample.score), fmtShare(f.inSample.annualizedReturn), fmtShare(f.outOfSample.annualizedReturn), fmt(f.efficiency, 3), fmtParams(f.params),
      ]), [true, false, true, true, true, true, true, false]),
    );
  }
  if (v.note) out.push(el('p', 'robust-line', v.note));
  return out;
}
