/**
 * Price data as the engine and the workers see it: bars as columns over ONE
 * `SharedArrayBuffer` (posted to each worker once, sliced without copies), with the bar
 * spacing the loader detected. Plus the options a study gives a file (column names, date
 * format, what to do with invalid prices) and the loader's error type.
 */

/** backtrader's TimeFrame + compression: `minutes/5` is a 5-minute feed, `days/1` a daily one. */
export interface Spacing {
  unit: 'seconds' | 'minutes' | 'days' | 'weeks' | 'months';
  compression: number;
}

/**
 * Bars as columns. Every column is a view over one `SharedArrayBuffer`, so the data can be
 * posted to worker threads once (see `sharePrices`/`attachPrices`) and sliced without copying.
 */
export interface PriceData {
  /** The file the bars came from (as given to `loadPrices`). */
  file: string;
  /** Number of bars in this view. */
  bars: number;
  /** The bar's calendar day as yyyymmdd; with `time`, the bars' stamps strictly increase. */
  date: Int32Array;
  /**
   * Intraday feeds only: seconds after midnight of the bar's stamp, as written in the file
   * (no time-zone conversion). Absent for daily, weekly and monthly data.
   */
  time?: Int32Array;
  /** The detected bar spacing (`days/1` for daily files, `minutes/5` for 5-minute bars). */
  spacing: Spacing;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
  /** Present when the file has an open-interest column. */
  openInterest?: Float64Array;
  /** The buffer every column is a view of. */
  buffer: SharedArrayBuffer;
  /** A content hash of exactly these bars: the key for memoized indicators and journals. */
  id: string;
  /** Index of this view's first bar in the buffer (non-zero for slices). */
  offset: number;
  /** Number of bars the buffer holds (the column stride). */
  capacity: number;
  /** What the loader skipped or repaired (counted, with the first line), for `check` and logs. */
  warnings?: string[];
}

/** A structured-clone-able description of a `PriceData`: post it once to each worker. */
export interface SharedPrices {
  kind: 'optstudy-prices';
  file: string;
  id: string;
  buffer: SharedArrayBuffer;
  offset: number;
  bars: number;
  capacity: number;
  hasOpenInterest: boolean;
  /** True for intraday feeds: the buffer holds a time column after the date column. */
  hasTime?: boolean;
  /** Absent in descriptors made before intraday support: then `days/1`. */
  spacing?: Spacing;
}

/**
 * An inclusive range: `YYYY-MM-DD` (whole calendar days: `from` = 00:00 of that day, `to` = the
 * end of that day) or a datetime `YYYY-MM-DDTHH:MM[:SS]` (or with a space for the `T`).
 */
export interface DateRange {
  from?: string;
  to?: string;
}

/** Price columns a study may map to header names (or 1-based column numbers). */
export const COLUMN_ROLES = ['date', 'time', 'open', 'high', 'low', 'close', 'volume', 'openinterest'] as const;
export type ColumnRole = (typeof COLUMN_ROLES)[number];

/**
 * What to do with rows whose prices cannot be traded: `check` (default) refuses the file
 * naming the line and column; `repair` skips rows with a missing, zero, negative or infinite
 * price and widens High/Low to cover Open and Close (each counted in a warning); `allow` keeps
 * the values as written (negative prices included) and only refuses what is not a finite number.
 */
export type PriceMode = 'check' | 'repair' | 'allow';

/** How to read one file (the `data "…" { … }` block of a study). */
export interface LoadOptions {
  /** Header name (any case, spaces ignored) or 1-based column number per role. */
  columns?: Partial<Record<ColumnRole, string | number>>;
  /**
   * The date layout when it cannot be told from the values: a pattern of `YYYY`, `MM`, `DD`
   * with separators (`DD/MM/YYYY`, `MM/DD/YYYY`, `DD.MM.YYYY`), optionally followed by a time
   * (`DD.MM.YYYY hh:mm:ss`), or `epoch` (seconds) / `epoch_ms` (milliseconds since 1970, UTC).
   */
  dateFormat?: string;
  prices?: PriceMode;
  /** Refuse files larger than this many bytes (default `MAX_PRICE_FILE_BYTES`). */
  maxBytes?: number;
}

/** A price file that cannot be used: the message names the file, the line and what to do. */
export class PriceDataError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly line?: number,
    /** 1-based column (field) number, when one field is at fault. */
    readonly column?: number,
  ) {
    super(message);
    this.name = 'PriceDataError';
  }
}

/** The loader options of a study's feed (`data "…" { columns …, date_format …, prices … }`). */
export function loadOptions(feed: { columns?: LoadOptions['columns']; dateFormat?: string; prices?: PriceMode }): LoadOptions {
  return { ...(feed.columns ? { columns: feed.columns } : {}), ...(feed.dateFormat ? { dateFormat: feed.dateFormat } : {}), ...(feed.prices ? { prices: feed.prices } : {}) };
}
