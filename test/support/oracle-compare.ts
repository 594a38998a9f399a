/**
 * Compares one of our backtests with backtrader's result for the same scenario (a golden or a
 * fresh oracle.py run): every metric, every trade, fill and rejection field the oracle gives,
 * and the equity curve, with `===`: `returns_*` too (the engine takes glibc's log and expm1, as
 * Python does; golden/SEMANTICS.md §9 allows 1e-14 relative, no longer needed).
 */
import { loadPrices, type BacktestConfig, type BacktestResult, type PriceData } from '../../server/engine/index';
import { dataPath, type OracleResult, type OracleScenario } from './engine-golden';

/** The engine config of an oracle scenario. */
export function configOf(sc: OracleScenario): BacktestConfig {
  const c = sc.commission;
  const s = sc.slippage;
  return {
    cash: sc.cash,
    commission: c.type === 'percent' ? { kind: 'percent', rate: c.rate } : c.type === 'per_share' ? { kind: 'per_share', amount: c.amount } : { kind: 'per_contract', amount: c.amount, margin: c.margin, mult: c.mult },
    slippage: s === null ? null : s.type === 'percent' ? { kind: 'percent', rate: s.rate } : { kind: 'fixed', amount: s.amount },
    sizing: sc.sizing.type === 'fixed' ? { kind: 'fixed', value: sc.sizing.size } : { kind: 'percent', value: sc.sizing.percent },
  };
}

const loaded = new Map<string, PriceData>();

/** The feeds of a scenario (loaded once per file and range). */
export function feedsOf(sc: OracleScenario): PriceData[] {
  return sc.data.map((name) => {
    const key = `${name}|${sc.from}|${sc.to}`;
    let d = loaded.get(key);
    if (!d) {
      d = loadPrices(dataPath(name), { from: sc.from ?? undefined, to: sc.to ?? undefined });
      loaded.set(key, d);
    }
    return d;
  });
}

/** The oracle's JSON form of a number: NaN → null, ±inf → "inf"/"-inf". */
function norm(x: unknown): unknown {
  if (typeof x === 'number') {
    if (Number.isNaN(x)) return null;
    if (x === Infinity) return 'inf';
    if (x === -Infinity) return '-inf';
  }
  return x;
}

/** Equal as the oracle compares: `===` on its JSON form. */
export function same(want: unknown, got: unknown): boolean {
  return norm(want) === norm(got);
}

/**
 * Every difference between backtrader's result `g` and ours, as readable lines. `legacy`: a
 * result of ../shared/golden, whose trades' `exit_reason` is the strategy's label (our
 * `exit_signal`, with our `exit_reason` then `signal`).
 */
export function diffResult(g: OracleResult, r: BacktestResult, legacy: boolean): string[] {
  const out: string[] = [];
  const ours: Record<string, unknown> = { ...r.metrics, yearly_returns: r.yearly, first_next_date: r.first_next_date };
  if (r.end_positions) ours.end_positions = r.end_positions;
  for (const [k, want] of Object.entries(g.metrics)) {
    if (k === 'yearly_returns' || k === 'end_positions') {
      if (JSON.stringify(want) !== JSON.stringify(ours[k])) out.push(`metric ${k}: ${JSON.stringify(ours[k])} != ${JSON.stringify(want)}`);
      continue;
    }
    if (!(k in ours)) out.push(`metric ${k} missing`);
    else if (!same(want, ours[k])) out.push(`metric ${k}: ${String(ours[k])} != ${String(want)}`);
  }
  list(out, 'trade', g.trades, r.trades as unknown as Record<string, unknown>[], legacy);
  list(out, 'fill', g.fills ?? [], r.fills as unknown as Record<string, unknown>[], false);
  list(out, 'rejection', g.rejected, r.rejected as unknown as Record<string, unknown>[], false);
  if (g.equity) {
    if (!r.equity || !r.cash) out.push('equity missing');
    else {
      let bad = 0;
      g.equity.value.forEach((v, j) => (bad += same(v, r.equity![j]) ? 0 : 1));
      g.equity.cash.forEach((v, j) => (bad += same(v, r.cash![j]) ? 0 : 1));
      if (r.equity.length !== g.equity.value.length) out.push(`equity: ${r.equity.length} ticks != ${g.equity.value.length}`);
      if (bad) out.push(`equity: ${bad} value/cash entries differ`);
    }
  }
  return out;
}

function list(out: string[], what: string, want: Record<string, unknown>[], got: Record<string, unknown>[], legacy: boolean): void {
  if (want.length !== got.length) {
    out.push(`${want.length} ${what}s expected, got ${got.length}`);
    return;
  }
  want.forEach((w, j) => {
    const mine = got[j]!;
    for (const [k, v] of Object.entries(w)) {
      if (legacy && k === 'exit_reason') {
        if (mine.exit_reason !== 'signal' || mine.exit_signal !== v) out.push(`${what} ${j} exit: ${String(mine.exit_reason)}/${String(mine.exit_signal)} != signal/${String(v)}`);
        continue;
      }
      if (!same(v, mine[k])) out.push(`${what} ${j} ${k}: ${String(mine[k])} != ${String(v)}`);
    }
  });
}
