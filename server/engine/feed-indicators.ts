/**
 * One feed's indicators for a strategy's `setup`: memoized series (per worker, keyed by the
 * data's content id), the warm-up they imply (`next` waits until every series asked for is
 * defined), this run's crossovers, and the `nextOnlyOn` gate. Both bar loops' contexts build
 * on it.
 */
import type { IndicatorCache } from './indicator-cache';
import * as ind from './indicators';
import { markCached, memoCrossover } from './cross-memo';
import { runScratch as arena } from './scratch';
import type { Indicators, PriceField } from './strategy-api';
import { BacktestError, type PriceData } from './types';

export class FeedIndicators implements Indicators {
  /** Warm-up: `next` runs from this bar of the feed on. */
  start = 0;
  /** True while the strategy's setup() runs. */
  inSetup = true;
  /** `nextOnlyOn`'s signal: `next` is skipped on bars where it is 0. */
  gate: Float64Array | null = null;
  /** The gate applies while flat only (`nextOnlyOn(signal, 'flat')`). */
  gateFlatOnly = false;
  /** Crossovers of cached series may come from the per-thread memo (cross-memo.ts): the fast loop's built-ins only. */
  protected memoCrosses = false;
  /** This run's crossovers and the bars where each is not 0. */
  private readonly crossEvents: { series: Float64Array; events: ind.SignalEvents }[] = [];
  readonly bars: number;

  constructor(
    readonly data: PriceData,
    private readonly cache: IndicatorCache,
  ) {
    this.bars = data.bars;
  }

  warmup(index: number): void {
    if (index > this.start) this.start = index;
  }

  /*
   * A lookup first, then the computation on a miss: no closure per call. A grid's backtests
   * ask for the same few series every time (hits), tens of thousands of times per worker.
   */

  /** The stored value under `key`, its warm-up applied, or undefined. */
  private hit<T>(key: string): T | undefined {
    const e = this.cache.find(this.data.id, key);
    if (e === undefined) return undefined;
    this.warmup(e.first);
    return e.value as T;
  }

  /** Stores a computed series (or object of series) under `key`, its warm-up applied. */
  private keep<T extends object>(key: string, value: T): T {
    const first = value instanceof Float64Array ? ind.firstValid(value) : maxFirst(value);
    this.cache.put(this.data.id, key, value, first);
    markCached(value);
    this.warmup(first);
    return value;
  }

  private src(source: PriceField | undefined): Float64Array {
    const s = source ?? 'close';
    const col = this.data[s];
    if (!(col instanceof Float64Array)) throw new BacktestError(`unknown price field '${String(source)}'; use open, high, low, close or volume.`);
    return col;
  }

  sma(period: number, source?: PriceField): Float64Array {
    const key = keyOf('sma', source ?? 'close', period);
    return this.hit<Float64Array>(key) ?? this.keep(key, ind.sma(this.src(source), period));
  }
  ema(period: number, source?: PriceField): Float64Array {
    const key = keyOf('ema', source ?? 'close', period);
    return this.hit<Float64Array>(key) ?? this.keep(key, ind.ema(this.src(source), period));
  }
  smma(period: number, source?: PriceField): Float64Array {
    const key = keyOf('smma', source ?? 'close', period);
    return this.hit<Float64Array>(key) ?? this.keep(key, ind.smma(this.src(source), period));
  }
  rsi(period: number, source?: PriceField): Float64Array {
    const key = keyOf('rsi', source ?? 'close', period);
    return this.hit<Float64Array>(key) ?? this.keep(key, ind.rsi(this.src(source), period));
  }
  atr(period: number): Float64Array {
    const d = this.data;
    const key = keyOf('atr', '', period);
    return this.hit<Float64Array>(key) ?? this.keep(key, ind.atr(d.high, d.low, d.close, period));
  }
  trueRange(): Float64Array {
    const d = this.data;
    return this.hit<Float64Array>('tr') ?? this.keep('tr', ind.trueRange(d.high, d.low, d.close));
  }
  stddev(period: number, source?: PriceField): Float64Array {
    const key = keyOf('stddev', source ?? 'close', period);
    return this.hit<Float64Array>(key) ?? this.keep(key, ind.stddev(this.src(source), period, this.sma(period, source)));
  }
  bollinger(period: number, devfactor: number, source?: PriceField): ind.Bands {
    // Built from the memoized SMA and standard deviation, so a grid over dev factors shares them.
    const key = `bb|${source ?? 'close'}|${period}|${devfactor}`;
    return this.hit<ind.Bands>(key) ?? this.keep(key, ind.bandsFrom(this.sma(period, source), this.stddev(period, source), devfactor));
  }
  macd(fast = 12, slow = 26, signal = 9, source?: PriceField): ind.Macd {
    // Built from memoized EMAs and MACD line, so a grid shares them across signal periods.
    const key = `macd|${source ?? 'close'}|${fast}|${slow}|${signal}`;
    return this.hit<ind.Macd>(key) ?? this.keep(key, ind.macdFrom(this.macdLine(fast, slow, source), signal));
  }
  private macdLine(fast: number, slow: number, source?: PriceField): Float64Array {
    const key = `macdline|${source ?? 'close'}|${fast}|${slow}`;
    return this.hit<Float64Array>(key) ?? this.keep(key, ind.difference(this.ema(fast, source), this.ema(slow, source)));
  }
  stochastic(period = 14, pfast = 3, pslow = 3): ind.Stochastic {
    const d = this.data;
    const key = `stoch|${period}|${pfast}|${pslow}`;
    return this.hit<ind.Stochastic>(key) ?? this.keep(key, ind.stochastic(d.high, d.low, d.close, period, pfast, pslow));
  }
  donchian(period: number): ind.Channel {
    const d = this.data;
    const key = keyOf('donchian', '', period);
    return this.hit<ind.Channel>(key) ?? this.keep(key, ind.donchian(d.high, d.low, period));
  }
  highest(period: number, source?: PriceField): Float64Array {
    const key = keyOf('highest', source ?? 'high', period);
    return this.hit<Float64Array>(key) ?? this.keep(key, ind.highest(this.src(source ?? 'high'), period));
  }
  lowest(period: number, source?: PriceField): Float64Array {
    const key = keyOf('lowest', source ?? 'low', period);
    return this.hit<Float64Array>(key) ?? this.keep(key, ind.lowest(this.src(source ?? 'low'), period));
  }
  roc(period: number, source?: PriceField): Float64Array {
    const key = keyOf('roc', source ?? 'close', period);
    return this.hit<Float64Array>(key) ?? this.keep(key, ind.roc(this.src(source), period));
  }
  crossover(a: Float64Array, b: Float64Array): Float64Array {
    // Not in the indicator cache: in a grid most (a, b) pairs are new. The fast loop's built-ins
    // reuse the last few crossovers of cached series (cross-memo.ts); otherwise a reused
    // per-thread buffer, valid for this run only (a fresh array per backtest cost more).
    if (a.length < this.bars || b.length < this.bars) throw new BacktestError(`crossover: both series need one value per bar (${this.bars}), got ${a.length} and ${b.length}.`);
    const memo = this.memoCrosses ? memoCrossover(a, b, this.bars) : null;
    if (memo !== null) {
      this.warmup(memo.first);
      this.crossEvents.push({ series: memo.out, events: memo.events });
      return memo.out;
    }
    const out = arena.take(this.bars);
    const events: ind.SignalEvents = { at: arena.take(this.bars), count: 0 };
    this.warmup(ind.crossoverInto(out, a, b, events));
    this.crossEvents.push({ series: out, events });
    return out;
  }

  nextOnlyOn(signal: Float64Array, when: 'always' | 'flat' = 'always'): void {
    if (!this.inSetup) throw new BacktestError('nextOnlyOn() was called in the per-bar function; call it in setup().');
    if (!(signal instanceof Float64Array) || signal.length < this.bars) {
      throw new BacktestError(`nextOnlyOn: the signal must be a Float64Array with one value per bar (${this.bars}).`);
    }
    if (when !== 'always' && when !== 'flat') throw new BacktestError(`nextOnlyOn: 'when' must be 'always' or 'flat', got ${JSON.stringify(when)}.`);
    this.gate = signal;
    this.gateFlatOnly = when === 'flat';
  }

  /**
   * The bars where the gate signal is not 0: a crossover of this run listed them while it was
   * computed; another signal is scanned once, when the run starts (after setup).
   */
  gateEvents(): ind.SignalEvents | null {
    const g = this.gate;
    if (g === null) return null;
    for (const c of this.crossEvents) if (c.series === g) return c.events;
    const events: ind.SignalEvents = { at: arena.take(this.bars), count: 0 };
    ind.signalEvents(g, this.bars, events);
    return events;
  }
}

/** Keys made so far: kind → source → period → `kind|source|period` (`kind|period` without a source). */
const KEYS = new Map<string, Map<string, Map<number, string>>>();
/** Distinct periods kept per (kind, source): a strategy asking for more is not a grid's. */
const MAX_PERIODS = 4096;

/**
 * A series' cache key, made once: building it per call (a template string, then its hash on
 * the lookup) was garbage on every backtest of a grid.
 */
function keyOf(kind: string, source: string, period: number): string {
  let bySource = KEYS.get(kind);
  if (bySource === undefined) KEYS.set(kind, (bySource = new Map()));
  let byPeriod = bySource.get(source);
  if (byPeriod === undefined) bySource.set(source, (byPeriod = new Map()));
  let key = byPeriod.get(period);
  if (key === undefined) {
    if (byPeriod.size >= MAX_PERIODS) byPeriod.clear();
    key = source === '' ? `${kind}|${period}` : `${kind}|${source}|${period}`;
    byPeriod.set(period, key);
  }
  return key;
}

function maxFirst(v: object): number {
  let f = 0;
  for (const x of Object.values(v)) if (x instanceof Float64Array) f = Math.max(f, ind.firstValid(x));
  return f;
}
