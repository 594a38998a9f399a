/**
 * Per-thread scratch series for derived columns that are specific to one backtest (a crossover
 * of two memoized series, a strategy's own signal): in a grid every pair of periods is new, so
 * memoizing them only filled the indicator cache, and allocating a fresh 40 KB column per
 * backtest (plus its page faults and GC) cost more than computing it. The run lends arrays
 * from here during setup and takes them all back when it ends, so a series from a lend is valid
 * for the run that asked for it only.
 */

/** Arrays kept for reuse between runs (a strategy rarely derives more than a few series). */
const KEEP = 16;

/** A pool of Float64Arrays lent to one run at a time (one per thread; `runBacktest` is not reentrant). */
class SeriesArena {
  private readonly free: Float64Array[] = [];
  private readonly lent: Float64Array[] = [];

  /** An array of exactly `n` elements, with arbitrary contents: the caller writes every element. */
  take(n: number): Float64Array {
    let a = this.free.pop();
    // A different length (another data slice): drop it rather than hand out a view.
    if (a === undefined || a.length !== n) a = new Float64Array(n);
    this.lent.push(a);
    return a;
  }

  /** Number of arrays lent to the current run. */
  get lentCount(): number {
    return this.lent.length;
  }

  /**
   * Takes back everything lent: the run is over and its derived series are dead. In reverse, so
   * that a run asking for the same arrays in the same order gets the same ones back.
   */
  releaseAll(): void {
    const lent = this.lent;
    for (let k = lent.length - 1; k >= 0; k--) if (this.free.length < KEEP) this.free.push(lent[k]!);
    lent.length = 0;
  }
}

/**
 * This thread's arena: the engine's crossovers and gate events, and built-ins' own per-run
 * signals, all taken back when the run ends.
 */
export const runScratch = new SeriesArena();
