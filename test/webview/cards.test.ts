/**
 * The analysis cards in headless Chromium, fed recorded real runs: slices per parameter, the
 * distribution of scores (EDF), the 3-D surface (turned by dragging), the verdict's "Apply most
 * robust", comparing two runs, and saving charts as PNG and SVG (real bytes / real vectors).
 * Every chart point shows its trial on hover and opens it on click.
 * Screenshots: test/artifacts/webview-cards-{light,dark,high-contrast}.png, webview-compare.png.
 */
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { RunModel } from '../../client/run-model';
import type { FromWebview } from '../../protocol/messages';
import type { TrialEvent } from '../../protocol/run-events';
import { ARTIFACTS, canvasInk, launch, openPanel, pointOf, readRecording, settle, settleHeavy, streamRun, type PanelPage, type ThemeName } from '../support/webview-page';

const staged = readRecording('ema-atr-staged.jsonl');
const quickstart = readRecording('quickstart.jsonl');
type Probes = Record<string, { points: number; series?: Record<string, number> }>;
const probes = (page: Page) => page.evaluate(() => (window as unknown as { __optstudyProbes: Probes }).__optstudyProbes);
const posted = <T extends FromWebview['type']>(all: FromWebview[], type: T) => all.filter((m): m is Extract<FromWebview, { type: T }> => m.type === type);

let browser: Browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Hovers point `index` of a Chart.js dataset; returns where and what the shared tooltip says. */
async function hoverPoint(panel: PanelPage, selector: string, label: string, index: number): Promise<{ x: number; y: number; text: string }> {
  await panel.page.locator(selector).scrollIntoViewIfNeeded();
  // Scrolling can bring lazily drawn cards in view: let their redraw finish before aiming.
  await settleHeavy(panel);
  const spot = await pointOf(panel.page, selector, label, index);
  assert.ok(spot, `no point ${index} of ${label} in ${selector}`);
  const box = (await panel.page.locator(selector).boundingBox())!;
  const x = box.x + spot.x;
  const y = box.y + spot.y;
  await panel.page.mouse.move(x, y);
  await panel.page.waitForTimeout(50);
  const text = await panel.page.evaluate(() => {
    const t = document.querySelector('.chart-tip') as HTMLElement | null;
    return t && !t.hidden ? t.innerText : '';
  });
  return { x, y, text };
}

describe('analysis cards (two-stage recorded run)', () => {
  let panel: PanelPage;
  before(async () => {
    panel = await openPanel(browser, { width: 1280, height: 1000 });
    await panel.setTheme('dark');
    await streamRun(panel, staged, 12, 'run-cards');
    await settleHeavy(panel);
  });
  after(async () => {
    await panel.close();
  });

  test('slices: one chart per searched parameter with every feasible trial; hover shows the trial, click opens it', async () => {
    const p = await probes(panel.page);
    const complete = staged.filter((e) => e.type === 'trial' && e.state === 'complete').length;
    const slices = Object.keys(p).filter((k) => k.startsWith('slice:'));
    assert.deepEqual(slices.sort(), ['slice:atr_sl_multiplier', 'slice:atr_tp_multiplier', 'slice:ema_fast', 'slice:ema_slow']);
    for (const k of slices) assert.equal(p[k]!.series![k.slice(6)], complete, k);
    const hit = await hoverPoint(panel, '#slices .chart.slice:nth-child(3) canvas', 'ema_fast', 5);
    assert.match(hit.text, /Trial #\d+/);
    const n = Number(/Trial #(\d+)/.exec(hit.text)![1]);
    const trial = staged.find((e): e is TrialEvent => e.type === 'trial' && e.number === n)!;
    assert.ok(hit.text.includes(`ema_fast = ${trial.params['ema_fast']}`), hit.text);
    await panel.page.mouse.click(hit.x, hit.y);
    await panel.page.waitForFunction(() => (window as unknown as { __posted: { type: string }[] }).__posted.some((m) => m.type === 'openTrial'), undefined, { timeout: 10_000 }).catch(() => undefined);
    const open = posted(await panel.posted(), 'openTrial').at(-1);
    assert.equal(open?.n, n);
    assert.deepEqual(open?.params, trial.params);
  });

  test('the distribution of scores has one line per stage, reaching 100 %', async () => {
    const p = await probes(panel.page);
    const byStage = (name: string) => staged.filter((e) => e.type === 'trial' && e.stage === name && e.state === 'complete').length;
    assert.deepEqual(Object.keys(p['edf']!.series!).sort(), ['stage entry', 'stage risk']);
    // Each stage's EDF holds one point per feasible trial (small runs are not thinned).
    assert.equal(p['edf']!.series!['stage risk'], byStage('risk'));
    assert.equal(p['edf']!.series!['stage entry'], byStage('entry'));
  });

  test('the 3-D surface draws and turns when dragged', async () => {
    const canvas = panel.page.locator('#surface3d canvas');
    await canvas.scrollIntoViewIfNeeded();
    const before = await canvas.screenshot();
    assert.ok(((await probes(panel.page))['surface3d']?.points ?? 0) > 10, 'no quads drawn');
    const box = (await canvas.boundingBox())!;
    await panel.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await panel.page.mouse.down();
    await panel.page.mouse.move(box.x + box.width / 2 + 120, box.y + box.height / 2 + 30, { steps: 5 });
    await panel.page.mouse.up();
    await settle(panel.page);
    const afterDrag = await canvas.screenshot();
    assert.notDeepEqual(afterDrag, before, 'dragging did not turn the surface');
  });

  for (const theme of ['light', 'dark', 'high-contrast'] as ThemeName[]) {
    test(`${theme}: every card draws; screenshot`, async () => {
      await panel.setTheme(theme);
      await settleHeavy(panel);
      const ink = await canvasInk(panel.page);
      for (const id of ['history', 'importance', 'heatmap', 'surface3d', 'edf', 'slices', 'parallel']) assert.ok((ink[id] ?? 0) > 500, `${id} blank in ${theme}`);
      await panel.page.evaluate(() => window.scrollTo(0, 0));
      await panel.page.screenshot({ path: path.join(ARTIFACTS, `webview-cards-${theme}.png`), fullPage: true });
      assert.deepEqual(await panel.problems(), []);
    });
  }

  test('charts save as a real PNG and as SVG vectors', async () => {
    await panel.page.locator('#history button.save[data-format="png"]').click();
    await panel.page.locator('#history button.save[data-format="svg"]').click();
    await panel.page.locator('#parallel button.save[data-format="svg"]').click();
    const saves = posted(await panel.posted(), 'saveImage');
    const [png, svg, svgParallel] = saves.slice(-3);
    assert.equal(png?.format, 'png');
    assert.equal(png?.name, 'best-so-far');
    const bytes = Buffer.from(png!.data, 'base64');
    assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'not a PNG');
    const box = (await panel.page.locator('#history canvas').boundingBox())!;
    const dpr = await panel.page.evaluate(() => window.devicePixelRatio);
    assert.equal(bytes.readUInt32BE(16), Math.round(box.width * dpr), 'PNG width');
    assert.equal(svg?.format, 'svg');
    assert.match(svg!.data, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.ok((svg!.data.match(/<path /g) ?? []).length > 50, 'the SVG has no vector paths');
    assert.match(svg!.data, />trials completed</, 'the axis title is not SVG text');
    assert.match(svgParallel!.data, />ema_slow</, 'the parallel coordinates\' axis names are not in the SVG');
    const parsed = await panel.page.evaluate((s) => new DOMParser().parseFromString(s, 'image/svg+xml').querySelector('parsererror')?.textContent ?? null, svg!.data);
    assert.equal(parsed, null, 'the SVG does not parse');
  });
});

describe('verdict and comparing runs (quickstart)', () => {
  test('"Apply most robust" applies the plateau\'s most robust finalist; Compare overlays another run', async () => {
    const panel = await openPanel(browser, { width: 1280, height: 900 });
    try {
      await panel.setTheme('light');
      const model = await streamRun(panel, quickstart, 50, 'run-main');
      await settleHeavy(panel);
      const analysis = model.analysis!;
      const plateau = analysis.plateau!;
      const robust = plateau.reduce((a, b) => (b.robust > a.robust ? b : a));
      assert.match(await panel.page.locator('.verdict').innerText(), /isolated peak/);
      await panel.page.locator('vscode-button', { hasText: 'Apply most robust' }).click();
      const apply = posted(await panel.posted(), 'applyParams').at(-1)!;
      assert.deepEqual(apply, { type: 'applyParams', params: robust.params, n: robust.number, which: 'robust' });
      // The robust score is a sortable column.
      await panel.page.locator('table.trials th[data-key="robust"]').click();
      const first = Number(await panel.page.locator('table.trials tbody tr[data-n]').first().getAttribute('data-n'));
      assert.equal(first, robust.number);
      // Compare with the staged run.
      await panel.page.locator('vscode-button', { hasText: 'Compare' }).click();
      assert.equal(posted(await panel.posted(), 'pickCompareRun').length, 1);
      const other = new RunModel('run-other');
      for (const e of staged) other.apply(e);
      await panel.send({ type: 'compareRun', run: other.snapshot() });
      await settleHeavy(panel);
      assert.equal(await panel.page.locator('#compare').isVisible(), true);
      const p = await probes(panel.page);
      assert.equal(p['compare-history']!.series!['this run: best so far']! > 1, true);
      assert.equal(p['compare-history']!.series!['other run: trials'], staged.filter((e) => e.type === 'trial' && e.state === 'complete').length);
      assert.ok(Object.keys(p['edf']!.series!).some((k) => k.startsWith('EMA cross')), `EDF lacks the other run: ${Object.keys(p['edf']!.series!)}`);
      const bests = await panel.page.locator('#compare table.compare').innerText();
      assert.match(bests, /fast/);
      assert.match(bests, /ema_fast/);
      await panel.page.locator('#compare').screenshot({ path: path.join(ARTIFACTS, 'webview-compare.png') });
      await panel.page.locator('#compare button', { hasText: 'Clear' }).click();
      await settleHeavy(panel);
      assert.equal(await panel.page.locator('#compare').isVisible(), false);
      assert.deepEqual(await panel.problems(), []);
    } finally {
      await panel.close();
    }
  });
});
