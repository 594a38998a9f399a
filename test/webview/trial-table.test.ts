/**
 * The trial table in headless Chromium: every trial of a run (100,000 here) in a virtualized
 * table — a few dozen rows in the DOM, the last trial reachable by scrolling — range, state and
 * column filters, the column chooser, and brushing an axis of the parallel coordinates filtering
 * the table. Fed the recorded real runs' trials through the extension's run model (the 100k run
 * cycles the quickstart's real trials, renumbered). Screenshot: test/artifacts/webview-table.png.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { RunModel } from '../../client/run-model';
import type { RunEvent, TrialEvent } from '../../protocol/run-events';
import { ARTIFACTS, launch, openPanel, readRecording, settle, settleHeavy, streamRun } from '../support/webview-page';

const quickstart = readRecording('quickstart.jsonl');
const staged = readRecording('ema-atr-staged.jsonl');

let browser: Browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** The numbers in a column of the rows in the DOM. */
async function column(page: import('playwright-core').Page, key: string): Promise<number[]> {
  return page.evaluate((k) => {
    const idx = [...document.querySelectorAll('table.trials tr.names th')].findIndex((th) => (th as HTMLElement).dataset['key'] === k);
    return [...document.querySelectorAll('table.trials tbody tr[data-n]')].map((tr) => Number((tr.children[idx] as HTMLElement).innerText.replace(/,/g, '')));
  }, key);
}

test('100,000 trials: a few dozen rows in the DOM, sorted, the last reachable by scrolling', async () => {
  const panel = await openPanel(browser);
  try {
    await panel.setTheme('dark');
    const base = quickstart.filter((e): e is TrialEvent => e.type === 'trial');
    const start = quickstart[0] as Extract<RunEvent, { type: 'start' }>;
    const model = new RunModel('run-100k');
    model.apply({ ...start, total: 100000 });
    for (let i = 0; i < 100000; i++) model.apply({ ...base[i % base.length]!, number: i });
    model.apply({ type: 'end', best: null, trials: 100000, elapsedMs: 1000 });
    await panel.send({ type: 'snapshot', run: model.snapshot() });
    await settleHeavy(panel);
    assert.match(await panel.page.locator('#trials .note').innerText(), /100,000 trials/);
    const inDom = await panel.page.locator('table.trials tbody tr[data-n]').count();
    assert.ok(inDom > 10 && inDom < 80, `${inDom} rows in the DOM`);
    const scores = await column(panel.page, 'score');
    for (let i = 1; i < scores.length; i++) assert.ok(scores[i - 1]! >= scores[i]!, 'not sorted best first');
    // Sort by trial number ascending, scroll to the end: the last trial is there.
    await panel.page.locator('table.trials th[data-key="number"]').click();
    await panel.page.locator('#trials .table-scroll').evaluate((e) => (e.scrollTop = e.scrollHeight));
    await settle(panel.page);
    const numbers = await column(panel.page, 'number');
    assert.ok(numbers.includes(99999), `last rows: ${numbers.slice(-3)}`);
    assert.ok((await panel.page.locator('table.trials tbody tr[data-n]').count()) < 80);
    assert.deepEqual(await panel.problems(), []);
  } finally {
    await panel.close();
  }
});

test('filters (range, state), the column chooser, and brushing the parallel coordinates filter the table', async () => {
  const panel = await openPanel(browser, { width: 1280, height: 1200 });
  try {
    await panel.setTheme('light');
    await streamRun(panel, staged, 20, 'run-filters');
    await settleHeavy(panel);
    const trials = staged.filter((e): e is TrialEvent => e.type === 'trial');
    // Range filter on the score.
    await panel.page.locator('input.filter[data-key="score"]').fill('>= 0.5');
    await settleHeavy(panel);
    const scores = await column(panel.page, 'score');
    const expected = trials.filter((t) => typeof t.score === 'number' && t.score >= 0.5).length;
    assert.equal(scores.length, expected);
    assert.ok(scores.every((s) => s >= 0.5));
    assert.match(await panel.page.locator('#trials .note').innerText(), new RegExp(`${expected} of ${trials.length} trials match`));
    await panel.page.locator('#trials .note button', { hasText: 'Clear filters' }).click();
    await settleHeavy(panel);
    // State filter.
    await panel.page.locator('select.filter[data-key="state"]').selectOption('infeasible');
    await settleHeavy(panel);
    const states = await panel.page.locator('table.trials tbody tr[data-n]').evaluateAll((rows) => rows.map((r) => r.className));
    assert.equal(states.length, trials.filter((t) => t.state === 'infeasible').length);
    assert.ok(states.every((c) => c.includes('st-infeasible')));
    await panel.page.locator('select.filter[data-key="state"]').selectOption('');
    await settleHeavy(panel);
    // Column chooser: add Sortino.
    assert.equal(await panel.page.locator('table.trials th[data-key="metric:sortino"]').count(), 0);
    await panel.page.locator('#trials button', { hasText: 'Columns…' }).click();
    await panel.page.locator('.popover input[data-key="metric:sortino"]').check();
    await settleHeavy(panel);
    assert.equal(await panel.page.locator('table.trials th[data-key="metric:sortino"]').innerText(), 'Sortino');
    const state = await panel.page.evaluate(() => (window as unknown as { __state: { columns?: string[] } }).__state);
    assert.ok(state.columns?.includes('metric:sortino'));
    await panel.page.mouse.click(5, 5);
    // Brush the ema_slow axis of the parallel coordinates over its upper half.
    const canvas = panel.page.locator('#parallel canvas');
    await canvas.scrollIntoViewIfNeeded();
    const box = (await canvas.boundingBox())!;
    const axisX = await panel.page.evaluate(() => {
      // The axes are spaced evenly between 48 px margins; ema_slow is the 4th of 5 (atr_period never varied).
      const c = document.querySelector('#parallel canvas') as HTMLCanvasElement;
      return 48 + (3 * (c.clientWidth - 96)) / 4;
    });
    await panel.page.mouse.move(box.x + axisX, box.y + 60);
    await panel.page.mouse.down();
    await panel.page.mouse.move(box.x + axisX, box.y + box.height * 0.5, { steps: 4 });
    await panel.page.mouse.up();
    await settleHeavy(panel);
    const brushed = await panel.page.locator('input.filter[data-key="param:ema_slow"]').inputValue();
    const m = /^([\d.]+)\.\.([\d.]+)$/.exec(brushed);
    assert.ok(m, `the brush did not show in the table's filter: "${brushed}"`);
    const lo = Number(m[1]);
    const hi = Number(m[2]);
    const slow = await column(panel.page, 'param:ema_slow');
    assert.ok(slow.length > 0 && slow.every((v) => v >= lo && v <= hi), `rows outside ${lo}..${hi}: ${slow}`);
    assert.equal(slow.length, trials.filter((t) => (t.params['ema_slow'] as number) >= lo && (t.params['ema_slow'] as number) <= hi).length);
    await panel.page.evaluate(() => document.querySelector('#trials')!.scrollIntoView());
    await panel.page.screenshot({ path: path.join(ARTIFACTS, 'webview-table.png'), fullPage: false });
    // A click on the axis clears the brush (the table shrank: the chart moved).
    await canvas.scrollIntoViewIfNeeded();
    const moved = (await canvas.boundingBox())!;
    await panel.page.mouse.click(moved.x + axisX, moved.y + moved.height * 0.7);
    await settleHeavy(panel);
    assert.equal(await panel.page.locator('input.filter[data-key="param:ema_slow"]').inputValue(), '');
    assert.deepEqual(await panel.problems(), []);
  } finally {
    await panel.close();
  }
});
