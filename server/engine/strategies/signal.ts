/**
 * A per-thread buffer for a built-in's gate signal (`nextOnlyOn`): the bars where its rule can
 * act, derived per backtest from series that change with every combination. Reused run
 * after run (runBacktest is not reentrant, so one run at a time writes it); the caller writes
 * every element.
 */
let buf = new Float64Array(0);

export function signalBuffer(n: number): Float64Array {
  if (buf.length !== n) buf = new Float64Array(n);
  return buf;
}
