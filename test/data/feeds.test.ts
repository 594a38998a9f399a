/**
 * Several feeds and baskets on real price files (samples/data): a basket trial's per-symbol
 * metrics are the separate single-symbol backtests bit for bit, its own metrics are those of the
 * summed account, and studies with several feeds, a basket, or a file read through the options
 * block run end to end through runStudy and the real worker pool.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { basketClock, basketRecord, runBasket, splitSymbolMetrics, symbolKey, symbolNames } from '../../server/data/basket';
import { loadPrices, type PriceData } from '../../server/data';
import { runBacktest } from '../../server/engine';
import { runStudy } from '../../server/run/run-study';
import { replayTrial } from '../../server/analysis/replay';
import { parseTrial } from '../../client/trial-detail';
import { buildReport, reportHtml, reportText } from '../../server/report';
import { fmt } from '../../server/report/text';
import { collector, sampleData, tempStudy } from '../support/run-fixtures';

const CONFIG = { cash: 100000, commission: 0.001, sizing: { kind: 'percent' as const, value: 95 } };
const FILES = ['orcl-1995-2014.txt', 'yhoo-1996-2014.txt', 'nvda-1999-2014.txt'];
const RANGE = { from: '2005-01-01', to: '2014-12-31' };
const load = (f: string, range: { from?: string; to?: string } = RANGE): PriceData => loadPrices(sampleData(f), range);

test('symbol names: file names without folders and extensions, made unique', () => {
  assert.deepEqual(symbolNames(['/d/orcl-1995-2014.txt', 'x/SPY.csv.gz', 'y/SPY.csv', 'z/a.parquet']), ['orcl-1995-2014', 'SPY', 'SPY-2', 'a']);
});

test('a basket trial: per-symbol metrics are the single-symbol backtests bit for bit; the basket is the summed account', () => {
  // YHOO from 2006 and NVDA from 2007: a misaligned start, so the clock is the union.
  const datas = [load(FILES[0]!), load(FILES[1]!, { from: '2006-01-01', to: RANGE.to }), load(FILES[2]!, { from: '2007-01-01', to: RANGE.to })];
  const clock = basketClock(datas);
  assert.equal(clock.ticks, datas[0]!.bars, 'ORCL covers every day of the others');
  const params = { fast: 20, slow: 50 };
  const m = runBasket(datas, clock, 'sma_cross', params, CONFIG);
  const alone = datas.map((d) => runBacktest(d, 'sma_cross', params, CONFIG, { equity: true, trades: true }));
  const { metrics, symbols } = splitSymbolMetrics(m, ['orcl', 'yhoo', 'nvda']);
  assert.deepEqual(symbols!.map((s) => s.symbol), ['orcl', 'yhoo', 'nvda']);
  symbols!.forEach((s, i) => assert.deepEqual(s.metrics, alone[i]!.metrics, `symbol ${i}`));
  // The summed account: every symbol's final value, its trades, its starting cash.
  const sum = (k: string): number => alone.reduce((a, r) => a + (r.metrics[k] as number), 0);
  assert.equal(metrics.final_value, alone.reduce((a, r) => a + r.equity![r.equity!.length - 1]!, 0));
  assert.equal(metrics.trades_closed, sum('trades_closed'));
  assert.equal(metrics.trades_open, sum('trades_open'));
  assert.equal(metrics.bars, clock.ticks);
  assert.ok(Math.abs((metrics.total_return_pct as number) - (100 * ((metrics.final_value as number) - 300000)) / 300000) < 1e-9);
  // Before a symbol's first bar its account holds its starting cash.
  const rec = basketRecord(alone, clock, datas, CONFIG);
  const firstNvda = clock.at[2]!.indexOf(0);
  assert.ok(firstNvda > 0);
  assert.equal(rec.values[firstNvda - 1], alone[0]!.equity![firstNvda - 1]! + alone[1]!.equity![clock.at[1]![firstNvda - 1]!]! + 100000);
  // Keys of per-symbol metrics never collide with the basket's own.
  assert.equal(m[symbolKey(1, 'sharpe')], alone[1]!.metrics.sharpe);
  assert.equal(metrics[symbolKey(1, 'sharpe')], undefined);
});

test('a study with several feeds runs the multi-feed strategy over all of them (runStudy, real pool)', async () => {
  const dir = tempStudy({
    's.optstudy': `study "rotation" {
  data ["${FILES[0]}", "${FILES[1]}", "${FILES[2]}"] from 2005-01-01 to 2014-12-31
  cash 100000
  commission 0.1%
  sizing percent 95
  strategy momentum_rotation
  objective maximize sharpe
  stage "g" {
    search grid
    param lookback in [20, 60]
    param rebalance in [10, 20]
  }
}
`,
  });
  const c = collector();
  const end = await runStudy({ file: path.join(dir, 's.optstudy'), workers: 2, out: path.join(dir, 'run') }, c.onEvent, new AbortController().signal);
  assert.equal(end.status, 'finished');
  const trials = c.trials();
  assert.equal(trials.length, 4);
  const datas = FILES.map((f) => load(f));
  for (const t of trials) {
    const direct = runBacktest(datas, 'momentum_rotation', { ...t.params, top: 1 }, CONFIG, { trades: false });
    assert.deepEqual(t.metrics, direct.metrics, `trial ${t.number}`);
    assert.equal(t.symbols, undefined);
  }
  // The Trial card's re-run: the same metrics, equity per tick of the union clock.
  const best = trials[0]!;
  const r = await replayTrial({ file: path.join(dir, 's.optstudy'), params: best.params });
  assert.deepEqual(r.metrics, best.metrics);
  assert.equal(r.equity.values.length, r.equity.dates.length);
  assert.equal(r.equity.values.at(-1), best.metrics.final_value);
  assert.equal(r.equity.dates[0], '2005-01-03');
  assert.equal(r.symbols, undefined);
  // The journal names the three files' content.
  const header = JSON.parse(readFileSync(path.join(dir, 'run', 'journal.jsonl'), 'utf8').split('\n')[0]!) as { dataHash: string };
  assert.equal(header.dataHash, datas.map((d) => d.id).join('+'));
});

test('a basket study: one backtest per symbol per trial, objectives over the symbols, resumable', async () => {
  const dir = tempStudy({
    's.optstudy': `study "basket" {
  data basket ["${FILES[0]}", "${FILES[1]}", "${FILES[2]}"] from 2005-01-01 to 2014-12-31
  cash 100000
  commission 0.1%
  sizing percent 95
  strategy sma_cross
  objective maximize mean(sharpe)
  constraint min(trades) >= 10
  stage "g" {
    search grid
    param fast in [10, 30]
    param slow in [50, 150]
  }
}
`,
  });
  const c = collector();
  const file = path.join(dir, 's.optstudy');
  const end = await runStudy({ file, workers: 2, out: path.join(dir, 'run') }, c.onEvent, new AbortController().signal);
  assert.equal(end.status, 'finished');
  const trials = c.trials();
  assert.equal(trials.length, 4);
  const datas = FILES.map((f) => load(f));
  for (const t of trials) {
    assert.deepEqual(t.symbols!.map((s) => s.symbol), ['orcl-1995-2014', 'yhoo-1996-2014', 'nvda-1999-2014']);
    const alone = datas.map((d) => runBacktest(d, 'sma_cross', t.params, CONFIG, { trades: false }).metrics);
    t.symbols!.forEach((s, i) => assert.deepEqual(s.metrics, alone[i], `trial ${t.number} symbol ${i}`));
    const sharpes = alone.map((m) => m.sharpe as number);
    const trades = Math.min(...alone.map((m) => m.trades as number));
    if (trades >= 10) {
      assert.equal(t.state, 'complete');
      assert.equal(t.score, (sharpes[0]! + sharpes[1]! + sharpes[2]!) / 3);
    } else assert.equal(t.state, 'infeasible', `trial ${t.number}: min(trades) = ${trades}`);
    assert.ok(!Object.keys(t.metrics).some((k) => k.includes('|')), 'per-symbol keys stay out of the basket metrics');
  }
  // The Trial card's re-run: the basket's metrics and score, each symbol's metrics and equity.
  const t0 = trials.find((t) => t.state === 'complete')!;
  const r = await replayTrial({ file, params: t0.params });
  assert.deepEqual(r.metrics, t0.metrics);
  assert.equal(r.score, t0.score);
  assert.deepEqual(r.symbols!.map((s) => [s.symbol, s.metrics]), t0.symbols!.map((s) => [s.symbol, s.metrics]));
  assert.equal(r.equity.values.at(-1), t0.metrics.final_value);
  r.symbols!.forEach((s, i) => assert.equal(s.equity.at(-1)!.value, t0.symbols![i]!.metrics.final_value));
  assert.equal(r.trades.length, t0.metrics.trades_closed);
  const detail = parseTrial({ n: t0.number }, t0.params, JSON.stringify(r));
  assert.deepEqual(detail.symbols!.map((s) => s.symbol), ['orcl-1995-2014', 'yhoo-1996-2014', 'nvda-1999-2014']);
  assert.equal(detail.symbols![2]!.equity!.length, datas[2]!.bars);
  // The report re-runs basket trials as the run did (no mismatch with the journal) and shows
  // the best trial's symbols.
  const report = await buildReport(path.join(dir, 'run'));
  assert.equal(report.reruns.available, true, report.reruns.reason);
  assert.deepEqual(report.reruns.mismatches, []);
  const text = reportText(report);
  const best = trials.find((t) => t.number === end.best!.number)!;
  for (const sym of best.symbols!) assert.match(text, new RegExp(`^${sym.symbol}  +${String(Number((sym.metrics.sharpe as number).toFixed(4)))}`, 'm'));
  // The HTML report: the best trial symbol by symbol, and each symbol's Sharpe beside every
  // ranked trial (the values of the journal's per-symbol backtests).
  const html = reportHtml(report);
  const section = (start: string) => html.slice(html.indexOf(start), html.indexOf('</table>', html.indexOf(start)));
  const bestTable = section('Best trial, symbol by symbol');
  for (const sym of best.symbols!) assert.ok(bestTable.includes(`<tr><td>${sym.symbol}</td><td class="num">${fmt(sym.metrics.sharpe)}</td>`), `${sym.symbol} in ${bestTable}`);
  const ranking = section('<section id="rankings">');
  assert.ok(best.symbols!.every((sym) => ranking.includes(`<th>${sym.symbol} sharpe</th>`)), ranking.slice(0, 600));
  const ranked = trials.filter((t) => t.state === 'complete');
  assert.ok(ranked.length >= 2);
  for (const t of ranked) {
    const cells = t.symbols!.map((sym) => `<td class="num">${fmt(sym.metrics.sharpe)}</td>`).join('');
    assert.ok(ranking.includes(`<td>${t.number}</td>`) && ranking.includes(cells), `trial ${t.number}: ${cells}`);
  }
  // Resuming a finished basket run reads the symbols back and runs nothing again.
  const again = collector();
  const end2 = await runStudy({ file, workers: 2, resume: path.join(dir, 'run') }, again.onEvent, new AbortController().signal);
  assert.equal(end2.status, 'finished');
  assert.deepEqual(end2.best?.score, end.best?.score);
});

test('a file read through the options block runs as the same file in the standard layout', async () => {
  // ORCL 2014 rewritten as a German export: other column names, day-first dates, semicolons.
  const lines = readFileSync(sampleData('orcl-2014.txt'), 'utf8').trim().split('\n').slice(1);
  const german = ['Datum;Eröffnung;Hoch;Tief;Schluss;Volumen']
    .concat(lines.map((l) => {
      const [d, o, h, lo, c, , v] = l.split(',');
      const [y, mo, da] = d!.split('-');
      return [`${da}.${mo}.${y}`, o, h, lo, c, v].join(';');
    }))
    .join('\n');
  const body = (data: string) => `study "s" {\n  ${data}\n  cash 100000\n  commission 0.1%\n  sizing percent 95\n  strategy sma_cross\n  objective maximize sharpe\n  stage "g" {\n    search grid\n    param fast in [5, 10]\n    param slow in [20, 30]\n  }\n}\n`;
  const dir = tempStudy({
    'de.optstudy': body('data "de.csv" { columns { date "Datum", open "Eröffnung", high "Hoch", low "Tief", close "Schluss", volume "Volumen" }, date_format "DD.MM.YYYY" }'),
    'plain.optstudy': body('data "orcl-2014.txt"'),
  });
  writeFileSync(path.join(dir, 'de.csv'), german);
  const run = async (name: string) => {
    const c = collector();
    const end = await runStudy({ file: path.join(dir, name), workers: 1, out: path.join(dir, `run-${name}`) }, c.onEvent, new AbortController().signal);
    assert.equal(end.status, 'finished', name);
    return c.trials().map((t) => t.metrics);
  };
  const de = await run('de.optstudy');
  assert.equal(de.length, 4);
  assert.deepEqual(de, await run('plain.optstudy'));
  // The report validates a run that ended without it (here: validate added afterwards) on the
  // file read as the study says, and gets the plain file's numbers.
  const validated = (name: string) => {
    const text = readFileSync(path.join(dir, name), 'utf8').replace('  stage "g"', '  validate holdout 30%\n  stage "g"');
    writeFileSync(path.join(dir, name), text);
    return buildReport(path.join(dir, `run-${name}`));
  };
  const [vde, vplain] = [await validated('de.optstudy'), await validated('plain.optstudy')];
  assert.equal(vde.validationNote, null);
  assert.equal(vde.validation.length, 1);
  assert.deepEqual(vde.validation, vplain.validation);
});
