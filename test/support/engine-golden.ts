/**
 * Golden backtrader results for the engine tests (copied from ../shared/golden into
 * test/fixtures/golden as gzipped JSON; `fills` and equity dates stripped, every combination
 * and every trade kept).
 */
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';

/** The repository root, from a bundled test in out/test/<suite>/. */
export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'golden');
export const DATA = path.join(ROOT, 'samples', 'data');

export interface GoldenTrade {
  [k: string]: string | number;
}

export interface GoldenResult {
  params: Record<string, number | string>;
  metrics: Record<string, number | string | null | Record<string, number>>;
  trades: GoldenTrade[];
  rejected: { date: string; side: string; status: string; size: number; created_date: string; created_price: number }[];
  equity?: { cash: number[]; value: number[] };
}

export interface GoldenFile {
  name: string;
  strategy: string;
  data_file: string;
  date_range: { requested: [string | null, string | null]; first_bar: string; last_bar: string; bars: number };
  cash: number;
  commission: { rate: number };
  sizing_key: 'allin' | 'stake';
  stake: number | null;
  grid: Record<string, (number | string)[]>;
  equity_included_for: number[];
  results: GoldenResult[];
}

export interface IndicatorDump {
  name: string;
  data_file: string;
  date_range: [string | null, string | null] | null;
  bars_count: number;
  bars: { date: string[]; open: number[]; high: number[]; low: number[]; close: number[]; volume: number[] };
  indicators: Record<string, { first_valid_index: number; values: (number | null)[] }>;
}

function read<T>(file: string): T {
  return JSON.parse(gunzipSync(readFileSync(path.join(FIXTURES, file))).toString('utf8')) as T;
}

/** Every golden backtest file. */
export function goldenFiles(): GoldenFile[] {
  return readdirSync(FIXTURES)
    .filter((f) => /_(allin|stake)\d+_.*\.json\.gz$/.test(f))
    .sort()
    .map((f) => ({ ...read<GoldenFile>(f), name: f.replace(/\.json\.gz$/, '') }));
}

/** Every golden indicator dump. */
export function indicatorDumps(): IndicatorDump[] {
  return readdirSync(FIXTURES)
    .filter((f) => f.startsWith('indicators_') && f.endsWith('.json.gz'))
    .sort()
    .map((f) => ({ ...read<IndicatorDump>(f), name: f.replace(/\.json\.gz$/, '') }));
}
