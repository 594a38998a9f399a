/**
 * Opening a trial and switching runs (#19 defects 1 and 6, and the scroll position of item 12),
 * in headless Chromium against the built panel, with real recorded runs and real re-run trials.
 * The extension's host re-sends the whole panel state when a trial opens (ResultsPanel.show);
 * the panel must not answer that by opening the trial again.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import type { FromWebview } from '../../protocol/messages';
import type { TrialEvent } from '../../protocol/run-events';
import { launch, openPanel, readRecording, rerunTrial, ROOT, settle, settleHeavy, streamRun } from '../support/webview-page';

const QUICKSTART = path.join(ROOT, 'samples', 'quickstart.optstudy');
const quickstart = readRecording('quickstart.jsonl');
const staged = readRecording('ema-atr-staged.jsonl');
const openTrials = (posted: FromWebview[]) => posted.filter((m): m is Extract<FromWebview, { type: 'openTrial' }> => m.type === 'openTrial');

let browser: Browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('#19-1: opening a trial, then the host re-sending the panel state, opens it once (no re-run loop)', async () => {
  const panel = await openPanel(browser);
  try {
    await panel.setTheme('dark');
    const model = await streamRun(panel, quickstart, 40, 'run-1');
    await settleHeavy(panel);
    const row = panel.page.locator('tr[data-n]').nth(2);
    const n = Number(await row.getAttribute('data-n'));
    await row.dblclick();
    await settle(panel.page);
    const opened = openTrials(await panel.posted());
    assert.equal(opened.length, 1, `opening one trial posted ${opened.length} openTrial messages`);
    assert.equal(opened[0]!.n, n);
    // What the host does on openTrial: show the panel (re-sending a snapshot), re-run, answer.
    for (let round = 0; round < 3; round++) {
      await panel.send({ type: 'snapshot', run: model.snapshot() });
      await settle(panel.page);
    }
    const trial = quickstart.find((e): e is TrialEvent => e.type === 'trial' && e.number === n)!;
    await panel.send({ type: 'trialDetail', detail: rerunTrial(QUICKSTART, n, trial.params, 'run-1') });
    await panel.send({ type: 'snapshot', run: model.snapshot() });
    await settleHeavy(panel);
    assert.equal(openTrials(await panel.posted()).length, 1, 'a re-sent snapshot made the panel open the trial again');
    assert.match(await panel.page.locator('#detail h2').innerText(), new RegExp(`#${n}\\b`));
    assert.deepEqual(await panel.problems(), []);
  } finally {
    await panel.close();
  }
});

test('#19-6: a new run never shows the previous run\'s trial; a late detail of the old run is dropped; the new run opens at the top', async () => {
  const panel = await openPanel(browser, { height: 700 });
  try {
    await panel.setTheme('light');
    const a = await streamRun(panel, quickstart, 60, 'run-a');
    await settleHeavy(panel);
    const row = panel.page.locator('tr[data-n]').first();
    const n = Number(await row.getAttribute('data-n'));
    await row.dblclick();
    const trial = quickstart.find((e): e is TrialEvent => e.type === 'trial' && e.number === n)!;
    const detail = rerunTrial(QUICKSTART, n, trial.params, 'run-a');
    await panel.send({ type: 'trialDetail', detail });
    await settleHeavy(panel);
    assert.equal(await panel.page.locator('#detail').isVisible(), true);
    // The same run re-sent keeps the open trial and the scroll position.
    await panel.page.evaluate(() => window.scrollTo(0, 900));
    await panel.send({ type: 'snapshot', run: a.snapshot() });
    await settle(panel.page);
    assert.equal(await panel.page.locator('#detail').isVisible(), true, 'the same run re-sent closed the open trial');
    assert.ok((await panel.page.evaluate(() => window.scrollY)) > 500, 'the same run re-sent lost the scroll position');
    // A new run (the staged study; its trial numbers overlap the old run's).
    await streamRun(panel, staged.slice(0, 30), 10, 'run-b');
    await settleHeavy(panel);
    assert.equal(await panel.page.locator('#detail').isVisible(), false, 'the new run shows a trial card');
    assert.equal(await panel.page.evaluate(() => window.scrollY), 0, 'the new run opened at the old scroll position');
    // The old run's re-run answers late: dropped.
    await panel.send({ type: 'trialDetail', detail: { ...detail, n: 3 } });
    await settle(panel.page);
    assert.equal(await panel.page.locator('#detail').isVisible(), false, 'a late detail of the old run opened a card in the new one');
    assert.doesNotMatch(await panel.page.locator('#app').innerText(), /undefined/);
    assert.equal(openTrials(await panel.posted()).length, 1, 'switching runs re-ran a trial');
    assert.deepEqual(await panel.problems(), []);
  } finally {
    await panel.close();
  }
});
