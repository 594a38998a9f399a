/**
 * What a price file holds, for `check`, the editor's diagnostics and hovers: bar count, first
 * and last stamp, spacing, the loader's warnings — or the loader's error with its line and
 * column. Loading is the real loader (so `check` reports exactly what `run` would hit); the
 * summary is kept per file version (path, size, mtime, inode) and options, so an editor asks
 * again for free until the file changes.
 */
import * as fs from 'node:fs';
import { loadPrices } from './load';
import { describeSpacing } from './spacing';
import { barStamp } from './store';
import { PriceDataError, type DateRange, type LoadOptions, type Spacing } from './types';

export interface PriceFileSummary {
  bars: number;
  /** First and last bar stamps (`YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SS`). */
  first: string;
  last: string;
  spacing: Spacing;
  /** `5-minute`, `daily`, …. */
  spacingText: string;
  warnings: string[];
}

export type Inspection = { ok: true; summary: PriceFileSummary } | { ok: false; message: string; line?: number; column?: number };

const cache = new Map<string, { version: string; result: Inspection }>();
const CACHE_SIZE = 64;

/** Loads `file` (absolute) as a run would and summarizes it. Never throws. */
export function inspectPriceFile(file: string, range?: DateRange, options: LoadOptions = {}): Inspection {
  let version: string;
  try {
    const st = fs.statSync(file);
    version = `${st.size}:${st.mtimeMs}:${st.ino}`;
  } catch {
    return load(file, range, options);
  }
  const key = JSON.stringify([file, range?.from ?? null, range?.to ?? null, options]);
  const hit = cache.get(key);
  if (hit && hit.version === version) return hit.result;
  const result = load(file, range, options);
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(key, { version, result });
  return result;
}

function load(file: string, range: DateRange | undefined, options: LoadOptions): Inspection {
  try {
    const d = loadPrices(file, range, options);
    return {
      ok: true,
      summary: {
        bars: d.bars,
        first: barStamp(d, 0),
        last: barStamp(d, d.bars - 1),
        spacing: d.spacing,
        spacingText: describeSpacing(d.spacing),
        warnings: d.warnings ?? [],
      },
    };
  } catch (e) {
    if (e instanceof PriceDataError) return { ok: false, message: e.message, line: e.line, column: e.column };
    return { ok: false, message: `${file}: cannot load the price file (${e instanceof Error ? e.message : String(e)})` };
  }
}
