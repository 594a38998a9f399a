/**
 * Price data: loading files (CSV, gzip'ed CSV, Parquet; daily and intraday), the shared-buffer store
 * workers attach to, bar stamps and ranges. The engine imports its `PriceData` from here.
 */
export type { ColumnRole, DateRange, LoadOptions, PriceData, PriceMode, SharedPrices, Spacing } from './types';
export { COLUMN_ROLES, loadOptions, PriceDataError } from './types';
export { loadPrices, parsePrices, pricesFromBytes, readPriceFile, describeKind, MAX_PRICE_FILE_BYTES } from './load';
export { attachPrices, barKey, barStamp, sharePrices, sliceBars, slicePrices } from './store';
export { dayNumber, formatDate, formatStamp, formatTime, parseDate } from './datetime';
export { describeSpacing } from './spacing';
export { cutFeeds, windowClock, type WindowClock } from './windows';
