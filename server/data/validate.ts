/**
 * Price checks (issue #21 finding 6): a backtest on a negative, zero or infinite price, or on a
 * bar whose open or close lies outside its high–low range, gives results that look fine and
 * are not. `check` (the default) refuses such a file naming the line and column; `repair`
 * skips rows it cannot trade and widens High/Low over Open/Close, counting both in warnings;
 * `allow` keeps the values (negative prices of spreads or some futures) but never a value that
 * is not a finite number.
 */
import { at, ref, type RawBars } from './raw';
import { PriceDataError, type PriceMode } from './types';

const FIX = 'fix the row, or let the study repair such rows: data "…" { prices repair } (or keep them as written: prices allow)';

/** The rows (indices into `raw`) that are kept, in order. Repairs change `raw` in place. */
export function checkPrices(raw: RawBars, rows: Int32Array, file: string, mode: PriceMode, warnings: string[]): Int32Array {
  const [o, h, l, c, v] = raw.cols as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
  const layout = raw.header.layout;
  const colOf = [layout.open, layout.high, layout.low, layout.close, layout.volume];
  const fail = (row: number, k: number, what: string): never => {
    const line = raw.line[row]!;
    const col = colOf[k]!;
    throw new PriceDataError(`${at(raw, file, line)}: ${what}; ${mode === 'allow' ? 'fix the row' : FIX}.`, file, line, col + 1);
  };
  const name = (k: number): string => `'${raw.header.names[colOf[k]!]}'`;
  const keep = new Int32Array(rows.length);
  let m = 0;
  const skipped = { count: 0, first: 0 };
  const widened = { count: 0, first: 0 };
  const volumes = { count: 0, first: 0 };
  for (let r = 0; r < rows.length; r++) {
    const i = rows[r]!;
    let bad = -1;
    for (let k = 0; k < 4; k++) {
      const x = raw.cols[k]![i]!;
      if (!Number.isFinite(x)) {
        if (mode !== 'repair') fail(i, k, `${x} in column ${name(k)} is not a finite number`);
        bad = k;
      } else if (x <= 0 && mode !== 'allow') {
        if (mode === 'check') fail(i, k, `the price ${x} in column ${name(k)} is not positive`);
        bad = k;
      }
    }
    if (bad >= 0) {
      tally(skipped, raw.line[i]!);
      continue;
    }
    if (!(v[i]! >= 0) || !Number.isFinite(v[i]!)) {
      if (mode === 'check') fail(i, 4, `the volume ${v[i]} in column ${name(4)} is not a finite number ≥ 0`);
      if (mode === 'repair') {
        v[i] = 0;
        tally(volumes, raw.line[i]!);
      } else if (!Number.isFinite(v[i]!)) fail(i, 4, `the volume ${v[i]} in column ${name(4)} is not a finite number`);
    }
    if (mode !== 'allow') {
      const lo = Math.min(o[i]!, c[i]!, l[i]!);
      const hi = Math.max(o[i]!, c[i]!, h[i]!);
      if (lo !== l[i] || hi !== h[i]) {
        if (mode === 'check') rangeError(raw, i, fail);
        l[i] = Math.min(lo, h[i]!);
        h[i] = hi;
        tally(widened, raw.line[i]!);
      }
    }
    keep[m++] = i;
  }
  if (skipped.count) warnings.push(`${file}: ${skipped.count} row${skipped.count === 1 ? '' : 's'} with a zero, negative or non-finite price skipped (prices repair; first: ${ref(raw, skipped.first)})`);
  if (widened.count) warnings.push(`${file}: High/Low widened over Open/Close on ${widened.count} row${widened.count === 1 ? '' : 's'} (prices repair; first: ${ref(raw, widened.first)})`);
  if (volumes.count) warnings.push(`${file}: ${volumes.count} negative or non-finite volume${volumes.count === 1 ? '' : 's'} read as 0 (prices repair; first: ${ref(raw, volumes.first)})`);
  return keep.subarray(0, m);
}

function tally(t: { count: number; first: number }, line: number): void {
  if (t.count++ === 0) t.first = line;
}

/** The first broken High/Low rule of row i, as an error. */
function rangeError(raw: RawBars, i: number, fail: (row: number, k: number, what: string) => never): never {
  const [o, h, l, c] = raw.cols as [Float64Array, Float64Array, Float64Array, Float64Array];
  if (h[i]! < l[i]!) fail(i, 1, `High ${h[i]} is below Low ${l[i]}; check the column order`);
  if (o[i]! > h[i]!) fail(i, 0, `Open ${o[i]} is above High ${h[i]}`);
  if (o[i]! < l[i]!) fail(i, 0, `Open ${o[i]} is below Low ${l[i]}`);
  if (c[i]! > h[i]!) fail(i, 3, `Close ${c[i]} is above High ${h[i]}`);
  return fail(i, 3, `Close ${c[i]} is below Low ${l[i]}`);
}
