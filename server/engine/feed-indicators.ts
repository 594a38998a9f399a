/**
 * One feed's indicators for a strategy's `setup`: memoized series (per worker, keyed by the
 * data's content id), the warm-up they imply (`next` waits until every series asked for is
 * defined), this run's crossovers, and the `nextOnlyOn` gate. Both bar loops' contexts build
 * on it.
 */
import type { IndicatorCache } from './indicator-cache';
import * as ind from './indicators';
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

  private memo<T>(key: string, compute: () => T, first: (v: T) => number): T {
    const r = this.cache.get(this.data.id, key, () => {
      const value = compute();
      return { value, first: first(value) };
    });
    this.warmup(r.first);
    return r.value;
  }

  private series(key: string, compute: () => Float64Array): Float64Array {
    return this.memo(key, compute, ind.firstValid);
  }

  private src(source: PriceField | undefined): Float64Array {
    const s = source ?? 'close';
    const col = this.data[s];
    if (!(col instanceof Float64Array)) throw new BacktestError(`unknown price field '${String(source)}'; use open, high, low, close or volume.`);
    return col;
  }

  sma(period: number, source?: PriceField): Float64Array {
    return this.series(`sma|${source ?? 'close'}|${period}`, () => ind.sma(this.src(source), period));
  }
  ema(period: number, source?: PriceField): Float64Array {
    return this.series(`ema|${source ?? 'close'}|${period}`, () => ind.ema(this.src(source), period));
  }
  smma(period: number, source?: PriceField): Float64Array {
    return this.series(`smma|${source ?? 'close'}|${period}`, () => ind.smma(this.src(source), period));
  }
  rsi(period: number, source?: PriceField): Float64Array {
    return this.series(`rsi|${source ?? 'close'}|${period}`, () => ind.rsi(this.src(source), period));
  }
  atr(period: number): Float64Array {
    const d = this.data;
    return this.series(`atr|${period}`, () => ind.atr(d.high, d.low, d.close, period));
  }
  trueRange(): Float64Array {
    const d = this.data;
    return this.series('tr', () => ind.trueRange(d.high, d.low, d.close));
  }
  stddev(period: number, source?: PriceField): Float64Array {
    return this.series(`stddev|${source ?? 'close'}|${period}`, () => ind.stddev(this.src(source), period, this.sma(period, source)));
  }
  bollinger(period: number, devfactor: number, source?: PriceField): ind.Bands {
    // Built from the memoized SMA and standard deviation, so a grid over dev factors shares them.
    return this.memo(`bb|${source ?? 'close'}|${period}|${devfactor}`, () => ind.bandsFrom(this.sma(period, source), this.stddev(period, source), devfactor), maxFirst);
  }
  macd(fast = 12, slow = 26, signal = 9, source?: PriceField): ind.Macd {
    // Built from memoized EMAs and MACD line, so a grid shares them across signal periods.
    return this.memo(
      `macd|${source ?? 'close'}|${fast}|${slow}|${signal}`,
      () => {
        const line = this.series(`macdline|${source ?? 'close'}|${fast}|${slow}`, () => ind.difference(this.ema(fast, source), this.ema(slow, source)));
        return ind.macdFrom(line, signal);
      },
      maxFirst,
    );
  }
  stochastic(period = 14, pfast = 3, pslow = 3): ind.Stochastic {
    const d = this.data;
    return this.memo(`stoch|${period}|${pfast}|${pslow}`, () => ind.stochastic(d.high, d.low, d.close, period, pfast, pslow), maxFirst);
  }
  donchian(period: number): ind.Channel {
    const d = this.data;
    return this.memo(`donchian|${period}`, () => ind.donchian(d.high, d.low, period), maxFirst);
  }
  highest(period: number, source?: PriceField): Float64Array {
    return this.series(`highest|${source ?? 'high'}|${period}`, () => ind.highest(this.src(source ?? 'high'), period));
  }
  lowest(period: number, source?: PriceField): Float64Array {
    return this.series(`lowest|${source ?? 'low'}|${period}`, () => ind.lowest(this.src(source ?? 'low'), period));
  }
  roc(period: number, source?: PriceField): Float64Array {
    return this.series(`roc|${source ?? 'close'}|${period}`, () => ind.roc(this.src(source), period));
  }
  crossover(a: Float64Array, b: Float64Array): Float64Array {
    // Not memoized: in a grid every (a, b) pair is new. A reused per-thread buffer, valid for
    // this run only (a fresh array per backtest, page faults and GC included, cost more).
    if (a.length < this.bars || b.length < this.bars) throw new BacktestError(`crossover: both series need one value per bar (${this.bars}), got ${a.length} and ${b.length}.`);
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

function maxFirst(v: object): number {
  let f = 0;
  for (const x of Object.values(v)) if (x instanceof Float64Array) f = Math.max(f, ind.firstValid(x));
  return f;
}
