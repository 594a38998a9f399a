/**
 * The Returns metrics (`returns_rtot`, `returns_ravg`, `returns_rnorm`, `returns_rnorm100`) of
 * computeMetrics against backtrader's arithmetic in Python (analyzers/returns.py: log of the
 * value ratio, over the bar count, expm1 of that times 252, times 100), on runs whose ratio is a
 * hard input for glibc's log or whose annualised return is one for its expm1. The engine's
 * previous correctly rounded log and Math.expm1 fail here.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { computeMetrics } from '../../server/engine/metrics';
import { glibcExpm1 } from '../../server/engine/glibc-expm1';
import { glibcLog } from '../../server/engine/glibc-log';
import { oracleSkipReason } from '../support/oracle-process';
import { rng } from '../support/fuzz';
import { HARD_LOG, pythonRows, randomDouble } from './libm-cases';

const KEYS = ['returns_rtot', 'returns_ravg', 'returns_rnorm', 'returns_rnorm100'] as const;

/** The metrics of a run of n daily bars whose value goes from cash0 to finalValue at the end. */
function returnsOf(finalValue: number, cash0: number, n: number): Record<string, number | null> {
  const values = new Float64Array(n).fill(cash0);
  values[n - 1] = finalValue;
  const dates = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const d = new Date(Date.UTC(2001, 0, 2 + i));
    dates[i] = d.getUTCFullYear() * 10000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
  }
  const none = new Float64Array(0);
  return computeMetrics({ values, dates, intraday: false, annual: 252.0, bars: n, cash0, finalCash: finalValue, endPositionSize: 0, endPositionPrice: 0, pnl: none, pnlcomm: none, closed: 0, long: 0, short: 0, rejected: 0, barsInMarket: 0, openTrades: 0 });
}

const noPython = oracleSkipReason();

test("returns_* equal backtrader's Returns arithmetic in Python, bit for bit, where glibc's log and expm1 are hard", { skip: noPython }, async () => {
  const r = rng(20261206);
  const bars = (): number => 20 + Math.floor(r() * 5000);
  const rows: number[][] = [];
  // Ratios where glibc's log is not correctly rounded (cash 2^16: the ratio is exactly x).
  for (const x of HARD_LOG) rows.push([x * 65536, 65536, bars()]);
  // Annualised returns where Math.expm1 parts from glibc's expm1.
  let expm1Hard = 0;
  while (expm1Hard < 40) {
    const [v, c, n] = [randomDouble(r, 15, 18), 100000, bars()];
    const x = (glibcLog(v / c) / n) * 252.0;
    if (Math.expm1(x) !== glibcExpm1(x)) (rows.push([v, c, n]), expm1Hard++);
  }
  // And ordinary runs.
  for (let i = 0; i < 2000; i++) rows.push([randomDouble(r, 12, 20), [100000, 10000, 25000][i % 3]!, bars()]);
  const def = [
    'def f(a):',
    '  v, c, n = a[0], a[1], int(a[2])',
    '  rtot = math.log(v / c)',
    '  ravg = rtot / n',
    '  rnorm = math.expm1(ravg * 252.0)',
    '  return (rtot, ravg, rnorm, rnorm * 100.0, cr_log(v / c))',
  ].join('\n');
  const want = await pythonRows(def, rows);
  const wrong: string[] = [];
  let oldWrong = 0;
  rows.forEach(([v, c, n], i) => {
    const got = returnsOf(v!, c!, n!);
    const w = want[i]!;
    KEYS.forEach((k, j) => {
      if (!Object.is(got[k], w[j])) wrong.push(`${v}/${c} over ${n} bars: ${k} ${got[k]} != ${w[j]}`);
    });
    // What the engine computed before: a correctly rounded log, then Math.expm1.
    const ravg = w[4]! / n!;
    const rnorm = Math.expm1(ravg * 252.0);
    if (w[4] !== w[0] || ravg !== w[1] || rnorm !== w[2] || rnorm * 100.0 !== w[3]) oldWrong++;
  });
  assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} values differ`);
  assert.ok(oldWrong >= HARD_LOG.length + 30, `the old log and expm1 would have failed on only ${oldWrong} runs`);
});
