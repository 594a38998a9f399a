/**
 * PSR/DSR against the published worked example, PBO by CSCV on synthetic strategies whose
 * overfitting is known by construction, and the trade bootstrap.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bootstrapTrades, combinations, deflatedSharpe, expectedMaxSharpe, normCdf, probabilisticSharpe, probabilityOfBacktestOverfitting, seededRandom, sharpeOf,
} from '../../server/analysis';

test('DSR reproduces the numerical example of Bailey & López de Prado (2014)', () => {
  // The paper: 100 trials, annualized variance of the trials' Sharpe ratios 1/2, best annualized
  // SR 2.5 over 5 years of daily returns (T = 1250), skewness −3, kurtosis 10.
  // Published: SR0 ≈ 0.1132 (non-annualized) and DSR ≈ 0.9004.
  const d = deflatedSharpe({ sharpe: 2.5 / Math.sqrt(250), observations: 1250, trials: 100, sharpeVariance: 0.5 / 250, skew: -3, kurtosis: 10 });
  assert.ok(Math.abs(d.sr0 - 0.1132) < 5e-5, `SR0 ${d.sr0}`);
  assert.ok(Math.abs(d.dsr - 0.9004) < 5e-5, `DSR ${d.dsr}`);
  // More trials raise the bar and lower the DSR.
  const more = deflatedSharpe({ sharpe: 2.5 / Math.sqrt(250), observations: 1250, trials: 1000, sharpeVariance: 0.5 / 250, skew: -3, kurtosis: 10 });
  assert.ok(more.sr0 > d.sr0 && more.dsr < d.dsr);
});

test('PSR: the DSR is the PSR at SR0, and normal returns reduce to the textbook form', () => {
  const sr = 2.5 / Math.sqrt(250);
  const sr0 = expectedMaxSharpe(100, 0.5 / 250);
  assert.equal(probabilisticSharpe(sr, 1250, -3, 10, sr0), deflatedSharpe({ sharpe: sr, observations: 1250, trials: 100, sharpeVariance: 0.5 / 250, skew: -3, kurtosis: 10 }).dsr);
  // Skew 0, kurtosis 3: Φ(SR·√(T−1)/√(1 + SR²/2)); here SR 0.1 over 250 observations.
  const expect = normCdf((0.1 * Math.sqrt(249)) / Math.sqrt(1 + 0.005));
  assert.ok(Math.abs(probabilisticSharpe(0.1, 250) - expect) < 1e-15);
  assert.ok(Math.abs(probabilisticSharpe(0.1, 250) - 0.942261266719699) < 1e-12, 'scipy: norm.cdf(0.1·√249/√1.005)');
  // Negative skew and fat tails widen the error band, so the PSR falls.
  assert.ok(probabilisticSharpe(0.1, 250, -1, 6) < probabilisticSharpe(0.1, 250));
  assert.equal(expectedMaxSharpe(1, 1), 0, 'one trial: no selection bias');
});

/** T×N matrix of i.i.d. normal returns (Box–Muller over a seeded PRNG), plus column `edge` means. */
function returnsMatrix(T: number, N: number, seed: number, mean: (n: number) => number, sd = 0.01): number[][] {
  const r = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  return Array.from({ length: T }, () => Array.from({ length: N }, (_, n) => mean(n) + sd * gauss()));
}

test('PBO of pure noise strategies is about one half', () => {
  const pbos = [1, 2, 3].map((seed) => probabilityOfBacktestOverfitting(returnsMatrix(1600, 20, seed, () => 0), 12).pbo);
  const avg = pbos.reduce((a, b) => a + b, 0) / pbos.length;
  assert.ok(avg > 0.3 && avg < 0.7, `noise PBO ${pbos.join(', ')}`);
});

test('PBO is near zero when one strategy is truly better', () => {
  const r = probabilityOfBacktestOverfitting(returnsMatrix(1600, 20, 4, (n) => (n === 7 ? 0.004 : 0)), 16);
  assert.equal(r.combinations, 12870, 'C(16, 8) splits');
  assert.ok(r.pbo < 0.02, `PBO ${r.pbo}`);
  assert.ok(r.probabilityOfLoss < 0.02);
});

test('PBO is high when in-sample winners are built to lose out of sample', () => {
  // Each strategy earns in some blocks and gives it back in the others, so whatever looks best
  // on one half of the blocks is, by construction, worse on the other half.
  const T = 1600;
  const S = 8;
  const N = 16;
  const rand = seededRandom(9);
  const rows: number[][] = [];
  for (let t = 0; t < T; t++) {
    const block = Math.floor((t * S) / T);
    rows.push(Array.from({ length: N }, (_, n) => ((n >> block % 4) & 1 ? 0.002 : -0.002) * (block < 4 ? 1 : -1) + 0.01 * (rand() - 0.5)));
  }
  const r = probabilityOfBacktestOverfitting(rows, S);
  assert.ok(r.pbo > 0.6, `PBO ${r.pbo}`);
  assert.ok(r.degradationSlope !== null && r.degradationSlope < 0, 'IS performance does not carry over');
});

test('CSCV rejects odd partitions and too few observations with clear messages', () => {
  assert.throws(() => probabilityOfBacktestOverfitting(returnsMatrix(100, 3, 1, () => 0), 5), /even number of partitions/);
  assert.throws(() => probabilityOfBacktestOverfitting(returnsMatrix(10, 3, 1, () => 0), 16), /at least 32 observations/);
  assert.equal([...combinations(4, 2)].length, 6);
});

test('trade bootstrap: seeded, ordered percentiles, and the actual order’s drawdown', () => {
  const pnls = [500, -300, 800, -1200, 400, 300, -200, 900, -700, 600];
  const a = bootstrapTrades(pnls, 10000, { iterations: 2000, seed: 5 });
  const b = bootstrapTrades(pnls, 10000, { iterations: 2000, seed: 5 });
  assert.deepEqual(a, b, 'same seed, same result');
  const p = a.maxDrawdownPct;
  assert.ok(p.p5 <= p.p25 && p.p25 <= p.p50 && p.p50 <= p.p75 && p.p75 <= p.p95);
  // Real order: peak 10000+500=10500 → 10200 → 11000 → 9800 (−1200 from 11000 = 10.909 %).
  assert.ok(Math.abs(a.actualMaxDrawdownPct - (1200 / 11000) * 100) < 1e-12);
  // Every resample has the same number of trades drawn from these P&Ls; the final value's median sits near cash + sum.
  const sum = pnls.reduce((x, y) => x + y, 0);
  assert.ok(Math.abs(a.finalValue.p50 - (10000 + sum)) < 800);
  assert.ok(a.probabilityOfLoss > 0 && a.probabilityOfLoss < 0.5);
  assert.throws(() => bootstrapTrades([], 1000), /at least one closed trade/);
});

test('sharpeOf is mean over sample std', () => {
  assert.ok(Math.abs(sharpeOf([0.01, 0.02, 0.03])! - 0.02 / 0.01) < 1e-12);
  assert.equal(sharpeOf([0.01, 0.01]), null);
});

test('trade bootstrap in returns mode compounds, never loses more than everything, and replays the real order exactly', () => {
  const pnls = [5000, -9000, 3000, -7000, 8000, -6000, 2000];
  const byPnl = bootstrapTrades(pnls, 10000, { iterations: 3000, seed: 8 });
  const byRet = bootstrapTrades(pnls, 10000, { iterations: 3000, seed: 8, mode: 'returns' });
  assert.equal(byRet.mode, 'returns');
  // In the real order both modes walk the same closed-trade equity.
  assert.ok(Math.abs(byRet.actualMaxDrawdownPct - byPnl.actualMaxDrawdownPct) < 1e-9);
  assert.ok(byRet.maxDrawdownPct.p95 < 100 && byRet.finalValue.p5 > 0, 'compounded returns never go through zero here');
  assert.ok(byPnl.maxDrawdownPct.p95 === 100, 'adding money P&Ls can ruin the account: capped at 100 %');
});
