/**
 * The run header (#19 defect 11): while a walk-forward run validates, the header names the
 * fold it is on (never "stage 0/1"); once it ends, it headlines the out-of-sample result beside
 * the in-sample best. A real walk-forward run (runStudy on the ORCL file) streamed through the
 * extension's run model into the built panel in headless Chromium.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { RunModel } from '../../client/run-model';
import { runStudy } from '../../server/run/run-study';
import { collector, tempStudy } from '../support/run-fixtures';
import { ARTIFACTS, launch, openPanel, settle, settleHeavy, walkForwardStudy } from '../support/webview-page';

let browser: Browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('#19-11: a walk-forward run names its fold while validating and headlines out of sample at the end', async () => {
  const dir = tempStudy({ 'w.optstudy': walkForwardStudy('wf header') });
  const panel = await openPanel(browser, { width: 900 });
  try {
    const c = collector();
    const end = await runStudy({ file: path.join(dir, 'w.optstudy'), workers: 1, out: path.join(dir, 'run') }, c.onEvent, new AbortController().signal);
    assert.ok(end.validation?.kind === 'walkforward');
    await panel.setTheme('dark');
    const model = new RunModel('run-wf');
    model.apply(c.events[0]!);
    await panel.send({ type: 'snapshot', run: model.snapshot() });
    const header = () => panel.page.locator('.run-header').innerText();
    let sawFold = false;
    for (const e of c.events.slice(1)) {
      model.apply(e);
      if (e.type === 'progress' && /walk-forward fold/.test(e.stage) && !sawFold) {
        sawFold = true;
        await panel.send({ type: 'delta', delta: model.takeDelta()! });
        await settle(panel.page);
        const h = await header();
        assert.doesNotMatch(h, /stage 0\//, h);
        assert.match(h, /walk-forward fold 1\/3/i, h);
      }
      if (e.type === 'end') {
        await panel.send({ type: 'delta', delta: model.takeDelta()! });
      }
    }
    assert.ok(sawFold, 'the run reported no fold progress');
    await settleHeavy(panel);
    const h = await header();
    const w = end.validation.report;
    assert.match(h, /in sample/i, h);
    assert.match(h, /out of sample/i, h);
    // The stitched out-of-sample return and the efficiency, as the report computed them.
    assert.ok(h.includes(`${(w.stitchedReturnPct! >= 0 ? '+' : '-')}${Math.abs(w.stitchedReturnPct!).toFixed(1)} %`), `header lacks the OOS return ${w.stitchedReturnPct}: ${h}`);
    assert.match(h, /efficiency/i, h);
    await panel.page.screenshot({ path: path.join(ARTIFACTS, 'webview-walk-forward-header.png'), clip: { x: 0, y: 0, width: 900, height: 160 } });
    assert.deepEqual(await panel.problems(), []);
  } finally {
    await panel.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
