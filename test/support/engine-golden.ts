/**
 * Golden backtrader results for the engine tests (copied from ../shared/golden into
 * test/fixtures/golden as gzipped JSON; `fills` and equity dates stripped, every combination
 * and every trade kept).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
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

/** The oracle's feature goldens (../shared/oracle/golden, copied gzipped) and the data only they use. */
export const ORACLE_FIXTURES = path.join(ROOT, 'test', 'fixtures', 'oracle', 'golden');
export const ORACLE_DATA = path.join(ROOT, 'test', 'fixtures', 'oracle', 'data');

/** A scenario as oracle.py takes it (../shared/oracle/README.md "Scenario"). */
export interface OracleScenario {
  strategy: string;
  params: Record<string, number | string>;
  data: string[];
  from: string | null;
  to: string | null;
  cash: number;
  commission: { type: 'percent'; rate: number } | { type: 'per_share'; amount: number } | { type: 'per_contract'; amount: number; margin: number; mult: number };
  slippage: null | { type: 'percent'; rate: number } | { type: 'fixed'; amount: number };
  sizing: { type: 'fixed'; size: number } | { type: 'percent'; percent: number };
  equity?: boolean;
}

/** One result as oracle.py prints it (and the feature goldens store it, with its scenario). */
export interface OracleResult {
  scenario?: OracleScenario;
  params?: Record<string, number | string>;
  metrics: Record<string, unknown>;
  trades: Record<string, unknown>[];
  fills: Record<string, unknown>[];
  rejected: Record<string, unknown>[];
  equity?: { dates?: string[]; cash: (number | string)[]; value: (number | string)[] };
  error?: string;
}

export interface OracleGoldenFile {
  name: string;
  feature: string;
  results: OracleResult[];
}

/** Every feature golden of the oracle. */
export function oracleGoldenFiles(): OracleGoldenFile[] {
  return readdirSync(ORACLE_FIXTURES)
    .filter((f) => f.endsWith('.json.gz'))
    .sort()
    .map((f) => ({ ...(JSON.parse(gunzipSync(readFileSync(path.join(ORACLE_FIXTURES, f))).toString('utf8')) as OracleGoldenFile), name: f.replace(/\.json\.gz$/, '') }));
}

/** Where a data file a scenario names lives in the repository. */
export function dataPath(name: string): string {
  for (const dir of [DATA, ORACLE_DATA]) {
    const p = path.join(dir, name);
    if (existsSync(p)) return p;
  }
  throw new Error(`data file ${name} is in neither ${DATA} nor ${ORACLE_DATA}`);
}
