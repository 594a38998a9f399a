/**
 * Random scenarios against real backtrader (../shared/oracle): seeded, so a failure names a
 * scenario that replays. Two kinds:
 * - built-ins with every common parameter (direction, stop, take, trail), commission scheme,
 *   slippage and sizing, run through the oracle's own `oracle.py`;
 * - scripted order plans — market, close, limit, stop, stop-limit and trailing orders, OCO
 *   brackets placed on fills, cancels, targets, several feeds — run as a TypeScript strategy
 *   module here and as a backtrader strategy by test/engine/oracle-modules.py.
 * Every metric, trade, fill and rejection must agree bit for bit, `returns_*` included. Without
 * ../shared/oracle the test reports itself skipped with the reason (CI turns that into a
 * failure where the oracle is expected). OPTSTUDY_ORACLE_SCENARIOS scales the counts;
 * OPTSTUDY_ORACLE_SEED draws other scenarios (added to the fixed seeds; a failure names it).
 * OPTSTUDY_ORACLE_PLAN=k runs scripted plan k alone (drawn as usual, so it is the plan a failure
 * named; the order-type coverage check is then skipped) and OPTSTUDY_ORACLE_DUMP=FILE writes
 * the plans run there as JSON, to replay or reduce them by hand.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { IndicatorCache, backtestMetrics, runBacktest, type PriceData } from '../../server/engine/index';
import { DATA, ORACLE_DATA, type OracleResult, type OracleScenario } from '../support/engine-golden';
import { configOf, diffResult, feedsOf } from '../support/oracle-compare';
import { backtraderPlans, enginePlan, type Action, type Plan } from '../support/oracle-plans';
import { ORACLE, oracleSkipReason, python } from '../support/oracle-process';
import { tempFolder } from '../support/temp';

const SCALE = Number(process.env.OPTSTUDY_ORACLE_SCENARIOS ?? 1);
const SEED = Number(process.env.OPTSTUDY_ORACLE_SEED ?? 0) >>> 0;
const ONLY = process.env.OPTSTUDY_ORACLE_PLAN ? Number(process.env.OPTSTUDY_ORACLE_PLAN) : -1;

/** mulberry32: a small seeded PRNG. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = ReturnType<typeof rng>;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rand, a: number, b: number): number => a + Math.floor(r() * (b - a + 1));
const round = (x: number, d: number): number => Math.round(x * 10 ** d) / 10 ** d;

const DAILY = ['orcl-1995-2014.txt', 'nvda-1999-2014.txt', 'yhoo-1996-2014.txt'];

/** A few years of a daily file, or a whole small file. */
function window(r: Rand): { data: string[]; from: string | null; to: string | null } {
  const x = r();
  if (x < 0.12) return { data: ['2006-day-001.txt'], from: null, to: null };
  if (x < 0.22) return { data: ['2006-min-005.txt'], from: null, to: null };
  const y = int(r, 2001, 2011);
  return { data: [pick(r, DAILY)], from: `${y}-0${int(r, 1, 9)}-01`, to: `${y + int(r, 1, 3)}-12-31` };
}

function costs(r: Rand, intraday: boolean): Pick<OracleScenario, 'commission' | 'slippage' | 'sizing'> {
  const x = r();
  const futures = intraday ? x < 0.5 : x < 0.1;
  const commission: OracleScenario['commission'] = futures
    ? { type: 'per_contract', amount: pick(r, [1, 2.5]), margin: pick(r, [2000, 5000]), mult: pick(r, [5, 10]) }
    : x < 0.55
      ? { type: 'percent', rate: pick(r, [0.001, 0.0005, 0.002]) }
      : { type: 'per_share', amount: pick(r, [0.005, 0.01]) };
  const s = r();
  const slippage: OracleScenario['slippage'] = s < 0.5 ? null : s < 0.75 ? { type: 'percent', rate: pick(r, [0.0005, 0.001, 0.002]) } : { type: 'fixed', amount: pick(r, [0.01, 0.02, 0.05]) };
  const sizing: OracleScenario['sizing'] = futures ? { type: 'fixed', size: int(r, 1, 3) } : r() < 0.6 ? { type: 'percent', percent: pick(r, [30, 50, 80, 95]) } : { type: 'fixed', size: pick(r, [10, 50, 100, 500]) };
  return { commission, slippage, sizing };
}

const PARAMS: Record<string, (r: Rand) => Record<string, number | string>> = {
  sma_cross: (r) => ({ fast: int(r, 3, 20), slow: int(r, 15, 60) }),
  ema_atr: (r) => ({ ema_fast: int(r, 5, 15), ema_slow: int(r, 20, 50), atr_period: int(r, 7, 20), atr_sl_multiplier: pick(r, [1, 1.5, 2, 3]), atr_tp_multiplier: pick(r, [2, 3, 4, 6]) }),
  rsi_reversion: (r) => ({ period: int(r, 5, 21), lower: pick(r, [20, 25, 30, 35]), upper: pick(r, [60, 65, 70, 75]) }),
  bollinger: (r) => ({ period: int(r, 10, 30), devfactor: pick(r, [1.5, 2, 2.5]), mode: pick(r, ['reversion', 'breakout']) }),
  macd_cross: (r) => ({ fast: int(r, 6, 14), slow: int(r, 20, 32), signal: int(r, 5, 11) }),
  donchian_breakout: (r) => ({ entry: int(r, 5, 30), exit: int(r, 3, 20) }),
};

/** A built-in scenario with random common parameters and costs. */
function builtinScenario(r: Rand): OracleScenario {
  const strategy = pick(r, Object.keys(PARAMS));
  const w = window(r);
  const params: Record<string, number | string> = { ...PARAMS[strategy]!(r), direction: pick(r, ['long', 'short', 'both']) };
  if (r() < 0.6) params.stop_loss_pct = pick(r, [0, 1, 2, 3, 5, 8]);
  if (r() < 0.6) params.take_profit_pct = pick(r, [0, 2, 4, 8, 15]);
  if (r() < 0.5) params.trail_pct = pick(r, [0, 1.5, 3, 5, 8]);
  return { strategy, params, ...w, cash: 100000, ...costs(r, w.data[0]!.includes('-min-')) };
}

const TYPES = ['market', 'market', 'close', 'limit', 'stop', 'stop_limit', 'stop_trail'] as const;

function orderAction(r: Rand, feed: number, side: 'buy' | 'sell', fixed: boolean): Action {
  const type = pick(r, TYPES);
  // Mostly on the sensible side of the close (a buy limit below, a buy stop above), sometimes
  // through it, which exercises the gap rules.
  const sign = (side === 'buy') === (type === 'limit') ? -1 : 1;
  const off = round(sign * (r() < 0.8 ? r() * 0.04 : -r() * 0.02), 4);
  const a: Action = { feed, op: side, type, size: r() < 0.4 && !fixed ? null : int(r, 1, 40) * 5, label: r() < 0.3 ? `l${int(r, 1, 9)}` : null };
  if (type === 'limit' || type === 'stop' || type === 'stop_limit') a.off = off;
  if (type === 'stop_limit') a.loff = round(off + (side === 'buy' ? 1 : -1) * r() * 0.02, 4);
  if (type === 'stop_trail') a.trail = pick(r, [0.02, 0.04, 0.07]);
  return a;
}

/** A random plan over `ticks` clock ticks of `feeds` feeds. */
function plan(r: Rand, ticks: number, feeds: number, base: Omit<OracleScenario, 'strategy' | 'params'>): Plan {
  const actions: Action[] = [];
  const fixed = base.sizing.type === 'fixed';
  const n = int(r, 15, 40);
  for (let k = 0; k < n; k++) {
    const tick = int(r, 3, ticks - 1);
    const feed = int(r, 0, feeds - 1);
    const x = r();
    let a: Action;
    if (x < 0.3) a = orderAction(r, feed, 'buy', fixed);
    else if (x < 0.52) a = orderAction(r, feed, 'sell', fixed);
    else if (x < 0.66) a = { feed, op: 'close', label: r() < 0.5 ? 'exit' : null };
    else if (x < 0.76 && actions.length) a = { feed, op: 'cancel', cancel: int(r, 0, actions.length - 1) };
    else if (x < 0.86) a = { feed, op: 'target', target: pick(r, [{ size: int(r, -4, 8) * 10 }, { percent: pick(r, [0, 20, 50]) }, { value: pick(r, [0, 5000, 20000]) }]), label: null };
    else if (actions.length) {
      // A bracket on a fill: a take-profit limit and a stop, one cancelling the other.
      const parent = int(r, 0, actions.length - 1);
      const take: Action = { onFill: parent, feed: actions[parent]!.feed, op: 'sell', type: 'limit', size: int(r, 1, 20) * 5, off: round(r() * 0.05, 4), label: 'take', oco: null };
      actions.push(take);
      a = { onFill: parent, feed: take.feed, op: 'sell', type: 'stop', size: take.size, off: round(-r() * 0.05, 4), oco: actions.length - 1, label: 'stop' };
    } else a = orderAction(r, feed, 'buy', fixed);
    if (a.onFill === undefined) a.tick = tick;
    if (a.oco === undefined && (a.op === 'buy' || a.op === 'sell') && actions.length && r() < 0.15) a.oco = int(r, 0, actions.length - 1);
    actions.push(a);
  }
  const protect = r() < 0.5 ? { stop: 0, take: 0, trail: 0 } : { stop: pick(r, [0, 2, 5]), take: pick(r, [0, 3, 8]), trail: pick(r, [0, 3, 6]) };
  return { ...base, protect, actions };
}

const DIRS = ['--data-dir', DATA, '--data-dir', ORACLE_DATA];
const skip = oracleSkipReason();

test('random scenarios against real backtrader (oracle): built-ins with direction, stop, take, trail, commission schemes and slippage', { skip }, async () => {
  const r = rng(20261202 + SEED);
  const scenarios = Array.from({ length: Math.round(60 * SCALE) }, () => builtinScenario(r));
  const dir = tempFolder('optstudy-oracle-');
  const file = path.join(dir, 'scenarios.json');
  writeFileSync(file, JSON.stringify(scenarios));
  const results = JSON.parse(await python([path.join(ORACLE, 'oracle.py'), file, '--jobs', '2', ...DIRS])) as OracleResult[];
  const cache = new IndicatorCache();
  const problems: string[] = [];
  let compared = 0;
  scenarios.forEach((sc, k) => {
    const want = results[k]!;
    if (want.error) {
      problems.push(`#${k} ${JSON.stringify(sc)}: the oracle failed: ${want.error}`);
      return;
    }
    const got = runBacktest(feedsOf(sc), sc.strategy, sc.params, configOf(sc), { cache });
    const d = diffResult(want, got, false);
    // The pool workers' path (metrics only, this thread's reused output and record) gives the same metrics.
    const quiet = backtestMetrics(feedsOf(sc), sc.strategy, sc.params, configOf(sc), cache);
    if (JSON.stringify(quiet) !== JSON.stringify(got.metrics)) d.push(`backtestMetrics differs from runBacktest's metrics`);
    if (d.length) problems.push(`#${k} ${JSON.stringify(sc)}: ${d.slice(0, 4).join('; ')}`);
    compared++;
  });
  assert.deepEqual(problems.slice(0, 5), [], `${problems.length} of ${scenarios.length} differ`);
  assert.equal(compared, scenarios.length);
});

test('random scenarios against real backtrader (oracle): strategy modules using every order type', { skip }, async () => {
  const r = rng(31415 + SEED);
  const plans: Plan[] = [];
  const feedSets: PriceData[][] = [];
  const count = Math.round(40 * SCALE);
  while (plans.length < count) {
    const multi = r() < 0.25;
    const w = multi
      ? pick(r, [
          { data: ['orcl-1995-2014.txt', 'nvda-1999-2014.txt'], from: '2006-01-01', to: '2008-12-31' },
          { data: ['nvda-1999-2014.txt', '2006-day-001.txt'], from: '2006-01-01', to: null },
          { data: ['yhoo-1996-2014.txt', 'orcl-1995-2014.txt', 'nvda-1999-2014.txt'], from: '2003-01-01', to: '2004-12-31' },
        ])
      : window(r);
    const base = { ...w, cash: 100000, ...costs(r, w.data[0]!.includes('-min-')) };
    const feeds = feedsOf({ ...base, strategy: '', params: {} });
    const ticks = Math.min(...feeds.map((f) => f.bars));
    plans.push(plan(r, ticks, feeds.length, base));
    feedSets.push(feeds);
  }
  // The plans run (by their index in the draw).
  const chosen = ONLY >= 0 ? [ONLY] : plans.map((_, k) => k);
  const run = chosen.map((k) => plans[k]!);
  if (process.env.OPTSTUDY_ORACLE_DUMP) writeFileSync(process.env.OPTSTUDY_ORACLE_DUMP, JSON.stringify(run));
  const dir = tempFolder('optstudy-oracle-');
  const halves = [run.slice(0, run.length >> 1), run.slice(run.length >> 1)].filter((h) => h.length);
  const outs = await Promise.all(halves.map((h, k) => backtraderPlans(h, dir, `plans-${k}`)));
  const results = outs.flat();
  const problems: string[] = [];
  const kinds = new Set<string>();
  chosen.forEach((k, j) => {
    const p = plans[k]!;
    const want = results[j]!;
    if (want.error) {
      problems.push(`plan ${k}: the oracle failed: ${want.error}`);
      return;
    }
    const got = enginePlan(p, feedSets[k]);
    for (const f of got.fills) kinds.add(f.exectype);
    const d = diffResult(want, got, false);
    if (d.length) problems.push(`plan ${k} (seed ${31415 + SEED}): ${d.slice(0, 4).join('; ')}`);
  });
  assert.deepEqual(problems.slice(0, 5), [], `${problems.length} of ${chosen.length} differ`);
  // The plans did exercise every order type.
  if (ONLY < 0) assert.deepEqual([...kinds].sort(), ['Close', 'Limit', 'Market', 'Stop', 'StopLimit', 'StopTrail']);
});
