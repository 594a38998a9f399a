/**
 * The results panel in headless Chromium, fed recorded real runs through the extension's own
 * run model (client/run-model.ts): every chart draws, the table sorts, a row click posts the
 * right message, the panel follows dark/light/high-contrast themes, keeps its view across a
 * reload, and breaks no CSP rule. Screenshots go to test/artifacts/webview-*.png.
 */
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { RunModel } from '../../client/run-model';
import type { FromWebview } from '../../protocol/messages';
import type { TrialEvent } from '../../protocol/run-events';
import { ARTIFACTS, canvasInk, launch, openPanel, readRecording, rerunTrial as rerun, ROOT, settle, settleHeavy, streamRun as stream, type PanelPage } from '../support/webview-page';

mkdirSync(ARTIFACTS, { recursive: true });

let browser: Browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const quickstart = readRecording('quickstart.jsonl');
const rerunTrial = (n: number, params: TrialEvent['params']) => rerun(path.join(ROOT, 'samples', 'quickstart.optstudy'), n, params);
const trials = quickstart.filter((e): e is TrialEvent => e.type === 'trial');

describe('results panel, single objective (recorded quickstart run)', () => {
  let panel: PanelPage;
  before(async () => {
    panel = await openPanel(browser);
    await panel.setTheme('dark');
    await stream(panel, quickstart, 25);
    await settleHeavy(panel);
  });
  after(async () => {
    await panel.close();
  });

  test('the header shows the study, the final state and the trial count', async () => {
    const text = await panel.page.locator('.run-header').innerText();
    const start = quickstart[0]!;
    assert.equal(start.type, 'start');
    assert.match(text, new RegExp(start.type === 'start' ? start.study : ''));
    assert.match(text, /finished/);
    assert.match(text, new RegExp(`${trials.length.toLocaleString('en-US')} / `));
  });

  test('every chart draws (non-blank canvases)', async () => {
    const ink = await canvasInk(panel.page);
    for (const id of ['history', 'importance', 'heatmap', 'parallel']) {
      assert.ok((ink[id] ?? 0) > 500, `${id} canvas is blank (${ink[id] ?? 'missing'} inked pixels)`);
    }
    // The history holds exactly the complete trials.
    const probes = await panel.page.evaluate(() => (window as unknown as { __optstudyProbes: Record<string, { points: number }> }).__optstudyProbes);
    const complete = trials.filter((t) => t.state === 'complete').length;
    const infeasible = trials.filter((t) => t.state === 'infeasible' && t.score !== null).length;
    assert.ok(probes['history']!.points >= complete + infeasible, `history has ${probes['history']!.points} points, expected ≥ ${complete + infeasible}`);
  });

  test('the ranking is sorted best first and re-sorts by a metric', async () => {
    const colValues = async (key: string) => {
      const idx = await panel.page.evaluate((k) => [...document.querySelectorAll('table.trials tr.names th')].findIndex((th) => (th as HTMLElement).dataset['key'] === k), key);
      assert.ok(idx >= 0, `no column ${key}`);
      return panel.page.evaluate((i) => [...document.querySelectorAll('table.trials tbody tr[data-n]')].map((tr) => Number((tr.children[i] as HTMLElement).innerText.replace(/,/g, ''))).filter((v) => Number.isFinite(v)), idx);
    };
    const scores = await colValues('score');
    assert.ok(scores.length > 5);
    const bestScore = Math.max(...trials.filter((t) => t.state === 'complete').map((t) => t.score as number));
    assert.ok(Math.abs(scores[0]! - bestScore) <= Math.abs(bestScore) * 1e-3, `first row ${scores[0]} is not the best score ${bestScore}`);
    for (let i = 1; i < scores.length; i++) assert.ok(scores[i - 1]! >= scores[i]!, `scores not descending at row ${i}`);
    await panel.page.click('table.trials th[data-key="metric:trades"]');
    await settle(panel.page);
    const tradesDesc = await colValues('metric:trades');
    for (let i = 1; i < tradesDesc.length; i++) assert.ok(tradesDesc[i - 1]! >= tradesDesc[i]!, 'trades not descending');
    await panel.page.click('table.trials th[data-key="metric:trades"]');
    await settle(panel.page);
    const tradesAsc = await colValues('metric:trades');
    for (let i = 1; i < tradesAsc.length; i++) assert.ok(tradesAsc[i - 1]! <= tradesAsc[i]!, 'trades not ascending after a second click');
    const state = await panel.page.evaluate(() => (window as unknown as { __state: { sortKey: string; sortDesc: boolean } }).__state);
    assert.equal(state.sortKey, 'metric:trades');
    assert.equal(state.sortDesc, false);
    await panel.page.click('table.trials th[data-key="score"]');
    await settle(panel.page);
  });

  test('double-clicking a row posts openTrial with that trial, and its detail draws; Apply posts its parameters', async () => {
    const row = panel.page.locator('table.trials tbody tr[data-n]').nth(2);
    const n = Number(await row.getAttribute('data-n'));
    await row.dblclick();
    const posted = await panel.posted();
    const open = posted.filter((m): m is Extract<FromWebview, { type: 'openTrial' }> => m.type === 'openTrial').at(-1);
    const trial = trials.find((t) => t.number === n)!;
    assert.ok(open, 'no openTrial message');
    assert.equal(open.n, n);
    assert.deepEqual(open.params, trial.params);
    assert.equal(open.stage, trial.stage);
    // The extension answers with the re-run trial (the real CLI backtest); the equity curve draws from it.
    const detail = rerunTrial(n, trial.params);
    assert.equal(detail.error, undefined);
    assert.ok(detail.trades.length > 0);
    await panel.send({ type: 'trialDetail', detail });
    await settle(panel.page);
    assert.equal(await panel.page.locator('#detail').isVisible(), true);
    const ink = await canvasInk(panel.page);
    assert.ok((ink['detail'] ?? 0) > 200, 'equity curve is blank');
    await panel.page.locator('#detail vscode-button', { hasText: 'Apply to study' }).click();
    const apply = (await panel.posted()).filter((m) => m.type === 'applyParams').at(-1);
    assert.deepEqual(apply, { type: 'applyParams', params: trial.params, n, which: 'trial' });
  });

  for (const theme of ['dark', 'light', 'high-contrast'] as const) {
    test(`${theme} theme: redrawn in the theme's colours, screenshot`, async () => {
      await panel.setTheme(theme);
      await settleHeavy(panel);
      const colors = await panel.page.evaluate(() => ({
        body: getComputedStyle(document.body).backgroundColor,
        fg: getComputedStyle(document.body).color,
      }));
      const expected = { dark: 'rgb(31, 31, 31)', light: 'rgb(255, 255, 255)', 'high-contrast': 'rgb(0, 0, 0)' }[theme];
      assert.equal(colors.body, expected);
      // The Chart.js defaults follow the theme (read at draw time).
      const chartColor = await panel.page.evaluate(() => {
        const c = document.querySelector('#history canvas') as HTMLCanvasElement;
        const ctx = c.getContext('2d')!;
        return ctx.fillStyle;
      });
      assert.ok(chartColor, 'history chart missing');
      const ink = await canvasInk(panel.page);
      for (const id of ['history', 'importance', 'heatmap', 'parallel']) assert.ok((ink[id] ?? 0) > 500, `${id} blank in ${theme}`);
      await panel.page.evaluate(() => window.scrollTo(0, 0));
      await panel.page.screenshot({ path: path.join(ARTIFACTS, `webview-${theme}.png`), fullPage: true });
    });
  }

  test('importance comes from the run\'s analysis; the robustness section shows the plateau', async () => {
    assert.match(await panel.page.locator('#importance .note').innerText(), /From the run's analysis/);
    const analysis = quickstart.filter((e) => e.type === 'analysis').at(-1);
    if (analysis?.type === 'analysis' && analysis.snapshot.plateau?.length) {
      assert.equal(await panel.page.locator('#robustness').isVisible(), true);
      const rows = await panel.page.locator('#robustness table.plateau tbody tr').count();
      assert.equal(rows, Math.min(10, analysis.snapshot.plateau.length));
    }
  });

  test('no CSP violation, no script error', async () => {
    assert.deepEqual(await panel.problems(), []);
  });
});

describe('results panel, two stages (recorded run)', () => {
  test('the stage summary lists both stages with their bests', async () => {
    const events = readRecording('ema-atr-staged.jsonl');
    const panel = await openPanel(browser);
    await panel.setTheme('light');
    await stream(panel, events, 10, 'run-staged');
    await settleHeavy(panel);
    const stages = events.filter((e) => e.type === 'stage');
    const rows = await panel.page.locator('#stages tbody tr').allInnerTexts();
    assert.equal(rows.length, stages.length);
    stages.forEach((st, i) => {
      assert.ok(st.type === 'stage');
      assert.match(rows[i]!, new RegExp(st.name));
      assert.match(rows[i]!, /done/);
    });
    const ink = await canvasInk(panel.page);
    for (const id of ['history', 'importance', 'parallel']) assert.ok((ink[id] ?? 0) > 500, `${id} blank`);
    await panel.page.evaluate(() => window.scrollTo(0, 0));
    await panel.page.screenshot({ path: path.join(ARTIFACTS, 'webview-staged.png'), fullPage: true });
    assert.deepEqual(await panel.problems(), []);
    await panel.close();
  });
});

describe('results panel, several objectives (recorded run)', () => {
  test('the Pareto scatter draws with its front highlighted', async () => {
    const events = readRecording('multi-objective.jsonl');
    const panel = await openPanel(browser);
    await panel.setTheme('dark');
    await stream(panel, events, 40, 'run-multi');
    await settleHeavy(panel);
    assert.equal(await panel.page.locator('#pareto').isVisible(), true);
    const ink = await canvasInk(panel.page);
    assert.ok((ink['pareto'] ?? 0) > 500, 'Pareto canvas blank');
    const probes = await panel.page.evaluate(() => (window as unknown as { __optstudyProbes: Record<string, { points: number }> }).__optstudyProbes);
    assert.ok(probes['pareto']!.points > 0);
    await panel.page.screenshot({ path: path.join(ARTIFACTS, 'webview-pareto.png'), fullPage: true });
    assert.deepEqual(await panel.problems(), []);
    await panel.close();
  });
});

describe('results panel lifecycle', () => {
  test('a reloaded panel asks for a snapshot and restores its view state', async () => {
    const panel = await openPanel(browser, { state: { sortKey: 'metric:trades', sortDesc: true, selected: undefined } });
    await panel.setTheme('light');
    const posted = await panel.posted();
    assert.equal(posted[0]!.type, 'ready');
    const model = new RunModel('run-2');
    for (const e of quickstart) model.apply(e);
    await panel.send({ type: 'snapshot', run: model.snapshot() });
    await settle(panel.page);
    const sorted = await panel.page.locator('table.trials th.sorted').getAttribute('data-key');
    assert.equal(sorted, 'metric:trades');
    await panel.close();
  });

  test('a delta for another run makes the panel ask for a fresh snapshot', async () => {
    const panel = await openPanel(browser);
    const model = new RunModel('run-a');
    model.apply(quickstart[0]!);
    await panel.send({ type: 'snapshot', run: model.snapshot() });
    const other = new RunModel('run-b');
    for (const e of quickstart.slice(0, 10)) other.apply(e);
    await panel.send({ type: 'delta', delta: other.takeDelta()! });
    const posted = await panel.posted();
    assert.equal(posted.filter((m) => m.type === 'ready').length, 2);
    await panel.close();
  });

  test('an empty panel says how to start a run; a running one shows Cancel', async () => {
    const panel = await openPanel(browser, { width: 700, height: 500 });
    await panel.setTheme('dark');
    await panel.send({ type: 'snapshot', run: null });
    await settle(panel.page);
    assert.match(await panel.page.locator('.empty').innerText(), /Run Study/);
    const model = new RunModel('run-live');
    for (const e of quickstart.slice(0, Math.floor(quickstart.length / 2))) model.apply(e);
    await panel.send({ type: 'snapshot', run: model.snapshot() });
    await settleHeavy(panel);
    assert.equal(await panel.page.locator('vscode-button', { hasText: 'Cancel' }).isVisible(), true);
    await panel.page.locator('vscode-button', { hasText: 'Cancel' }).click();
    assert.ok((await panel.posted()).some((m) => m.type === 'cancel'));
    await panel.page.screenshot({ path: path.join(ARTIFACTS, 'webview-running-narrow.png'), fullPage: true });
    assert.deepEqual(await panel.problems(), []);
    await panel.close();
  });
});
