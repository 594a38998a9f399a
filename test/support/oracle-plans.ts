/**
 * Scripted order plans (test/engine/oracle-modules.py documents them): a plan runs as a
 * TypeScript strategy module in the engine (`planStrategy`, through the public API) and as a
 * backtrader strategy in real backtrader (`backtraderPlans`), and the two results must agree.
 * Shared by the random plans of oracle-random.test.ts and the fixed cases of
 * oracle-plan-cases.test.ts.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runBacktest, type BacktestResult, type OrderRef, type PriceData, type StrategyDefinition } from '../../server/engine/index';
import { DATA, ORACLE_DATA, ROOT, type OracleResult, type OracleScenario } from './engine-golden';
import { configOf, feedsOf } from './oracle-compare';
import { ORACLE, python } from './oracle-process';

/** One step of a scripted plan (oracle-modules.py documents the fields). */
export interface Action {
  tick?: number;
  onFill?: number;
  feed: number;
  op: 'buy' | 'sell' | 'close' | 'cancel' | 'target';
  type?: 'market' | 'close' | 'limit' | 'stop' | 'stop_limit' | 'stop_trail';
  size?: number | null;
  off?: number;
  loff?: number;
  trail?: number;
  oco?: number | null;
  label?: string | null;
  cancel?: number;
  target?: { size: number } | { value: number } | { percent: number };
}

export interface Plan extends Omit<OracleScenario, 'strategy' | 'params'> {
  protect: { stop: number; take: number; trail: number };
  actions: Action[];
}

/** The plan as a strategy module (the same rules as oracle-modules.py, through the public API). */
export function planStrategy(p: Plan): StrategyDefinition {
  return {
    name: 'plan',
    params: [],
    setup(ctx) {
      const orders = new Map<number, OrderRef>();
      const byTick = new Map<number, number[]>();
      const onFill = new Map<number, number[]>();
      p.actions.forEach((a, k) => {
        const m = a.onFill !== undefined ? onFill : byTick;
        const key = a.onFill ?? a.tick!;
        m.set(key, [...(m.get(key) ?? []), k]);
      });
      const run = (k: number, base?: number): void => {
        const a = p.actions[k]!;
        const label = a.label ?? undefined;
        let o: OrderRef | null = null;
        if (a.op === 'cancel') {
          const t = orders.get(a.cancel!);
          if (t) ctx.cancel(t);
          return;
        }
        if (a.op === 'close') o = ctx.close({ label, data: a.feed });
        else if (a.op === 'target') o = ctx.orderTarget({ ...a.target, data: a.feed, label });
        else {
          const f = ctx.datas[a.feed]!;
          const b = base ?? f.data.close[f.i]!;
          const type = a.type ?? 'market';
          const leader = a.oco !== null && a.oco !== undefined ? orders.get(a.oco) : undefined;
          o = (a.op === 'buy' ? ctx.buy : ctx.sell).call(ctx, {
            size: a.size ?? undefined,
            type,
            data: a.feed,
            label,
            ...(type === 'limit' || type === 'stop' || type === 'stop_limit' ? { price: b * (1 + a.off!) } : {}),
            ...(type === 'stop_limit' ? { limit: b * (1 + a.loff!) } : {}),
            ...(type === 'stop_trail' ? { trailPercent: a.trail } : {}),
            ...(leader && leader.status !== 'filled' && leader.status !== 'cancelled' && leader.status !== 'rejected' ? { oco: leader } : {}),
          });
        }
        if (o) orders.set(k, o);
      };
      ctx.onOrder((e) => {
        if (e.status !== 'filled') return;
        for (const [k, o] of [...orders]) if (o === e.order) for (const j of onFill.get(k) ?? []) run(j, e.order.filledPrice);
      });
      return (bar) => {
        for (const k of byTick.get(bar.tick) ?? []) run(k);
      };
    },
  };
}

/** Runs `plans` through real backtrader (oracle-modules.py), the JSON list in a file of `dir`; one result per plan. */
export async function backtraderPlans(plans: readonly Plan[], dir: string, name = 'plans'): Promise<OracleResult[]> {
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(plans));
  return JSON.parse(await python([path.join(ROOT, 'test', 'engine', 'oracle-modules.py'), ORACLE, file, '--data-dir', DATA, '--data-dir', ORACLE_DATA])) as OracleResult[];
}

/** Runs plan `p` in the engine (its feeds loaded unless given), with its protective percents. */
export function enginePlan(p: Plan, feeds?: PriceData[]): BacktestResult {
  const sc = { ...p, strategy: 'plan', params: {} } as OracleScenario;
  const params = { stop_loss_pct: p.protect.stop, take_profit_pct: p.protect.take, trail_pct: p.protect.trail };
  return runBacktest(feeds ?? feedsOf(sc), planStrategy(p), params, configOf(sc));
}
