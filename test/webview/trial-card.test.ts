/**
 * The trial card with real re-runs (`optstudy trial`, as Open Trial runs it): per-bar equity
 * against buy-and-hold, the underwater plot, a second trial overlaid (Shift+double-click), the
 * trades. Headless Chromium, the built panel, the recorded quickstart run.
 * Screenshot: test/artifacts/webview-trial-detail.png.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import type { FromWebview } from '../../protocol/messages';
import { metricLabels } from '../../server/analysis/metric-labels';
import type { TrialEvent } from '../../protocol/run-events';
import { ARTIFACTS, canvasInk, launch, openPanel, readRecording, rerunTrial, ROOT, settle, settleHeavy, streamRun } from '../support/webview-page';

const QUICKSTART = path.join(ROOT, 'samples', 'quickstart.optstudy');
const quickstart = readRecording('quickstart.jsonl');
type Probes = Record<string, { points: number; series?: Record<string, number> }>;

let browser: Browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('a re-run trial draws per-bar equity, buy-and-hold and its drawdowns; a Shift+double-clicked trial is overlaid', async () => {
  const panel = await openPanel(browser, { width: 1100, height: 1000 });
  try {
    await panel.setTheme('light');
    const model = await streamRun(panel, quickstart, 60, 'run-q');
    // The run host's analysis labels metrics with their units ("Total return (%)"), as it does live.
    const snap = model.snapshot()!;
    const metricInfo = metricLabels(snap.tables.metrics);
    await panel.send({ type: 'delta', delta: { id: 'run-q', header: snap.header, newParams: [], newMetrics: [], trials: [], analysis: { ...(snap.analysis ?? { trials: 0, importance: [] }), metricInfo } } });
    await settleHeavy(panel);
    const rows = panel.page.locator('table.trials tbody tr[data-n]');
    const n = Number(await rows.nth(0).getAttribute('data-n'));
    const m = Number(await rows.nth(4).getAttribute('data-n'));
    const paramsOf = (k: number) => quickstart.find((e): e is TrialEvent => e.type === 'trial' && e.number === k)!.params;
    await rows.nth(0).dblclick();
    const open = (await panel.posted()).filter((x): x is Extract<FromWebview, { type: 'openTrial' }> => x.type === 'openTrial');
    assert.equal(open.length, 1);
    assert.equal(open[0]!.runId, 'run-q');
    assert.match(await panel.page.locator('#detail').innerText(), /Running the backtest/);
    const detail = rerunTrial(QUICKSTART, n, paramsOf(n), 'run-q');
    assert.ok(detail.equity.length > 1000 && !detail.equityFromTrades, 'optstudy trial reports equity per bar');
    assert.equal(detail.benchmark?.length, detail.equity.length);
    await panel.send({ type: 'trialDetail', detail });
    await settle(panel.page);
    let probes = await panel.page.evaluate(() => (window as unknown as { __optstudyProbes: Probes }).__optstudyProbes);
    assert.equal(probes['equity']?.series?.[`trial #${n}`], detail.equity.length);
    assert.equal(probes['equity']?.series?.['buy and hold'], detail.benchmark!.length);
    assert.equal(probes['underwater']?.series?.[`trial #${n}`], detail.equity.length);
    // Each unit shown once: "Total return %", never "Total return (%) %".
    const shown = `${await panel.page.locator('#detail').innerText()}\n${await panel.page.locator('table.trials thead').innerText()}`;
    assert.match(shown, /Total return %/);
    assert.doesNotMatch(shown, /\((%|bars)\)\s*(%|bars)/, 'a unit shown twice');
    const ink = await canvasInk(panel.page);
    assert.ok((ink['detail'] ?? 0) > 2000, 'the trial card\'s charts are blank');
    // Overlay a second trial.
    await rows.nth(4).dblclick({ modifiers: ['Shift'] });
    const overlay = (await panel.posted()).filter((x): x is Extract<FromWebview, { type: 'openTrial' }> => x.type === 'openTrial').at(-1)!;
    assert.equal(overlay.n, m);
    assert.equal(overlay.intent, 'overlay');
    await panel.send({ type: 'trialDetail', detail: rerunTrial(QUICKSTART, m, paramsOf(m), 'run-q', 'overlay') });
    await settle(panel.page);
    probes = await panel.page.evaluate(() => (window as unknown as { __optstudyProbes: Probes }).__optstudyProbes);
    assert.ok((probes['equity']?.series?.[`trial #${m}`] ?? 0) > 1000, `overlay missing: ${JSON.stringify(probes['equity']?.series)}`);
    assert.match(await panel.page.locator('#detail h2').innerText(), new RegExp(`#${n}\\b`), 'the overlay replaced the trial shown');
    assert.ok((await panel.page.locator('#detail table.trades tbody tr').count()) > 3);
    await panel.page.locator('#detail').screenshot({ path: path.join(ARTIFACTS, 'webview-trial-detail.png') });
    assert.deepEqual(await panel.problems(), []);
  } finally {
    await panel.close();
  }
});

test('a basket trial lists its metrics per symbol', async () => {
  // No basket producer yet: each symbol's metrics come from a real backtest of that symbol alone.
  const panel = await openPanel(browser, { width: 1100, height: 1000 });
  try {
    await streamRun(panel, quickstart, 60, 'run-basket');
    await settleHeavy(panel);
    const row = panel.page.locator('table.trials tbody tr[data-n]').nth(0);
    const n = Number(await row.getAttribute('data-n'));
    const params = quickstart.find((e): e is TrialEvent => e.type === 'trial' && e.number === n)!.params;
    await row.dblclick();
    const symbols = ['orcl-1995-2014.txt', 'yhoo-1996-2014.txt'].map((file) => {
      const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'backtest', '--data', path.join(ROOT, 'samples', 'data', file), '--strategy', 'sma_cross', '--from', '2005-01-01', '--to', '2014-12-31', ...Object.entries(params).flatMap(([k, v]) => ['--param', `${k}=${v}`]), '--json'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return { symbol: file.split('-')[0]!.toUpperCase(), metrics: (JSON.parse(r.stdout) as { metrics: Record<string, number | null> }).metrics };
    });
    const detail = { ...rerunTrial(QUICKSTART, n, params, 'run-basket'), symbols };
    await panel.send({ type: 'trialDetail', detail });
    await settle(panel.page);
    const table = await panel.page.locator('#detail table.symbols').innerText();
    assert.match(table, /ORCL/);
    assert.match(table, /YHOO/);
    assert.match(table, /Return %/);
    const ret = (symbols[1]!.metrics['total_return_pct'] as number);
    assert.ok(table.includes(String(Number(ret.toPrecision(4)))), `YHOO's return ${ret} missing: ${table}`);
    assert.deepEqual(await panel.problems(), []);
  } finally {
    await panel.close();
  }
});
