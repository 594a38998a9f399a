/**
 * The bar clock: every bar of every feed gets a numeric key that orders bars in time, and
 * several feeds run on the sorted union of their keys (oracle README "Multi-data"): at each
 * tick, the feeds whose next bar has that key move to it; the others keep their last bar.
 *
 * Key = yyyymmdd * 200000 + 2 * seconds after midnight; a daily bar (no time) sits at
 * 2 * 86399 + 1, after every intraday bar of its day (backtrader stamps daily bars at
 * 23:59:59.999989), and the session end of a day (backtrader's 23:59:59.99999) at 172800.
 */
import type { PriceData } from './types';

const DAY = 200000;
const DAILY = 2 * 86399 + 1;
const EOS = 2 * 86400;

/** The key of bar `i` of `d`. */
export function barKey(d: PriceData, i: number): number {
  const t = d.time;
  return d.date[i]! * DAY + (t ? 2 * t[i]! : DAILY);
}

/** The session end of the day of `key` (backtrader `dteos` with the default session end). */
export function sessionEnd(key: number): number {
  return Math.floor(key / DAY) * DAY + EOS;
}

/** The keys of every bar of `d`. */
export function barKeys(d: PriceData): Float64Array {
  const n = d.bars;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = barKey(d, i);
  return out;
}

/** Several feeds on one clock. */
export interface Clock {
  /** Ticks. */
  ticks: number;
  /** Per tick: the calendar day (yyyymmdd) and, for intraday feeds, the time (seconds) of the tick. */
  date: Int32Array;
  time: Int32Array | undefined;
  /** Per feed, per tick: that feed's current bar index (-1 before its first bar). */
  bar: Int32Array[];
  /** Per feed, per tick: 1 when the feed moved to a new bar at this tick. */
  moved: Uint8Array[];
}

const CLOCKS = new WeakMap<PriceData, { feeds: readonly PriceData[]; clock: Clock }[]>();

/** The union clock of `feeds`, computed once per set of feeds (a grid runs the same feeds again). */
export function clockOf(feeds: readonly PriceData[]): Clock {
  let list = CLOCKS.get(feeds[0]!);
  if (!list) CLOCKS.set(feeds[0]!, (list = []));
  for (const e of list) if (e.feeds.length === feeds.length && e.feeds.every((f, k) => f === feeds[k])) return e.clock;
  const clock = unionClock(feeds);
  list.push({ feeds: [...feeds], clock });
  return clock;
}

/** The union clock of `feeds` (one feed: its own bars). */
export function unionClock(feeds: readonly PriceData[]): Clock {
  const keys = feeds.map(barKeys);
  const all = new Float64Array(keys.reduce((n, k) => n + k.length, 0));
  let o = 0;
  for (const k of keys) {
    all.set(k, o);
    o += k.length;
  }
  all.sort();
  let ticks = 0;
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[i - 1]) all[ticks++] = all[i]!;
  const date = new Int32Array(ticks);
  const anyTime = feeds.some((f) => f.time !== undefined);
  const time = anyTime ? new Int32Array(ticks) : undefined;
  for (let t = 0; t < ticks; t++) {
    const k = all[t]!;
    date[t] = Math.floor(k / DAY);
    if (time) time[t] = Math.floor((k - date[t]! * DAY) / 2);
  }
  const bar: Int32Array[] = [];
  const moved: Uint8Array[] = [];
  for (const k of keys) {
    const b = new Int32Array(ticks);
    const m = new Uint8Array(ticks);
    let j = -1;
    for (let t = 0; t < ticks; t++) {
      if (j + 1 < k.length && k[j + 1] === all[t]) {
        j++;
        m[t] = 1;
      }
      b[t] = j;
    }
    bar.push(b);
    moved.push(m);
  }
  return { ticks, date, time, bar, moved };
}

/** Bar `i` of `d` as results print it: `YYYY-MM-DD`, or `YYYY-MM-DDTHH:MM:SS` on intraday data. */
export function stampOf(d: PriceData, i: number): string {
  const t = d.time;
  return t ? dayText(d.date[i]!) + 'T' + timeText(t[i]!) : dayText(d.date[i]!);
}

/** A clock tick as text (same format as `stampOf`). */
export function tickStamp(c: Pick<Clock, 'date' | 'time'>, t: number): string {
  return c.time ? dayText(c.date[t]!) + 'T' + timeText(c.time[t]!) : dayText(c.date[t]!);
}

function dayText(d: number): string {
  const y = Math.floor(d / 10000);
  const m = Math.floor(d / 100) % 100;
  const day = d % 100;
  return `${y}-${m < 10 ? '0' : ''}${m}-${day < 10 ? '0' : ''}${day}`;
}

function timeText(s: number): string {
  const h = Math.floor(s / 3600);
  const m = Math.floor(s / 60) % 60;
  const x = s % 60;
  return `${h < 10 ? '0' : ''}${h}:${m < 10 ? '0' : ''}${m}:${x < 10 ? '0' : ''}${x}`;
}
