/**
 * The last few crossovers of memoized series, per thread. A grid whose fastest-varying
 * parameters are not the crossover's (EMA/ATR: the ATR period and multipliers vary inside
 * each pair of EMA periods) asks for the same crossover of the same two cached series for
 * many backtests in a row; computing it again was about a tenth of each backtest.
 *
 * Only series the indicator cache made are keys: they never change once made, whereas an
 * arena buffer or a strategy's own array may hold other values under the same identity. And
 * only the fast loop's built-ins get the memo (feed-indicators.ts): they never write into a
 * crossover, which a user module could.
 */
import { crossoverInto, type SignalEvents } from './indicators';

/** Series made by an indicator cache on this thread. */
const cached = new WeakSet<Float64Array>();

/** Marks a cache-made value (a series, or an object of series) as a possible key. */
export function markCached(value: unknown): void {
  if (value instanceof Float64Array) cached.add(value);
  else if (value && typeof value === 'object') for (const x of Object.values(value)) if (x instanceof Float64Array) cached.add(x);
}

export interface Crossing {
  readonly a: Float64Array;
  readonly b: Float64Array;
  readonly out: Float64Array;
  readonly events: SignalEvents;
  /** crossoverInto's first defined bar. */
  readonly first: number;
  /** The run that last got it (`run`): its buffers are not taken over while that run goes on. */
  used: number;
}

/** The current run on this thread (each fast-loop run starts one: `startRun`). */
let run = 0;

/** A new run begins: crossovers handed to earlier runs may give their buffers to new ones. */
export function startRun(): void {
  run++;
}

/** Crossovers kept: a built-in asks for one or two per backtest. */
const KEEP = 4;
/** Most recently used first. */
const recent: Crossing[] = [];

/**
 * `crossover(a, b)` over `bars` bars with its events, from the memo or computed into it; null
 * when a or b is not cache-made (the caller computes it into run scratch). The arrays are
 * shared by every run that asks for the same pair: read them only.
 */
export function memoCrossover(a: Float64Array, b: Float64Array, bars: number): Crossing | null {
  if (!cached.has(a) || !cached.has(b)) return null;
  for (let k = 0; k < recent.length; k++) {
    const c = recent[k]!;
    if (c.a === a && c.b === b && c.out.length === bars) {
      if (k > 0) recent.unshift(recent.splice(k, 1)[0]!);
      c.used = run;
      return c;
    }
  }
  // A miss: the least recently used entry's buffers are taken over when their length fits
  // and no strategy of this run holds them (one with more crossovers than the memo keeps).
  const evicted = recent.length >= KEEP ? recent.pop() : undefined;
  const old = evicted !== undefined && evicted.used !== run ? evicted : undefined;
  const out = old?.out.length === bars ? old.out : new Float64Array(bars);
  const at = old?.events.at.length === bars ? old.events.at : new Float64Array(bars);
  const events: SignalEvents = { at, count: 0 };
  const c: Crossing = { a, b, out, events, first: crossoverInto(out, a, b, events), used: run };
  recent.unshift(c);
  return c;
}
