/**
 * Indicator series with backtrader's exact float recipes (golden/SEMANTICS.md §5). Each function
 * takes whole columns and returns a new `Float64Array` of the same length, `NaN` where the value
 * is not defined yet. The evaluation order of every float expression is kept as backtrader's:
 * rewriting `prev * (1 - a) + x * a` as `prev + a * (x - prev)` changes results in the last ulp,
 * which is enough to move a crossover by a bar.
 */
import { ExactSum, fsum } from './fsum';
import { pySqrt, pySquare } from './glibc-pow';
import { BacktestError } from './types';

/** Index of the first non-NaN value, or `a.length` when there is none. */
export function firstValid(a: Float64Array): number {
  const n = a.length;
  for (let i = 0; i < n; i++) if (a[i] === a[i]) return i;
  return n;
}

function checkPeriod(name: string, p: number, min = 1): void {
  if (!Number.isInteger(p) || p < min) {
    throw new BacktestError(`${name}: the period must be an integer ≥ ${min}, got ${p}.`);
  }
}

function nanArray(n: number): Float64Array {
  const a = new Float64Array(n);
  // A plain loop: TypedArray.prototype.fill(NaN) is several times slower in V8 here.
  for (let i = 0; i < n; i++) a[i] = NaN;
  return a;
}

const acc = new ExactSum();

/**
 * Simple moving average: `fsum(x[i-p+1..i]) / p` (the exactly rounded window sum), from the
 * first index where p consecutive inputs are defined. The input is expected to be NaN only in a
 * leading warm-up; a NaN later restarts the window.
 */
export function sma(x: Float64Array, p: number): Float64Array {
  checkPeriod('SMA', p);
  const n = x.length;
  const out = nanArray(n);
  // Exact partials rolled along (add the new value, add the old one negated): O(1) a bar and
  // measured faster here than a double-double sum with a certified rounding and exact fallback.
  const s = acc;
  s.reset();
  let run = 0; // consecutive defined inputs ending at i
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    if (v !== v) {
      s.reset();
      run = 0;
      continue;
    }
    if (v !== 0) s.add(v);
    run++;
    if (run > p) {
      const old = x[i - p]!;
      if (old !== 0) s.add(-old);
    }
    if (run >= p) out[i] = s.value() / p;
  }
  return out;
}

/**
 * backtrader ExponentialSmoothing: seeded with SMA(p) of the input where that is first
 * defined, then `prev = prev * (1.0 - alpha) + x * alpha`.
 */
export function expSmooth(x: Float64Array, p: number, alpha: number): Float64Array {
  checkPeriod('ExponentialSmoothing', p);
  const n = x.length;
  const out = nanArray(n);
  const alpha1 = 1.0 - alpha;
  // The seed is SMA(p) where it is first defined: the end of the first run of p defined inputs.
  let i = 0;
  for (let run = 0; i < n; i++) {
    run = x[i] === x[i] ? run + 1 : 0;
    if (run === p) break;
  }
  if (i >= n) return out;
  let prev = fsum(x, i - p + 1, i + 1) / p;
  out[i] = prev;
  for (i++; i < n; i++) {
    prev = prev * alpha1 + x[i]! * alpha;
    out[i] = prev;
  }
  return out;
}

/** Exponential moving average, `alpha = 2 / (1 + p)`; first value at the SMA seed. */
export function ema(x: Float64Array, p: number): Float64Array {
  checkPeriod('EMA', p);
  return expSmooth(x, p, 2.0 / (1.0 + p));
}

/** Wilder's smoothed moving average, `alpha = 1 / p`. */
export function smma(x: Float64Array, p: number): Float64Array {
  checkPeriod('SMMA', p);
  return expSmooth(x, p, 1.0 / p);
}

/**
 * backtrader CrossOver(a, b): +1 where `a` crosses above `b`, -1 where it crosses below, else
 * 0; compares with the last non-zero difference so touching and leaving is not a cross.
 */
export function crossover(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length);
  crossoverInto(out, a, b);
  return out;
}

/** The bars where a series is not 0 (NaN counts as not 0), in order: `at[0..count)`. */
export interface SignalEvents {
  at: Float64Array;
  count: number;
}

/**
 * `crossover(a, b)` written into `out` (every element of `out[0..a.length)` is written, NaN
 * where undefined, so `out` may be a reused buffer). Returns the first defined index
 * (`a.length` when none). With `events`, also lists the bars where the result is not 0 (the
 * crosses and the undefined bars), so a gated run need not scan the result again.
 */
export function crossoverInto(out: Float64Array, a: Float64Array, b: Float64Array, events?: SignalEvents): number {
  const n = a.length;
  const at = events?.at;
  let m = 0;
  let first = n;
  let nzd = NaN; // last non-zero difference (the seed may be 0)
  for (let i = 0; i < n; i++) {
    const ai = a[i]!;
    const bi = b[i]!;
    if (ai !== ai || bi !== bi) {
      nzd = NaN;
      out[i] = NaN;
      if (at) at[m++] = i;
      continue;
    }
    if (nzd !== nzd) {
      out[i] = NaN;
      if (at) at[m++] = i;
      nzd = ai - bi;
      continue;
    }
    const up = nzd < 0.0 && ai > bi ? 1.0 : 0.0;
    const dn = nzd > 0.0 && ai < bi ? 1.0 : 0.0;
    const x = up - dn;
    out[i] = x;
    if (at && x !== 0) at[m++] = i;
    if (i < first) first = i;
    const d = ai - bi;
    if (d !== 0) nzd = d;
    if (nzd !== nzd) continue;
    // Both defined from here on (the usual case): one difference and one test a bar, ~3x
    // faster. With e = a - b not NaN, a > b iff e > 0 and a < b iff e < 0 (no underflow to 0
    // with subnormals), and up - dn is +1, -1 or +0 exactly as above. A NaN e (an undefined
    // value, or inf - inf) leaves the bar to the general loop.
    for (i++; i < n; i++) {
      const e = a[i]! - b[i]!;
      let o = 0.0;
      if (e > 0.0) {
        if (nzd < 0.0) {
          o = 1.0;
          if (at) at[m++] = i;
        }
        nzd = e;
      } else if (e < 0.0) {
        if (nzd > 0.0) {
          o = -1.0;
          if (at) at[m++] = i;
        }
        nzd = e;
      } else if (e !== e) break;
      out[i] = o;
    }
    i--; // the bar that broke out is taken again by the general loop
  }
  if (events) events.count = m;
  return first;
}

/** The bars where `x` is not 0 (NaN counts), into `events`. */
export function signalEvents(x: Float64Array, n: number, events: SignalEvents): void {
  const at = events.at;
  let m = 0;
  for (let i = 0; i < n; i++) if (x[i] !== 0) at[m++] = i;
  events.count = m;
}

/** Up moves `max(c[i]-c[i-1], 0)` (NaN at 0). */
function upMoves(c: Float64Array): Float64Array {
  const n = c.length;
  const up = nanArray(n);
  for (let i = 1; i < n; i++) up[i] = Math.max(c[i]! - c[i - 1]!, 0.0);
  return up;
}

function downMoves(c: Float64Array): Float64Array {
  const n = c.length;
  const dn = nanArray(n);
  for (let i = 1; i < n; i++) dn[i] = Math.max(c[i - 1]! - c[i]!, 0.0);
  return dn;
}

/**
 * RSI with Wilder smoothing and `safediv=True`: `100 - 100 / (1 + maup/madown)`, 50 when
 * both averages are 0, 100 when only the down average is 0. First value at index p.
 */
export function rsi(c: Float64Array, p: number): Float64Array {
  checkPeriod('RSI', p);
  const mu = smma(upMoves(c), p);
  const md = smma(downMoves(c), p);
  const n = c.length;
  const out = nanArray(n);
  for (let i = 0; i < n; i++) {
    const a = mu[i]!;
    const b = md[i]!;
    if (a !== a || b !== b) continue;
    const rs = b === 0.0 ? (a === 0.0 ? 1.0 : Infinity) : a / b;
    out[i] = 100.0 - 100.0 / (1.0 + rs);
  }
  return out;
}

/** True range `max(high, prev close) - min(low, prev close)`, NaN at bar 0. */
export function trueRange(h: Float64Array, l: Float64Array, c: Float64Array): Float64Array {
  const n = c.length;
  const tr = nanArray(n);
  for (let i = 1; i < n; i++) {
    const pc = c[i - 1]!;
    tr[i] = Math.max(h[i]!, pc) - Math.min(l[i]!, pc);
  }
  return tr;
}

/** Average true range: SMMA(TR, p), first value at index p. */
export function atr(h: Float64Array, l: Float64Array, c: Float64Array, p: number): Float64Array {
  checkPeriod('ATR', p);
  return smma(trueRange(h, l, c), p);
}

/**
 * Population standard deviation the naive way, `pow(SMA(x**2, p) - SMA(x, p)**2, 0.5)`, with
 * Python's powers (glibc's pow: not always `x*x` and `Math.sqrt`, glibc-pow.ts).
 */
export function stddev(x: Float64Array, p: number, mid: Float64Array = sma(x, p)): Float64Array {
  checkPeriod('StdDev', p);
  const n = x.length;
  const sq = new Float64Array(n);
  for (let i = 0; i < n; i++) sq[i] = pySquare(x[i]!);
  const meansq = sma(sq, p);
  const out = nanArray(n);
  for (let i = 0; i < n; i++) {
    const m = mid[i]!;
    if (m !== m) continue;
    out[i] = pySqrt(meansq[i]! - pySquare(m));
  }
  return out;
}

/** Bollinger Bands: `mid = SMA(p)`, `top/bot = mid ± dev * stddev`. */
export interface Bands {
  mid: Float64Array;
  top: Float64Array;
  bot: Float64Array;
}

/** Bollinger Bands (backtrader BollingerBands, population stddev). */
export function bollinger(c: Float64Array, p: number, devfactor: number): Bands {
  checkPeriod('Bollinger', p);
  const mid = sma(c, p);
  return bandsFrom(mid, stddev(c, p, mid), devfactor);
}

/** The bands around a given middle line and standard deviation (shared across dev factors). */
export function bandsFrom(mid: Float64Array, sd: Float64Array, devfactor: number): Bands {
  const n = mid.length;
  const top = nanArray(n);
  const bot = nanArray(n);
  for (let i = 0; i < n; i++) {
    const m = mid[i]!;
    if (m !== m) continue;
    const sdl = devfactor * sd[i]!;
    top[i] = m + sdl;
    bot[i] = m - sdl;
  }
  return { mid, top, bot };
}

/** MACD lines: `macd = EMA(fast) - EMA(slow)`, `signal = EMA(macd, signal)`, `histo = macd - signal`. */
export interface Macd {
  macd: Float64Array;
  signal: Float64Array;
  histo: Float64Array;
}

/** backtrader MACD (defaults 12, 26, 9). */
export function macd(c: Float64Array, fast: number, slow: number, signal: number): Macd {
  return macdFrom(difference(ema(c, fast), ema(c, slow)), signal);
}

/** a − b element-wise (NaN where either is). */
export function difference(a: Float64Array, b: Float64Array): Float64Array {
  const n = a.length;
  const m = new Float64Array(n);
  for (let i = 0; i < n; i++) m[i] = a[i]! - b[i]!;
  return m;
}

/** MACD's signal and histogram from its line (shared across signal periods). */
export function macdFrom(m: Float64Array, signal: number): Macd {
  const n = m.length;
  const s = ema(m, signal);
  const h = nanArray(n);
  for (let i = 0; i < n; i++) h[i] = m[i]! - s[i]!;
  return { macd: m, signal: s, histo: h };
}

/** Highest value of the last p bars (NaN until p bars are there); a monotonic deque, O(n). */
export function highest(x: Float64Array, p: number): Float64Array {
  return extreme(x, p, true);
}

/** Lowest value of the last p bars. */
export function lowest(x: Float64Array, p: number): Float64Array {
  return extreme(x, p, false);
}

function extreme(x: Float64Array, p: number, max: boolean): Float64Array {
  checkPeriod(max ? 'Highest' : 'Lowest', p);
  const n = x.length;
  const out = nanArray(n);
  const q = new Int32Array(n);
  let head = 0;
  let tail = 0;
  let run = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    if (v !== v) {
      head = tail = 0;
      run = 0;
      continue;
    }
    run++;
    while (tail > head && (max ? x[q[tail - 1]!]! <= v : x[q[tail - 1]!]! >= v)) tail--;
    q[tail++] = i;
    if (q[head]! <= i - p) head++;
    if (run >= p) out[i] = x[q[head]!]!;
  }
  return out;
}

/** Donchian channel over the last p bars: highest high, lowest low and their midpoint. */
export interface Channel {
  upper: Float64Array;
  lower: Float64Array;
  mid: Float64Array;
}

/** Donchian channel (includes the current bar; compare with `[i - 1]` for a breakout). */
export function donchian(h: Float64Array, l: Float64Array, p: number): Channel {
  const upper = highest(h, p);
  const lower = lowest(l, p);
  const n = h.length;
  const mid = nanArray(n);
  for (let i = 0; i < n; i++) mid[i] = (upper[i]! + lower[i]!) / 2.0;
  return { upper, lower, mid };
}

/** Stochastic oscillator lines, in percent. */
export interface Stochastic {
  k: Float64Array;
  d: Float64Array;
}

/**
 * backtrader Stochastic (the slow one): fast %K = `100 * (c - LL(p)) / (HH(p) - LL(p))` (0 when
 * the range is 0), %K = SMA(fast %K, pfast), %D = SMA(%K, pslow).
 */
export function stochastic(h: Float64Array, l: Float64Array, c: Float64Array, p: number, pfast: number, pslow: number): Stochastic {
  const hh = highest(h, p);
  const ll = lowest(l, p);
  const n = c.length;
  const kf = nanArray(n);
  for (let i = 0; i < n; i++) {
    const lo = ll[i]!;
    const hi = hh[i]!;
    if (lo !== lo || hi !== hi) continue;
    const den = hi - lo;
    kf[i] = den === 0 ? 0.0 : (100.0 * (c[i]! - lo)) / den;
  }
  const k = sma(kf, pfast);
  return { k, d: sma(k, pslow) };
}

/** Rate of change over p bars: `(x[i] - x[i-p]) / x[i-p]` (a fraction, not percent). */
export function roc(x: Float64Array, p: number): Float64Array {
  checkPeriod('ROC', p);
  const n = x.length;
  const out = nanArray(n);
  for (let i = p; i < n; i++) out[i] = (x[i]! - x[i - p]!) / x[i - p]!;
  return out;
}
