/**
 * The panel's robustness section shows a run's own validation: a real walk-forward run
 * (runStudy on the ORCL file) streamed through the extension's run model into the panel in
 * headless Chromium — one row per fold with its test window and best parameters.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { RunModel } from '../../client/run-model';
import { runStudy } from '../../server/run/run-study';
import { collector, tempStudy } from '../support/run-fixtures';
import { launch, openPanel, settle, walkForwardStudy } from '../support/webview-page';

let browser: Browser;
const dirs: string[] = [];
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('the robustness section lists the walk-forward folds from the end event', async () => {
  const dir = tempStudy({ 'w.optstudy': walkForwardStudy('wf panel') });
  dirs.push(dir);
  const c = collector();
  const end = await runStudy({ file: path.join(dir, 'w.optstudy'), workers: 1, out: path.join(dir, 'run') }, c.onEvent, new AbortController().signal);
  assert.ok(end.validation?.kind === 'walkforward');
  const model = new RunModel('run-wf');
  model.apply(c.events[0]!);
  const panel = await openPanel(browser);
  await panel.send({ type: 'snapshot', run: model.snapshot() });
  for (const e of c.events.slice(1)) model.apply(e);
  const d = model.takeDelta();
  assert.ok(d?.validation, 'the delta after the end event carries the validation');
  await panel.send({ type: 'delta', delta: d });
  await panel.page.waitForTimeout(650);
  await settle(panel.page);
  const text = await panel.page.locator('#robustness').innerText();
  assert.match(text, /Walk-forward: 3 folds, 60 % train, anchored/);
  const rows = await panel.page.locator('#robustness table.plateau tbody tr').allInnerTexts();
  const folds = end.validation.report.folds;
  assert.equal(rows.filter((r) => /\d{4}-\d\d-\d\d … /.test(r)).length, folds.length);
  for (const f of folds) assert.ok(rows.some((r) => r.includes(`${f.test.from} … ${f.test.to}`) && r.includes(`fast = ${f.params.fast}`) && r.includes(`slow = ${f.params.slow}`)), `fold ${f.fold}`);
  // A reloaded panel (snapshot) shows it too.
  await panel.send({ type: 'snapshot', run: model.snapshot() });
  await panel.page.waitForTimeout(650);
  await settle(panel.page);
  assert.match(await panel.page.locator('#robustness').innerText(), /Walk-forward efficiency/);
  assert.deepEqual(await panel.problems(), []);
  await panel.close();
});
