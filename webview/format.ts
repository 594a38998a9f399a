/**
 * One number format for the whole panel (tables, headers, ticks, tooltips): never exponent
 * notation, thousands grouped, millions and billions as `1.42 M`, small values with a fixed
 * count of significant digits. A score of several objectives is its values joined with ` · `.
 */
import type { Score } from '../protocol/run-events';

const SUFFIXES: [number, string][] = [[1e12, 'T'], [1e9, 'B'], [1e6, 'M']];

/** `v` with `digits` significant digits (at most), e.g. 0.4453, 12.35, 1,234, 1.42 M; `–` for none. */
export function fmt(v: number | null | undefined, digits = 4): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  for (const [size, suffix] of SUFFIXES) {
    if (a >= size) return `${trimZeros((v / size).toFixed(Math.max(0, Math.min(digits, 3) - 1 - Math.floor(Math.log10(a / size)))))} ${suffix}`;
  }
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a === 0) return '0';
  // toFixed never switches to exponent notation below 1e21.
  const decimals = Math.min(12, Math.max(0, digits - 1 - Math.floor(Math.log10(a))));
  const s = trimZeros(v.toFixed(decimals));
  return s === '-0' ? '0' : s;
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** A signed percentage, `+3.2 %` / `-17.0 %`, one decimal. */
export function fmtSignedPct(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return `${v >= 0 ? '+' : '-'}${Math.abs(v).toFixed(1)} %`;
}

/** A fraction 0..1 as a percentage, `42 %`. */
export function fmtShare(v: number | null | undefined, digits = 3): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : `${fmt(v * 100, digits)} %`;
}

/** A score: one objective's value, or several joined with ` · `. */
export function fmtScore(sc: Score | null | undefined): string {
  if (sc === null || sc === undefined) return '–';
  return Array.isArray(sc) ? sc.map((v) => fmt(v)).join(' · ') : fmt(sc);
}

/** A parameter value as written in a study. */
export function fmtValue(v: number | string | boolean | null | undefined): string {
  if (v === null || v === undefined) return '–';
  return typeof v === 'number' ? fmt(v, 6) : String(v);
}

/** `fast = 10, slow = 30`. */
export function fmtParams(p: Record<string, number | string | boolean>): string {
  return Object.entries(p).map(([k, v]) => `${k} = ${fmtValue(v)}`).join(', ');
}

/** `1:05:03`, `4:07`, `12 s`. */
export function fmtDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** A count with grouping, `12,345`. */
export function fmtCount(n: number): string {
  return n.toLocaleString('en-US');
}
