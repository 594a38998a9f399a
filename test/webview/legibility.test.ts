/**
 * What a user reads (#19 item 12, the panel's parts), in headless Chromium at split-editor width
 * (640 px) in the dark, light and high-contrast themes, fed recorded real runs: one number
 * format everywhere (no `1.42e+6`, no `[0.52, 51.5]`), column headers in words with units, no
 * axis title or tick label clipped or overlapping another, the objective's name as the axis
 * title whenever the start event came, and emphasised lines readable on the background.
 * Screenshots: test/artifacts/webview-split-{dark,light,high-contrast}.png.
 */
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { RunModel } from '../../client/run-model';
import {
  ARTIFACTS, canvasRecords, clippedTexts, contrastRatio, launch, openPanel, overlappingTexts, parseColor, readRecording, settle, settleHeavy, streamRun, THEMES, type ThemeName,
} from '../support/webview-page';

mkdirSync(ARTIFACTS, { recursive: true });
const staged = readRecording('ema-atr-staged.jsonl');
const multi = readRecording('multi-objective.jsonl');
const quickstart = readRecording('quickstart.jsonl');

let browser: Browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const EXPONENT = /\d(\.\d+)?e[+-]?\d/i;

for (const theme of ['dark', 'light', 'high-contrast'] as ThemeName[]) {
  describe(`split width, ${theme} theme`, () => {
    test('numbers, headers, units, axis labels and line contrast', async () => {
      const panel = await openPanel(browser, { width: 640, height: 900 });
      try {
        await panel.setTheme(theme);
        await streamRun(panel, theme === 'light' ? staged : multi, 40, `run-${theme}`);
        await settleHeavy(panel);
        const text = await panel.page.locator('#app').innerText();
        assert.doesNotMatch(text, EXPONENT, 'a number in exponent notation');
        assert.doesNotMatch(text, /\[-?\d/, 'a score printed as a bracketed array');
        const heads = await panel.page.locator('#app th:not(.param):not(.filter)').allInnerTexts();
        const raw = heads.filter((h) => /[a-z]_[a-z]/.test(h));
        assert.deepEqual(raw, [], 'raw identifiers as column headers');
        assert.ok(heads.some((h) => /%/.test(h)), 'no column header carries a unit');
        const records = await canvasRecords(panel.page);
        assert.ok(records.length >= 3, 'charts missing');
        const problems: string[] = [];
        for (const r of records) {
          problems.push(...clippedTexts(r), ...overlappingTexts(r));
          for (const t of r.texts) if (EXPONENT.test(t.text)) problems.push(`${r.card}: "${t.text}" in exponent notation`);
        }
        assert.deepEqual(problems, []);
        // Emphasised lines (≥ 1.5 px, opaque) stand out from the card background (WCAG 1.4.11: 3:1).
        const bg = parseColor(await panel.page.evaluate(() => getComputedStyle(document.querySelector('.card')!).backgroundColor))!;
        const weak: string[] = [];
        for (const r of records) {
          for (const s of r.strokes) {
            const c = parseColor(s.color);
            if (!c || s.width < 1.5 || c[3] * s.alpha < 0.9) continue;
            const ratio = contrastRatio([c[0], c[1], c[2]], [bg[0], bg[1], bg[2]]);
            if (ratio < 3) weak.push(`${r.card}: ${s.color} at ${s.width}px has contrast ${ratio.toFixed(2)} on ${THEMES[theme].vars['--vscode-editor-background']}`);
          }
        }
        assert.deepEqual([...new Set(weak)], []);
        await panel.page.evaluate(() => window.scrollTo(0, 0));
        await panel.page.screenshot({ path: path.join(ARTIFACTS, `webview-split-${theme}.png`), fullPage: true });
        assert.deepEqual(await panel.problems(), []);
      } finally {
        await panel.close();
      }
    });
  });
}

test('the history\'s axis title is the objective even when the panel loaded before the run started', async () => {
  const panel = await openPanel(browser, { width: 640 });
  try {
    await panel.setTheme('dark');
    // The panel asks for a snapshot before the run host's start event arrived.
    const model = new RunModel('run-early');
    await panel.send({ type: 'snapshot', run: model.snapshot() });
    await settle(panel.page);
    for (let i = 0; i < quickstart.length; i += 30) {
      for (const e of quickstart.slice(i, i + 30)) model.apply(e);
      const d = model.takeDelta();
      if (d) await panel.send({ type: 'delta', delta: d });
    }
    await settleHeavy(panel);
    const history = (await canvasRecords(panel.page)).find((r) => r.card === 'history')!;
    const texts = history.texts.map((t) => t.text);
    assert.ok(texts.some((t) => /^sharpe$/i.test(t)), `history axis titles: ${texts.filter((t) => /[a-z]/.test(t)).join(', ')}`);
    assert.ok(!texts.some((t) => /^score$/i.test(t)), 'the history still says "score"');
  } finally {
    await panel.close();
  }
});
