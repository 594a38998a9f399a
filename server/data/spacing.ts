/**
 * The bar spacing of a feed, as backtrader's TimeFrame + compression (oracle README, "Data"):
 * intraday feeds are `minutes` with compression = the most common positive gap between
 * consecutive bars of the same day (`seconds` when that gap is not whole minutes); daily or
 * longer feeds are `days/1`, `weeks/N` or `months/N` from the most common gap in days.
 */
import { dayNumber } from './datetime';
import type { Spacing } from './types';

/** Most common value of a list of positive gaps (the smallest on a tie); 0 when empty. */
function mode(gaps: Map<number, number>): number {
  let best = 0;
  let bestCount = 0;
  for (const [g, c] of gaps) {
    if (c > bestCount || (c === bestCount && g < best)) {
      best = g;
      bestCount = c;
    }
  }
  return best;
}

/** Spacing of intraday bars: rows `order` of the columns (time in seconds after midnight). */
export function intradaySpacing(date: Int32Array, time: Int32Array, order: Int32Array): Spacing {
  const gaps = new Map<number, number>();
  for (let k = 1; k < order.length; k++) {
    const i = order[k]!;
    const p = order[k - 1]!;
    if (date[i] !== date[p]) continue;
    const g = time[i]! - time[p]!;
    if (g > 0) gaps.set(g, (gaps.get(g) ?? 0) + 1);
  }
  const g = mode(gaps);
  if (g === 0) return { unit: 'minutes', compression: 1 };
  return g % 60 === 0 ? { unit: 'minutes', compression: g / 60 } : { unit: 'seconds', compression: g };
}

/** Spacing of bars with one stamp per day or fewer: rows `order` of the date column. */
export function dailySpacing(date: Int32Array, order: Int32Array): Spacing {
  const gaps = new Map<number, number>();
  let prev = order.length > 0 ? dayNumber(date[order[0]!]!) : 0;
  for (let k = 1; k < order.length; k++) {
    const d = dayNumber(date[order[k]!]!);
    const g = d - prev;
    prev = d;
    if (g > 0) gaps.set(g, (gaps.get(g) ?? 0) + 1);
  }
  const g = mode(gaps);
  // Trading days skip weekends and holidays: any common gap under 5 days is a daily feed.
  if (g < 5) return { unit: 'days', compression: 1 };
  if (g < 25) return { unit: 'weeks', compression: Math.max(1, Math.round(g / 7)) };
  return { unit: 'months', compression: Math.max(1, Math.round(g / 30.44)) };
}

/** `5-minute`, `daily`, `weekly`, `3-month`: for hovers and logs. */
export function describeSpacing(s: Spacing): string {
  if (s.unit === 'days' && s.compression === 1) return 'daily';
  if (s.compression === 1) return { seconds: 'every second', minutes: '1-minute', days: 'daily', weeks: 'weekly', months: 'monthly' }[s.unit];
  return `${s.compression}-${s.unit.slice(0, -1)}`;
}
