/**
 * "Best so far" draws every trial (#19 defect 10): the staged recording's infeasible trials
 * (a broken `trades >= 20` constraint, score null) appear at their unconstrained objective,
 * marked as infeasible, with the broken constraint in their tooltip; failed trials are counted.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import type { TrialEvent } from '../../protocol/run-events';
import { ARTIFACTS, canvasRecords, launch, openPanel, pointOf, readRecording, settleHeavy, streamRun } from '../support/webview-page';

const staged = readRecording('ema-atr-staged.jsonl');

let browser: Browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

type Probes = Record<string, { points: number; series?: Record<string, number> }>;

test('#19-10: infeasible trials are drawn on "Best so far", with the constraint they broke', async () => {
  const panel = await openPanel(browser);
  try {
    await panel.setTheme('dark');
    await streamRun(panel, staged, 15, 'run-staged');
    await settleHeavy(panel);
    const infeasible = staged.filter((e): e is TrialEvent => e.type === 'trial' && e.state === 'infeasible');
    assert.ok(infeasible.length > 10 && infeasible.every((t) => t.score === null), 'the recording has infeasible trials without a score');
    const probes = await panel.page.evaluate(() => (window as unknown as { __optstudyProbes: Probes }).__optstudyProbes);
    assert.equal(probes['history']?.series?.['infeasible'], infeasible.length, `history series: ${JSON.stringify(probes['history']?.series)}`);
    const history = (await canvasRecords(panel.page)).find((r) => r.card === 'history')!;
    assert.ok(history.texts.some((t) => /infeasible/.test(t.text)), 'no "infeasible" legend entry');
    // Hovering an infeasible point tells why it is infeasible.
    const spot = await pointOf(panel.page, '#history canvas', 'infeasible');
    assert.ok(spot, 'no infeasible point to hover');
    const box = (await panel.page.locator('#history canvas').boundingBox())!;
    await panel.page.mouse.move(box.x + spot.x, box.y + spot.y);
    await panel.page.waitForTimeout(100);
    const tip = await panel.page.evaluate(() => document.querySelector('.chart-tip:not([hidden])')?.textContent ?? '');
    assert.match(tip, /constraint 'trades >= 20' does not hold/);
    await panel.page.screenshot({ path: path.join(ARTIFACTS, 'webview-history-infeasible.png'), clip: { x: 0, y: 0, width: 1280, height: 520 } });
    assert.deepEqual(await panel.problems(), []);
  } finally {
    await panel.close();
  }
});
