/**
 * Parameter domains: their values and sizes. Float steps are computed as `lo + i * step` and
 * rounded to the decimals the bounds and step were written with, so `0.1 .. 0.3 step 0.1`
 * gives exactly `[0.1, 0.2, 0.3]` and never drifts (repeated addition would give 0.30000000000000004).
 */

import type { Domain, ParamType, ParamValue } from './model';

/** Decimal places of a number's shortest representation (`0.25` → 2, `1e-7` → 7). */
export function decimalsOf(x: number): number {
  if (!Number.isFinite(x) || Number.isInteger(x)) return 0;
  const s = String(Math.abs(x));
  const e = s.indexOf('e-');
  if (e >= 0) {
    const mant = s.slice(0, e);
    const dot = mant.indexOf('.');
    return Number(s.slice(e + 2)) + (dot >= 0 ? mant.length - dot - 1 : 0);
  }
  const dot = s.indexOf('.');
  return dot >= 0 ? s.length - dot - 1 : 0;
}

/** Rounds to `d` decimals (capped at 15, where doubles stop carrying digits). */
function roundTo(x: number, d: number): number {
  // Whole numbers are their own rounding (toFixed prints them as they are below 1e21).
  if (Number.isInteger(x) && Math.abs(x) < 1e21) return x + 0; // + 0: -0 prints as 0
  const dd = Math.min(15, d);
  return Number(x.toFixed(dd));
}

/** Tolerance used when checking that `(hi - lo) / step` is whole. */
const STEP_EPS = 1e-9;

/** Number of values of an inclusive stepped range (0 when reversed or the step is not positive). */
export function rangeCount(lo: number, hi: number, step: number): number {
  if (!(step > 0) || !(hi >= lo) || !Number.isFinite(lo) || !Number.isFinite(hi)) return 0;
  return Math.floor((hi - lo) / step + STEP_EPS) + 1;
}

/** True when the step lands exactly on `hi` (else the last value is below `hi`). */
export function stepDivides(lo: number, hi: number, step: number): boolean {
  if (!(step > 0)) return true;
  const q = (hi - lo) / step;
  return Math.abs(q - Math.round(q)) < STEP_EPS * Math.max(1, Math.abs(q));
}

/**
 * The number of values of a domain: `Infinity` for a continuous one, 0 for an empty or
 * invalid one.
 */
export function domainSize(d: Domain): number {
  switch (d.kind) {
    case 'list':
      return d.values.length;
    case 'range':
      return rangeCount(d.lo, d.hi, d.step);
    case 'continuous':
      return d.hi >= d.lo ? Infinity : 0;
    case 'log':
      return d.count >= 1 && d.lo > 0 && d.hi >= d.lo ? Math.floor(d.count) : 0;
  }
}

/** Largest domain `domainValues` lists (a bigger one gives `null`, like a continuous one). */
export const MAX_LISTED_VALUES = 10_000_000;

/** The i-th value of a stepped range, computed without drift. */
export function rangeValue(lo: number, step: number, i: number, type: ParamType): number {
  const v = roundTo(lo + i * step, Math.max(decimalsOf(lo), decimalsOf(step)));
  return type === 'int' ? Math.round(v) : v;
}

/**
 * The values of a finite domain, in order; `null` for a continuous one (or one of more than
 * `MAX_LISTED_VALUES` values, which no one can search value by value). Integer parameters
 * get integers (log values are rounded and de-duplicated); floats are computed without drift.
 */
export function domainValues(d: Domain, type: ParamType): ParamValue[] | null {
  if (domainSize(d) > MAX_LISTED_VALUES) return null;
  switch (d.kind) {
    case 'list':
      return d.values.slice();
    case 'continuous':
      return null;
    case 'range': {
      const n = rangeCount(d.lo, d.hi, d.step);
      const dec = Math.max(decimalsOf(d.lo), decimalsOf(d.step));
      const out: number[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const v = roundTo(d.lo + i * d.step, dec);
        out[i] = type === 'int' ? Math.round(v) : v;
      }
      return out;
    }
    case 'log': {
      const n = domainSize(d);
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = n === 1 ? 0 : i / (n - 1);
        let v = i === 0 ? d.lo : i === n - 1 ? d.hi : d.lo * Math.pow(d.hi / d.lo, t);
        v = type === 'int' ? Math.round(v) : Number(v.toPrecision(12));
        if (type !== 'int' || out.length === 0 || out[out.length - 1] !== v) out.push(v);
      }
      return out;
    }
  }
}
