/**
 * The calendar a study's validation windows (holdout, walk-forward folds) are cut on, and the
 * cut itself.
 *
 * One feed: its own bars — a window is bars [start, end), as it always was. Several feeds (one
 * strategy over `data [...]`) or a basket: the union of every feed's bar stamps, the same clock
 * the engine runs several feeds on and a basket's summed account is kept on. A window is ticks
 * [start, end) of that clock and keeps, of every feed, the bars stamped from its first tick to
 * its last — one calendar for every feed, so a window from X to Y slices each file by X and Y.
 * A feed whose first bar falls inside a window starts late there, as it does in a whole run
 * (the engine's and backtrader's rule); a feed without any bar in a window cannot run there
 * (backtrader refuses a data without bars in its range), which is an error naming the feed.
 */
import { unionKeys } from './basket';
import { END_OF_DAY, formatStamp } from './datetime';
import { barKey, barStamp, firstAtOrAfter, sliceBars } from './store';
import { PriceDataError, type PriceData } from './types';

export interface WindowClock {
  /** Ticks of the clock (bars of a single feed). */
  ticks: number;
  /** Tick t's calendar day, yyyymmdd. */
  dates: Int32Array;
  /** Tick t's stamp key (`barKey`: daily bars at the end of their day). */
  key(t: number): number;
  /** Tick t's stamp: `YYYY-MM-DD`, or `YYYY-MM-DDTHH:MM:SS` for an intraday tick. */
  stamp(t: number): string;
}

/** The calendar days with a tick in [start, end): the daily returns behind a window's `sharpe`. */
export function clockDays(clock: WindowClock, start = 0, end = clock.ticks): number {
  let days = 0;
  for (let t = start; t < end; t++) if (t === start || clock.dates[t] !== clock.dates[t - 1]) days++;
  return days;
}

/** The clock of a study's feeds (data 0 first). */
export function windowClock(feeds: readonly PriceData[]): WindowClock {
  if (feeds.length === 1) {
    const d = feeds[0]!;
    return { ticks: d.bars, dates: d.date, key: (t) => barKey(d, t), stamp: (t) => barStamp(d, t) };
  }
  const keys = unionKeys(feeds);
  // A daily tick is a day's end (key date·1e5 + 86400): its stamp is the date alone.
  const time = (k: number): number => (k % 100000 >= END_OF_DAY ? -1 : k % 100000);
  const dates = Int32Array.from(keys, (k) => Math.floor(k / 100000));
  return { ticks: keys.length, dates, key: (t) => keys[t]!, stamp: (t) => formatStamp(dates[t]!, time(keys[t]!)) };
}

/**
 * Every feed within ticks [start, end) of `clock` (views, no copy; a feed wholly inside is
 * returned as it is). `names` name the feeds in errors (a basket's symbols; else `data k`).
 * @throws PriceDataError when a feed has no bar in the window.
 */
export function cutFeeds(feeds: readonly PriceData[], clock: WindowClock, start: number, end: number, names?: readonly string[]): PriceData[] {
  if (start < 0 || end > clock.ticks || end - start < 1) throw new PriceDataError(`the window ${start}…${end} is outside the ${clock.ticks} bars of the data`, feeds[0]!.file);
  if (feeds.length === 1) return [start === 0 && end === clock.ticks ? feeds[0]! : sliceBars(feeds[0]!, start, end)];
  const lo = clock.key(start);
  const hi = clock.key(end - 1);
  return feeds.map((d, k) => {
    const a = firstAtOrAfter(d, lo);
    const b = firstAtOrAfter(d, hi, true);
    if (b <= a) {
      const name = names?.[k] ?? `data ${k} (${d.file.replace(/^.*[\\/]/, '')})`;
      throw new PriceDataError(
        `${name} has no bar in the window ${clock.stamp(start)} … ${clock.stamp(end - 1)} (its bars run ${barStamp(d, 0)} … ${barStamp(d, d.bars - 1)}), and every feed is cut on the same dates: ` +
          `start the study's data (from …) where every feed has bars, or change the holdout share or the number of walk-forward folds`,
        d.file,
      );
    }
    return a === 0 && b === d.bars ? d : sliceBars(d, a, b);
  });
}
