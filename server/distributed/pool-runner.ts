/**
 * The worker's batch runner: runs a batch of a run's trials on this machine.
 * INTERIM: runs backtests in the worker's main thread with the engine directly, until the
 * optimizer's pool (server/run) lands; then this delegates to it.
 */
import { loadPrices, runBacktest, IndicatorCache, type PriceData } from '../engine';
import type { BatchRunner } from './redis-worker';

/** The task payload the interim runner understands. */
export interface SimplePayload {
  data: string;
  from?: string;
  to?: string;
  strategy: string;
  cash: number;
  commission: number;
  sizing: { kind: 'fixed' | 'percent'; value: number };
}

export interface SimpleTrial {
  number: number;
  params: Record<string, number | string | boolean>;
}

export interface SimpleOutcome {
  number: number;
  metrics: Record<string, number | null> | null;
  error?: string;
}

export function createPoolRunner(_opts: { threads: number }): BatchRunner {
  const prices = new Map<string, PriceData>();
  const caches = new Map<string, IndicatorCache>();
  return {
    async run(payload, trials) {
      const p = payload as SimplePayload;
      const key = `${p.data}\0${p.from ?? ''}\0${p.to ?? ''}`;
      let data = prices.get(key);
      if (!data) {
        data = loadPrices(p.data, { from: p.from, to: p.to });
        prices.set(key, data);
        caches.set(key, new IndicatorCache());
      }
      return (trials as SimpleTrial[]).map((t): SimpleOutcome => {
        try {
          const r = runBacktest(data!, p.strategy, t.params, p, { trades: false, cache: caches.get(key) });
          return { number: t.number, metrics: r.metrics };
        } catch (e) {
          return { number: t.number, metrics: null, error: e instanceof Error ? e.message : String(e) };
        }
      });
    },
    async close() {},
  };
}
