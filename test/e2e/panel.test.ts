/**
 * The results panel's #19 defects, in a real VS Code (code-server) with the PACKAGED .vsix
 * installed, driven as a person drives it. Each step fails on the extension as it was when the
 * issue was filed:
 *   7  Run Study with an error in the unsaved study: not run, not saved;
 *   11 a walk-forward run: the header never says "stage 0/1" and headlines the out-of-sample loss;
 *   1  a double-click on a trial opens it with ONE backtest (no re-run loop), per-bar equity drawn;
 *   9  Apply Best Parameters on an isolated-peak best offers the most robust trial, and the
 *      edited study still runs (no commented-out stage);
 *   2  Export Report… → HTML works from the installed extension (Chart.js inlined);
 *   6  a new run does not show the previous run's Trial card;
 *   5  Resume shows the journal's trials at once (never "0 / N") and no "Resume" toast stays up.
 * Screenshots: test/artifacts/e2e-panel-*.png.
 */
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame } from 'playwright-core';
import { ROOT, findE2eTools } from '../support/e2e-tools';
import { EditorSession, waitUntil } from '../support/e2e-session';

const found = findE2eTools();
const skip = !found.tools && !process.env.CI ? `editor test tools are not installed: ${found.missing}` : false;
const CLI = path.join(ROOT, 'dist', 'cli.js');

/** A long Gaussian-process search (a few trials a second): long enough to cancel and resume. */
const LONG = 'e2e-panel-long.optstudy';
const LONG_TEXT = `study "SMA long" {
  data "data/orcl-1995-2014.txt" from 1995-01-01 to 2014-12-31
  cash 100000
  strategy sma_cross
  objective maximize sharpe
  stage "gp" {
    search bayes { trials 300, init 10 }
    param fast in 2 .. 100 step 1
    param slow in 10 .. 400 step 1
    where fast < slow
  }
  workers 2
  seed 3
}
`;

/** `optstudy check FILE --json`. */
function check(file: string): { diagnostics: { severity: string; code: string; message: string }[]; studies: { stages: { name: string; size: number }[]; total: number }[] } {
  return JSON.parse(spawnSync(process.execPath, [CLI, 'check', file, '--json'], { encoding: 'utf8' }).stdout);
}

interface Header {
  title: string;
  status: string;
  done: number;
  total: number;
  phase: string;
  verdict: string;
}

async function header(f: Frame): Promise<Header> {
  return f.evaluate(() => {
    const text = (sel: string) => document.querySelector(sel)?.textContent?.trim() ?? '';
    const m = /([\d,]+)\s*\/\s*([\d,?]+)/.exec(text('.progress-text'));
    const num = (x: string | undefined) => (x && x !== '?' ? Number(x.replace(/,/g, '')) : NaN);
    return { title: text('.run-header h1'), status: text('.status-slot .badge'), done: num(m?.[1]), total: num(m?.[2]), phase: text('.stage-label'), verdict: text('.run-header .verdict') + ' ' + text('.run-header .oos-line') };
  });
}

/** Lines of the extension's "OptStudy Runs" output channel (its log file, written as it goes). */
function outputLines(s: EditorSession): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.existsSync(d) ? fs.readdirSync(d, { withFileTypes: true }) : []) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/OptStudy Runs\.log$/.test(e.name)) out.push(...fs.readFileSync(p, 'utf8').split('\n'));
    }
  };
  walk(path.join(s.userData, 'logs'));
  return out;
}

/** Notification toasts on screen, with their text. */
async function toasts(s: EditorSession): Promise<string[]> {
  return s.page.locator('.notifications-toasts .notification-toast').allInnerTexts();
}

describe('the results panel in a real VS Code (#19)', { skip }, () => {
  let s: EditorSession;
  let panel: Frame;
  const step = (name: string, timeoutMs: number, fn: () => Promise<void>) =>
    test(name, { timeout: timeoutMs }, async () => {
      try {
        await fn();
      } catch (e) {
        await s?.shot(`panel-${name.split(' ')[0]}-failed`).catch(() => {});
        throw e;
      }
    });

  before(async () => {
    if (!found.tools) throw new Error(`CI is set, so the editor tests must run, but: ${found.missing}`);
    s = await EditorSession.start({ tools: found.tools, workspaceTrust: true, files: { [LONG]: LONG_TEXT }, verbose: !!process.env.E2E_VERBOSE });
    // The folder opens in Restricted Mode once the workbench has settled; trust it then.
    await waitUntil('Restricted Mode to show', () => s.isRestricted(), 60_000);
    await s.trustWorkspace();
  }, { timeout: 300_000 });

  after(async () => {
    await s?.stop();
  }, { timeout: 60_000 });

  step('7 Run Study on a study with an unsaved error: it is neither run nor saved', 120_000, async () => {
    const rel = 'quickstart.optstudy';
    const file = path.join(s.workspace, rel);
    const before = fs.readFileSync(file, 'utf8');
    await s.openFile(rel);
    await s.goToLine(before.split('\n').findIndex((l) => /objective maximize sharpe/.test(l)) + 1);
    await s.page.keyboard.press('End');
    await s.page.keyboard.type('_typo');
    await s.page.locator('.editor-instance .monaco-editor .squiggly-error').first().waitFor({ timeout: 60_000 });
    await s.runCommand('OptStudy: Run Study');
    const msg = await waitUntil('the "has errors" notification', async () => (await toasts(s)).find((t) => /has errors, so it was not run \(nor saved\)/.test(t)), 30_000);
    assert.match(msg, /sharpe_typo/);
    await s.shot('panel-7-not-saved');
    assert.equal(fs.readFileSync(file, 'utf8'), before, 'the broken text was not written to disk');
    assert.equal(await s.page.locator('.tabs-container .tab.active.dirty').count(), 1, 'the editor still holds the unsaved change');
    assert.equal(fs.existsSync(path.join(s.workspace, '.optstudy', 'runs')), false, 'no run started');
    await s.runCommand('File: Revert File');
    await s.page.keyboard.press('Escape');
  });

  step('11 a walk-forward run: never "stage 0/1", and the header headlines the out-of-sample loss', 300_000, async () => {
    await s.openFile('walkforward.optstudy');
    await s.runCommand('OptStudy: Run Study');
    panel = await s.webviewFrame('#app .run-header', 60_000);
    const phases = new Set<string>();
    const end = await waitUntil('the walk-forward run to finish', async () => {
      const h = await header(panel);
      if (h.phase) phases.add(h.phase);
      return h.status === 'finished' && /walk-forward/i.test(h.title) ? h : null;
    }, 240_000, 100);
    assert.ok(![...phases].some((p) => /stage 0\//.test(p)), `phases seen: ${[...phases].join(' | ')}`);
    // After the run the report's analysis arrives with the verdict: the OOS loss, not the IS best.
    const v = await waitUntil('the verdict with the out-of-sample result', async () => {
      const h = await header(panel);
      return /Out of sample the best parameters lost \d/.test(h.verdict) ? h.verdict : null;
    }, 120_000, 250);
    assert.match(v, /walk-forward, 5 folds/);
    assert.ok(end.done === end.total);
    await s.shot('panel-11-walkforward');
  });

  step('1 a double-click opens the trial with ONE backtest: no re-run loop, per-bar equity drawn', 180_000, async () => {
    const opened = () => outputLines(s).filter((l) => /open trial \d+: optstudy trial/.test(l)).length;
    const before = opened();
    const row = panel.locator('#trials table.trials tbody tr[data-n]').first();
    await row.waitFor({ timeout: 30_000 });
    const n = Number(await row.getAttribute('data-n'));
    // Count every time the card goes back to "Running the backtest…" (the loop flipped it 19 times in 8 s).
    await panel.evaluate(() => {
      const w = window as unknown as { __runs: number };
      w.__runs = 0;
      let was = false;
      new MutationObserver(() => {
        const now = /Running the backtest/.test(document.querySelector('#detail .detail-status')?.textContent ?? '');
        if (now && !was) w.__runs++;
        was = now;
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await row.dblclick();
    await waitUntil('the trial card to show the re-run', async () => /\d+ trades\./.test((await panel.locator('#detail .detail-status').innerText().catch(() => '')) ?? ''), 90_000, 200);
    const title = await panel.locator('#detail h2').first().textContent();
    assert.match(title ?? '', new RegExp(`Trial #${n}\\b`));
    // Then nothing: 8 s without another backtest or another "Running…".
    await new Promise((r) => setTimeout(r, 8000));
    const runs = await panel.evaluate(() => (window as unknown as { __runs: number }).__runs);
    assert.ok(runs <= 1, `the card went back to "Running the backtest…" ${runs} times`);
    assert.equal(opened() - before, 1, `backtests started for one double-click:\n${outputLines(s).filter((l) => /open trial/.test(l)).join('\n')}`);
    const ink = await panel.evaluate(() => {
      let k = 0;
      for (const c of document.querySelectorAll('#detail canvas') as NodeListOf<HTMLCanvasElement>) {
        const d = c.width && c.height ? c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data : [];
        for (let i = 3; i < d.length; i += 4) if (d[i]) k++;
      }
      return k;
    });
    assert.ok(ink > 1000, `the equity chart is drawn (${ink} pixels)`);
    await panel.locator('#detail').scrollIntoViewIfNeeded();
    await s.shot('panel-1-trial');
  });

  step('9 Apply Best Parameters on an isolated peak offers the most robust trial; the study stays runnable', 180_000, async () => {
    const file = path.join(s.workspace, 'walkforward.optstudy');
    const report = JSON.parse(spawnSync(process.execPath, [CLI, 'report', newestRun(s.workspace), '--json', '-', '--no-reruns'], { encoding: 'utf8' }).stdout);
    const robust = report.snapshot.mostRobust as { number: number; params: Record<string, number> };
    assert.ok(report.snapshot.overfitting.items.some((i: { key: string }) => i.key === 'isolated-peak'), 'the sample\'s best is an isolated peak');
    await s.runCommand('OptStudy: Apply Best Parameters');
    const dialog = s.page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 30_000 });
    assert.match(await dialog.innerText(), /isolated peak/);
    await s.shot('panel-9-robust-offer');
    await dialog.locator('.monaco-button', { hasText: 'Apply Most Robust' }).click();
    const tab = s.page.locator('.tabs-container .tab.dirty', { hasText: 'walkforward.optstudy' });
    await tab.waitFor({ timeout: 30_000 });
    await tab.click();
    await s.runCommand('File: Save');
    await waitUntil('the study to be saved', async () => (await s.page.locator('.tabs-container .tab.active.dirty').count()) === 0, 15_000);
    await s.shot('panel-9-applied');
    const text = fs.readFileSync(file, 'utf8');
    for (const [k, v] of Object.entries(robust.params)) assert.match(text, new RegExp(`strategy sma_cross \\{[^}]*\\b${k} = ${v}\\b`), `${k} = ${v} (the most robust trial #${robust.number})`);
    assert.doesNotMatch(text, /\/\/\s*stage/, 'no stage is commented out');
    const c = check(file);
    assert.deepEqual(c.diagnostics.filter((d) => d.severity === 'error' || d.code === 'empty-stage' || d.code === 'no-stages'), [], 'the study still runs');
    assert.equal(c.studies[0]!.stages.length, 1);
    assert.equal(c.studies[0]!.total, 1, 'one backtest: the applied trial');
  });

  step('2 Export Report… → HTML from the installed extension', 180_000, async () => {
    const target = path.join(s.workspace, 'e2e-report.html');
    await s.runCommand('OptStudy: Export Report…', { asks: true });
    const input = s.page.locator('.quick-input-widget input');
    await waitUntil('the format pick', async () => (await s.page.locator('.quick-input-list .monaco-list-row').allInnerTexts()).some((t) => /^HTML/.test(t)), 30_000);
    await s.page.locator('.quick-input-list .monaco-list-row', { hasText: /^HTML/ }).first().click();
    // code-server's save dialog is a path box in Quick Input.
    await waitUntil('the save dialog', async () => /report\.html$/.test(await input.inputValue().catch(() => '')), 30_000);
    await input.fill(target);
    // The dialog filters its list as the path changes; accept with its OK button once the value
    // is in, and again if a busy workbench dropped the first press.
    const ok = s.page.locator('.quick-input-widget .monaco-button', { hasText: /^OK$/ });
    await waitUntil('the dialog to accept the path', async () => {
      if (!(await s.page.locator('.quick-input-widget').isVisible())) return true;
      if ((await input.inputValue().catch(() => '')) !== target) await input.fill(target);
      await ok.click({ timeout: 5_000 }).catch(() => s.page.keyboard.press('Enter'));
      await new Promise((r) => setTimeout(r, 1_500));
      return (await s.page.locator('.quick-input-widget').isVisible()) ? null : true;
    }, 30_000, 250);
    const msg = await waitUntil('the report to be written (or fail)', async () => (await toasts(s)).find((t) => /report written|the report failed/.test(t)), 120_000, 250);
    assert.match(msg, /report written/, msg);
    const html = fs.readFileSync(target, 'utf8');
    assert.match(html, /Chart\.js v\d/, 'Chart.js is inlined');
    await s.shot('panel-2-exported');
  });

  step('6 a new run does not show the previous run\'s Trial card', 180_000, async () => {
    assert.equal(await panel.locator('#detail').isVisible(), true, 'step 1 left a trial open');
    await s.openFile('quickstart.optstudy');
    await s.runCommand('OptStudy: Run Study');
    panel = await s.webviewFrame('#app .run-header', 60_000);
    await waitUntil('the new run in the panel', async () => /quickstart/i.test((await header(panel)).title), 60_000, 100);
    for (let i = 0; i < 10; i++) {
      const shown = await panel.locator('#detail').isVisible();
      const t = shown ? await panel.locator('#detail').innerText() : '';
      assert.ok(!shown || !/undefined/.test(t), `the Trial card shows: ${t}`);
      assert.equal(shown, false, `the previous run's Trial card is still shown: ${t.slice(0, 200)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await waitUntil('the quickstart run to finish', async () => ((await header(panel)).status === 'finished' ? true : null), 120_000, 250);
    await s.shot('panel-6-new-run');
  });

  step('5 Resume: the journal\'s trials show at once (never "0 / N"), no "Resume" toast during the resumed run', 300_000, async () => {
    await s.openFile(LONG);
    await s.runCommand('OptStudy: Run Study');
    panel = await s.webviewFrame('#app .run-header', 60_000);
    await waitUntil('the long run to stream trials', async () => {
      const h = await header(panel);
      return /long/i.test(h.title) && h.status === 'running' && h.done >= 15 ? h : null;
    }, 120_000, 100);
    await panel.locator('.run-header vscode-button', { hasText: 'Cancel' }).click();
    const stopped = await waitUntil('the run to be cancelled', async () => {
      const h = await header(panel);
      return h.status === 'cancelled' ? h : null;
    }, 120_000, 100);
    await waitUntil('the progress notification to close', async () => (await s.page.locator('.notifications-toasts .monaco-progress-container.active').count()) === 0, 30_000);
    assert.ok(!(await toasts(s)).some((t) => /cancelled/.test(t)), 'the cancel notice is no toast (it could not be closed when the run resumes)');
    await waitUntil('the cancelled notice in the status bar', async () => (await s.page.locator('.statusbar-item', { hasText: 'cancelled after' }).count()) > 0, 30_000);
    // Resume from the panel and watch the count from the first moment.
    await panel.locator('.run-header vscode-button', { hasText: 'Resume' }).click();
    const seen: number[] = [];
    let resumedToastWithButton = false;
    const resumed = await waitUntil('the resumed run to stream past where it stopped', async () => {
      const h = await header(panel);
      if (Number.isFinite(h.done)) seen.push(h.done);
      const ts = await toasts(s);
      if (ts.some((t) => /cancelled|\bResume\b/.test(t))) resumedToastWithButton = true;
      // A quiet machine may finish the rest before a probe sees it running.
      return (h.status === 'running' || h.status === 'finished') && h.done > stopped.done + 5 ? h : null;
    }, 180_000, 50);
    assert.ok(seen.length > 0 && Math.min(...seen) >= stopped.done, `the panel blanked on resume: counts seen ${seen.slice(0, 20).join(', ')} (cancelled at ${stopped.done})`);
    assert.equal(resumedToastWithButton, false, 'a "cancelled"/"Resume" toast stayed up during the resumed run');
    assert.equal(await s.page.locator('.statusbar-item', { hasText: 'cancelled after' }).count(), 0, 'the cancelled notice went with the resume');
    assert.equal(resumed.total, stopped.total);
    await s.shot('panel-5-resumed');
    if ((await header(panel)).status === 'running') await panel.locator('.run-header vscode-button', { hasText: 'Cancel' }).click({ timeout: 5_000 }).catch(() => undefined);
    await waitUntil('the resumed run to stop', async () => (/^(cancelled|finished)$/.test((await header(panel)).status) ? true : null), 120_000, 200);
  });
});

/** The newest run folder of the workspace. */
function newestRun(workspace: string): string {
  const root = path.join(workspace, '.optstudy', 'runs');
  const dirs = fs.readdirSync(root).map((d) => path.join(root, d)).filter((d) => fs.existsSync(path.join(d, 'journal.jsonl')));
  return dirs.sort((a, b) => fs.statSync(path.join(b, 'journal.jsonl')).mtimeMs - fs.statSync(path.join(a, 'journal.jsonl')).mtimeMs)[0]!;
}
