/**
 * The price loader moved to server/data/ (owned by the data side); this module keeps the
 * engine's imports working. New code imports from '../data'.
 */
export { attachPrices, barStamp, formatDate, loadPrices, parseDate, parsePrices, sharePrices, sliceBars, slicePrices } from '../data';
