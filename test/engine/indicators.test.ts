/**
 * Indicator series against backtrader's dumps (golden/indicators_*.json), and the indicators
 * backtrader's dumps do not cover against straightforward definitions.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { indicators as I, loadPrices, type PriceData } from '../../server/engine/index';
import { DATA, indicatorDumps } from '../support/engine-golden';

const dumps = indicatorDumps();

function seriesFor(key: string, d: PriceData): Float64Array {
  const c = d.close;
  const parts = key.split('_');
  const p = Number(parts[1]);
  if (key.startsWith('sma_')) return I.sma(c, p);
  if (key.startsWith('ema_')) return I.ema(c, p);
  if (key.startsWith('smma_')) return I.smma(c, p);
  if (key.startsWith('rsi_')) return I.rsi(c, p);
  if (key.startsWith('atr_')) return I.atr(d.high, d.low, c, p);
  if (key === 'tr') return I.trueRange(d.high, d.low, c);
  if (key.startsWith('bb_')) return I.bollinger(c, p, Number(parts[2]))[parts[3] as 'mid' | 'top' | 'bot'];
  if (key.startsWith('stddev_')) return I.stddev(c, p);
  if (key.startsWith('crossover_')) {
    const line = (s: string) => (s.startsWith('sma') ? I.sma(c, Number(s.slice(3))) : I.ema(c, Number(s.slice(3))));
    return I.crossover(line(parts[1]!), line(parts[2]!));
  }
  throw new Error(`no recipe for ${key}`);
}

/*
 * Bollinger/StdDev go through glibc `pow(x, 2.0)` and `pow(v, 0.5)`, which are not always
 * correctly rounded (SEMANTICS §5: x*x and Math.sqrt differ on a handful of bars); the engine
 * takes those powers as glibc does (server/engine/glibc-pow.ts), so every series is exact.
 */
test('the indicator dumps are all there', () => {
  assert.equal(dumps.length, 3);
});

for (const dump of dumps) {
  test(`indicators ${dump.name}: equal to backtrader's dump`, () => {
    const [from, to] = dump.date_range ?? [null, null];
    const d = loadPrices(path.join(DATA, dump.data_file), { from: from ?? undefined, to: to ?? undefined });
    // The loader reads the very bars backtrader used.
    assert.equal(d.bars, dump.bars_count);
    for (const k of ['open', 'high', 'low', 'close', 'volume'] as const) {
      assert.deepEqual(Array.from(d[k]), dump.bars[k], `bars.${k}`);
    }
    assert.equal(d.date[0], Number(dump.bars.date[0]!.replace(/-/g, '')));
    let compared = 0;
    for (const [key, want] of Object.entries(dump.indicators)) {
      const got = seriesFor(key, d);
      assert.equal(I.firstValid(got), want.first_valid_index, `${key} first valid index`);
      want.values.forEach((w, i) => {
        const g = got[i]! !== got[i]! ? null : got[i]!;
        if (g !== w) assert.fail(`${key}[${i}] = ${g}, backtrader ${w}`);
        compared++;
      });
    }
    assert.ok(compared > 0);
  });
}

const d = loadPrices(path.join(DATA, 'orcl-2014.txt'));

test('highest/lowest/donchian equal a brute-force window scan', () => {
  for (const p of [1, 2, 5, 20]) {
    const ch = I.donchian(d.high, d.low, p);
    for (let i = 0; i < d.bars; i++) {
      if (i < p - 1) {
        assert.ok(Number.isNaN(ch.upper[i]!) && Number.isNaN(ch.lower[i]!));
        continue;
      }
      let hi = -Infinity;
      let lo = Infinity;
      for (let j = i - p + 1; j <= i; j++) {
        hi = Math.max(hi, d.high[j]!);
        lo = Math.min(lo, d.low[j]!);
      }
      assert.equal(ch.upper[i], hi);
      assert.equal(ch.lower[i], lo);
      assert.equal(ch.mid[i], (hi + lo) / 2);
    }
  }
});

test('MACD is EMA(fast) − EMA(slow), its signal an EMA of it, seeded where MACD starts', () => {
  const m = I.macd(d.close, 12, 26, 9);
  const f = I.ema(d.close, 12);
  const s = I.ema(d.close, 26);
  assert.equal(I.firstValid(m.macd), 25);
  assert.equal(I.firstValid(m.signal), 25 + 8);
  for (let i = 25; i < d.bars; i++) assert.equal(m.macd[i], f[i]! - s[i]!);
  // The signal seed is the plain mean of the first 9 MACD values.
  const seed = Array.from(m.macd.subarray(25, 34));
  assert.ok(Math.abs(m.signal[33]! - seed.reduce((a, b) => a + b, 0) / 9) < 1e-12);
  const a = 2 / 10;
  assert.equal(m.signal[34], m.signal[33]! * (1 - a) + m.macd[34]! * a);
  for (let i = 33; i < d.bars; i++) assert.equal(m.histo[i], m.macd[i]! - m.signal[i]!);
});

test('stochastic: %K is the 3-bar mean of the raw %K, %D the 3-bar mean of %K, within 0..100', () => {
  const st = I.stochastic(d.high, d.low, d.close, 14, 3, 3);
  assert.equal(I.firstValid(st.k), 13 + 2);
  assert.equal(I.firstValid(st.d), 13 + 4);
  const raw = (i: number) => {
    let hi = -Infinity;
    let lo = Infinity;
    for (let j = i - 13; j <= i; j++) {
      hi = Math.max(hi, d.high[j]!);
      lo = Math.min(lo, d.low[j]!);
    }
    return (100 * (d.close[i]! - lo)) / (hi - lo);
  };
  for (let i = 17; i < d.bars; i++) {
    const k = (raw(i) + raw(i - 1) + raw(i - 2)) / 3;
    assert.ok(Math.abs(st.k[i]! - k) < 1e-9, `%K at ${i}`);
    assert.ok(Math.abs(st.d[i]! - (st.k[i]! + st.k[i - 1]! + st.k[i - 2]!) / 3) < 1e-9);
    assert.ok(st.k[i]! >= 0 && st.k[i]! <= 100);
  }
});

test('ROC is the p-bar change as a fraction', () => {
  const r = I.roc(d.close, 10);
  assert.equal(I.firstValid(r), 10);
  for (let i = 10; i < d.bars; i++) assert.equal(r[i], (d.close[i]! - d.close[i - 10]!) / d.close[i - 10]!);
});

test('SMA restarts its window after a gap of undefined inputs; RSI is 50 or 100 when nothing falls', () => {
  const x = new Float64Array([NaN, 1, 2, 3, NaN, 4, 5, 6, 7]);
  assert.deepEqual(Array.from(I.sma(x, 2)).map((v) => (Number.isNaN(v) ? null : v)), [null, null, 1.5, 2.5, null, null, 4.5, 5.5, 6.5]);
  const flat = new Float64Array([5, 5, 5, 5, 5]);
  assert.equal(I.rsi(flat, 2)[4], 50);
  const rising = new Float64Array([1, 2, 3, 4, 5]);
  assert.equal(I.rsi(rising, 2)[4], 100);
});

test('a bad period is a clear error', () => {
  assert.throws(() => I.sma(d.close, 0), /period must be an integer ≥ 1, got 0/);
  assert.throws(() => I.ema(d.close, 2.5), /EMA: the period must be an integer/);
});

/** backtrader CrossOver the plain way, one bar at a time: the spec the fast loop must equal. */
function crossoverSpec(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length).fill(NaN);
  let nzd = NaN;
  for (let i = 0; i < a.length; i++) {
    const ai = a[i]!;
    const bi = b[i]!;
    if (Number.isNaN(ai) || Number.isNaN(bi)) {
      nzd = NaN;
      continue;
    }
    if (Number.isNaN(nzd)) {
      nzd = ai - bi;
      continue;
    }
    out[i] = (nzd < 0 && ai > bi ? 1 : 0) - (nzd > 0 && ai < bi ? 1 : 0);
    if (ai - bi !== 0) nzd = ai - bi;
  }
  return out;
}

test('crossover equals the bar-by-bar definition: ties, touching lines, NaN gaps, infinities, a zero seed', () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const n = 3000;
  let crosses = 0;
  for (let run = 0; run < 60; run++) {
    const a = new Float64Array(n);
    const b = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      // Coarse values so that ties and touches are frequent.
      a[i] = Math.round(rnd() * 8) / 4;
      b[i] = rnd() < 0.3 ? a[i]! : Math.round(rnd() * 8) / 4;
      const r = rnd();
      if (r < 0.01) a[i] = NaN;
      else if (r < 0.015) b[i] = NaN;
      else if (r < 0.02) a[i] = b[i] = Infinity;
      else if (r < 0.022) a[i] = -Infinity;
    }
    if (run % 3 === 0) for (let i = 0; i < 50; i++) a[i] = NaN; // a warm-up
    const want = crossoverSpec(a, b);
    const got = I.crossover(a, b);
    for (let i = 0; i < n; i++) assert.ok(Object.is(got[i], want[i]), `run ${run} bar ${i}: ${got[i]} != ${want[i]}`);
    // The scratch form writes every element (NaN too) and reports the first defined bar.
    const out = new Float64Array(n).fill(42);
    const first = I.crossoverInto(out, a, b);
    assert.deepEqual(out, want);
    assert.equal(first, I.firstValid(want));
    // The event list: every bar where the result is not 0 (NaN included), in order.
    const events = { at: new Float64Array(n), count: -1 };
    I.crossoverInto(out, a, b, events);
    const wantAt = [...want.keys()].filter((i) => want[i] !== 0);
    assert.deepEqual([...events.at.subarray(0, events.count)], wantAt);
    crosses += want.filter((x) => x !== 0 && x === x).length;
  }
  assert.ok(crosses > 1000, `${crosses}`);
});
