/**
 * Renders the built results panel (dist/webview.js + dist/webview.css) in headless Chromium the
 * way VS Code hosts it: the HTML from the extension's own builder (same CSP, same nonce scheme),
 * resources served from one origin standing in for `webview.cspSource`, a stubbed
 * `acquireVsCodeApi` that records posted messages and state, and the editor's theme variables.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildPanelHtml, makeNonce } from '../../client/panel-html';
import { spawnSync } from 'node:child_process';
import type { FromWebview, PanelViewState, ToWebview, TrialDetail } from '../../protocol/messages';
import type { ParamValues, RunEvent } from '../../protocol/run-events';
import { RunModel } from '../../client/run-model';
import { parseTrial, trialArgs } from '../../client/trial-detail';
import { sampleData } from './run-fixtures';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
const ORIGIN = 'https://optstudy-webview.test';

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Launches the system Chromium (`apt-get install chromium`; CI installs it). */
export async function launch(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) throw new Error(`${executablePath} not found: install Chromium (apt-get install -y chromium) or set CHROMIUM_PATH.`);
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS });
}

/** A recorded run (`optstudy run FILE --json` output), one event per line. */
export function readRecording(name: string): RunEvent[] {
  const file = path.join(ROOT, 'test', 'fixtures', 'runs', name);
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as RunEvent);
}

export type ThemeName = 'dark' | 'light' | 'high-contrast';

/** A subset of VS Code's theme variables (Dark Modern, Light Modern, Dark High Contrast) — the ones the panel and the toolkit read. */
export const THEMES: Record<ThemeName, { bodyClass: string; vars: Record<string, string> }> = {
  dark: {
    bodyClass: 'vscode-dark',
    vars: {
      '--vscode-font-family': '-apple-system, BlinkMacSystemFont, "Segoe WPC", "Segoe UI", "Ubuntu", "Droid Sans", sans-serif',
      '--vscode-font-size': '13px',
      '--vscode-font-weight': 'normal',
      '--vscode-foreground': '#cccccc',
      '--vscode-editor-foreground': '#cccccc',
      '--vscode-editor-background': '#1f1f1f',
      '--vscode-descriptionForeground': '#9d9d9d',
      '--vscode-editorWidget-background': '#202020',
      '--vscode-editorWidget-border': '#454545',
      '--vscode-widget-border': '#313131',
      '--vscode-panel-border': '#2b2b2b',
      '--vscode-focusBorder': '#0078d4',
      '--vscode-charts-foreground': '#cccccc',
      '--vscode-charts-lines': 'rgba(204, 204, 204, 0.5)',
      '--vscode-charts-red': '#f14c4c',
      '--vscode-charts-blue': '#3794ff',
      '--vscode-charts-yellow': '#cca700',
      '--vscode-charts-orange': '#d18616',
      '--vscode-charts-green': '#89d185',
      '--vscode-charts-purple': '#b180d7',
      '--vscode-progressBar-background': '#0078d4',
      '--vscode-list-hoverBackground': '#2a2d2e',
      '--vscode-list-activeSelectionBackground': '#04395e',
      '--vscode-list-activeSelectionForeground': '#ffffff',
      '--vscode-button-background': '#0078d4',
      '--vscode-button-foreground': '#ffffff',
      '--vscode-button-hoverBackground': '#026ec1',
      '--vscode-button-secondaryBackground': '#313131',
      '--vscode-button-secondaryForeground': '#cccccc',
      '--vscode-button-secondaryHoverBackground': '#3c3c3c',
      '--vscode-button-border': 'rgba(255, 255, 255, 0.07)',
      '--vscode-dropdown-background': '#313131',
      '--vscode-dropdown-foreground': '#cccccc',
      '--vscode-dropdown-border': '#3c3c3c',
      '--vscode-dropdown-listBackground': '#1f1f1f',
      '--vscode-badge-background': '#616161',
      '--vscode-badge-foreground': '#f8f8f8',
      '--vscode-errorForeground': '#f85149',
      '--vscode-editorWarning-foreground': '#cca700',
      '--vscode-symbolIcon-variableForeground': '#75beff',
      '--vscode-settings-dropdownListBorder': '#454545',
      '--vscode-scrollbarSlider-background': 'rgba(121, 121, 121, 0.4)',
    },
  },
  light: {
    bodyClass: 'vscode-light',
    vars: {
      '--vscode-font-family': '-apple-system, BlinkMacSystemFont, "Segoe WPC", "Segoe UI", "Ubuntu", "Droid Sans", sans-serif',
      '--vscode-font-size': '13px',
      '--vscode-font-weight': 'normal',
      '--vscode-foreground': '#3b3b3b',
      '--vscode-editor-foreground': '#3b3b3b',
      '--vscode-editor-background': '#ffffff',
      '--vscode-descriptionForeground': '#717171',
      '--vscode-editorWidget-background': '#f8f8f8',
      '--vscode-editorWidget-border': '#c8c8c8',
      '--vscode-widget-border': '#e5e5e5',
      '--vscode-panel-border': '#e5e5e5',
      '--vscode-focusBorder': '#005fb8',
      '--vscode-charts-foreground': '#616161',
      '--vscode-charts-lines': 'rgba(97, 97, 97, 0.5)',
      '--vscode-charts-red': '#e51400',
      '--vscode-charts-blue': '#1a85ff',
      '--vscode-charts-yellow': '#bf8803',
      '--vscode-charts-orange': '#d18616',
      '--vscode-charts-green': '#388a34',
      '--vscode-charts-purple': '#652d90',
      '--vscode-progressBar-background': '#005fb8',
      '--vscode-list-hoverBackground': '#f2f2f2',
      '--vscode-list-activeSelectionBackground': '#e8e8e8',
      '--vscode-list-activeSelectionForeground': '#000000',
      '--vscode-button-background': '#005fb8',
      '--vscode-button-foreground': '#ffffff',
      '--vscode-button-hoverBackground': '#0258a8',
      '--vscode-button-secondaryBackground': '#e5e5e5',
      '--vscode-button-secondaryForeground': '#3b3b3b',
      '--vscode-button-secondaryHoverBackground': '#cccccc',
      '--vscode-button-border': 'rgba(0, 0, 0, 0.1)',
      '--vscode-dropdown-background': '#ffffff',
      '--vscode-dropdown-foreground': '#3b3b3b',
      '--vscode-dropdown-border': '#cecece',
      '--vscode-dropdown-listBackground': '#ffffff',
      '--vscode-badge-background': '#cccccc',
      '--vscode-badge-foreground': '#3b3b3b',
      '--vscode-errorForeground': '#f85149',
      '--vscode-editorWarning-foreground': '#bf8803',
      '--vscode-symbolIcon-variableForeground': '#007acc',
      '--vscode-settings-dropdownListBorder': '#cecece',
      '--vscode-scrollbarSlider-background': 'rgba(100, 100, 100, 0.4)',
    },
  },
  'high-contrast': {
    bodyClass: 'vscode-high-contrast',
    vars: {
      '--vscode-font-family': '-apple-system, BlinkMacSystemFont, "Segoe WPC", "Segoe UI", "Ubuntu", "Droid Sans", sans-serif',
      '--vscode-font-size': '13px',
      '--vscode-font-weight': 'normal',
      '--vscode-foreground': '#ffffff',
      '--vscode-editor-foreground': '#ffffff',
      '--vscode-editor-background': '#000000',
      '--vscode-descriptionForeground': 'rgba(255, 255, 255, 0.7)',
      '--vscode-editorWidget-background': '#0c141f',
      '--vscode-editorWidget-border': '#6fc3df',
      '--vscode-widget-border': '#6fc3df',
      '--vscode-panel-border': '#6fc3df',
      '--vscode-contrastBorder': '#6fc3df',
      '--vscode-contrastActiveBorder': '#f38518',
      '--vscode-focusBorder': '#f38518',
      '--vscode-charts-foreground': '#ffffff',
      '--vscode-charts-lines': 'rgba(255, 255, 255, 0.5)',
      '--vscode-charts-red': '#f48771',
      '--vscode-charts-blue': '#3794ff',
      '--vscode-charts-yellow': '#ffd700',
      '--vscode-charts-orange': '#f38518',
      '--vscode-charts-green': '#89d185',
      '--vscode-charts-purple': '#b180d7',
      '--vscode-progressBar-background': '#6fc3df',
      '--vscode-list-hoverBackground': 'transparent',
      '--vscode-list-activeSelectionBackground': 'transparent',
      '--vscode-list-activeSelectionForeground': '#ffffff',
      '--vscode-list-focusOutline': '#f38518',
      '--vscode-button-background': '#000000',
      '--vscode-button-foreground': '#ffffff',
      '--vscode-button-border': '#6fc3df',
      '--vscode-button-secondaryBackground': '#000000',
      '--vscode-button-secondaryForeground': '#ffffff',
      '--vscode-dropdown-background': '#000000',
      '--vscode-dropdown-foreground': '#ffffff',
      '--vscode-dropdown-border': '#6fc3df',
      '--vscode-dropdown-listBackground': '#000000',
      '--vscode-badge-background': '#000000',
      '--vscode-badge-foreground': '#ffffff',
      '--vscode-errorForeground': '#f48771',
      '--vscode-editorWarning-foreground': '#ffd700',
      '--vscode-symbolIcon-variableForeground': '#ffffff',
      '--vscode-settings-dropdownListBorder': '#6fc3df',
    },
  },
};

export interface PanelPage {
  page: Page;
  /** Messages the panel posted (via the stubbed `acquireVsCodeApi`). */
  posted(): Promise<FromWebview[]>;
  /** Delivers a message as VS Code does (a `message` event on the window). */
  send(m: ToWebview): Promise<void>;
  setTheme(t: ThemeName): Promise<void>;
  /** CSP violations and page errors seen so far. */
  problems(): Promise<string[]>;
  close(): Promise<void>;
}

/** Opens the panel in a new page. `state` is what `getState()` returns (a restored panel). */
export async function openPanel(browser: Browser, opts: { state?: PanelViewState; width?: number; height?: number } = {}): Promise<PanelPage> {
  const page = await browser.newPage({ viewport: { width: opts.width ?? 1280, height: opts.height ?? 900 } });
  const nonce = makeNonce();
  const html = buildPanelHtml({ cspSource: ORIGIN, scriptUri: `${ORIGIN}/dist/webview.js`, styleUri: `${ORIGIN}/dist/webview.css`, nonce });
  await page.route(`${ORIGIN}/**`, async (route) => {
    const url = new URL(route.request().url());
    if (url.pathname === '/index.html') return route.fulfill({ status: 200, contentType: 'text/html', body: html });
    const file = path.join(ROOT, url.pathname);
    if (!url.pathname.startsWith('/dist/') || !existsSync(file)) return route.fulfill({ status: 404, body: 'not found' });
    const type = file.endsWith('.js') ? 'text/javascript' : file.endsWith('.css') ? 'text/css' : 'application/octet-stream';
    return route.fulfill({ status: 200, contentType: type, body: readFileSync(file) });
  });
  // Everything else (no remote content is allowed) fails loudly.
  await page.route((url) => !url.href.startsWith(ORIGIN), (route) => route.abort());
  await page.addInitScript((state) => {
    const w = window as unknown as Record<string, unknown>;
    w['__posted'] = [];
    w['__problems'] = [];
    w['__state'] = state;
    w['acquireVsCodeApi'] = () => ({
      postMessage: (m: unknown) => (w['__posted'] as unknown[]).push(JSON.parse(JSON.stringify(m))),
      getState: () => w['__state'],
      setState: (s: unknown) => {
        w['__state'] = s;
      },
    });
    document.addEventListener('securitypolicyviolation', (e) => {
      (w['__problems'] as string[]).push(`CSP: ${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}:${e.columnNumber} ${e.sample}`);
    });
    window.addEventListener('error', (e) => (w['__problems'] as string[]).push(`error: ${e.message}`));
    // Ink probe: what each canvas last drew — text boxes (device pixels, after the transform)
    // and stroke colours — so tests can check clipping, overlaps, axis titles and contrast.
    // A full-canvas clearRect starts a new frame.
    type Ink = { texts: { text: string; x0: number; y0: number; x1: number; y1: number }[]; strokes: { color: string; alpha: number; width: number }[] };
    const P = CanvasRenderingContext2D.prototype;
    const inkOf = (ctx: CanvasRenderingContext2D): Ink => {
      const c = ctx.canvas as unknown as { __ink?: Ink };
      return (c.__ink ??= { texts: [], strokes: [] });
    };
    const clear = P.clearRect;
    P.clearRect = function (this: CanvasRenderingContext2D, x: number, y: number, wd: number, ht: number) {
      const t = this.getTransform();
      if (x <= 0 && y <= 0 && (x + wd) * t.a >= this.canvas.width - 1 && (y + ht) * t.d >= this.canvas.height - 1) {
        (this.canvas as unknown as { __ink?: Ink }).__ink = { texts: [], strokes: [] };
      }
      return clear.call(this, x, y, wd, ht);
    };
    const fill = P.fillText;
    P.fillText = function (this: CanvasRenderingContext2D, text: string, x: number, y: number, maxWidth?: number) {
      const m = this.measureText(text);
      const t = this.getTransform();
      const pts = [
        [x - m.actualBoundingBoxLeft, y - m.actualBoundingBoxAscent],
        [x + m.actualBoundingBoxRight, y - m.actualBoundingBoxAscent],
        [x - m.actualBoundingBoxLeft, y + m.actualBoundingBoxDescent],
        [x + m.actualBoundingBoxRight, y + m.actualBoundingBoxDescent],
      ].map(([px, py]) => [t.a * px! + t.c * py! + t.e, t.b * px! + t.d * py! + t.f]);
      const xs = pts.map((p) => p[0]!);
      const ys = pts.map((p) => p[1]!);
      if (String(text).trim()) inkOf(this).texts.push({ text: String(text), x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs), y1: Math.max(...ys) });
      return maxWidth === undefined ? fill.call(this, text, x, y) : fill.call(this, text, x, y, maxWidth);
    };
    const stroke = P.stroke;
    P.stroke = function (this: CanvasRenderingContext2D, ...args: unknown[]) {
      if (typeof this.strokeStyle === 'string') inkOf(this).strokes.push({ color: this.strokeStyle, alpha: this.globalAlpha, width: this.lineWidth });
      return (stroke as (...a: unknown[]) => void).apply(this, args);
    };
  }, opts.state);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`);
  });
  await page.goto(`${ORIGIN}/index.html`);
  await page.waitForFunction(() => (window as unknown as { __posted: { type: string }[] }).__posted.some((m) => m.type === 'ready'));
  return {
    page,
    posted: () => page.evaluate(() => (window as unknown as { __posted: FromWebview[] }).__posted),
    // As JSON text, as VS Code carries webview messages: Playwright's own argument encoding
    // took 45 s for a 100,000-trial snapshot.
    send: (m) => page.evaluate((json) => window.postMessage(JSON.parse(json), '*'), JSON.stringify(m)),
    async setTheme(t) {
      const th = THEMES[t];
      await page.evaluate(({ cls, vars }) => {
        for (const [k, v] of Object.entries(vars)) document.documentElement.style.setProperty(k, v);
        document.body.className = cls;
      }, { cls: th.bodyClass, vars: th.vars });
      // Two frames: the theme observer redraws in the next animation frame.
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    },
    problems: async () => [...pageErrors, ...(await page.evaluate(() => (window as unknown as { __problems: string[] }).__problems))],
    close: () => page.close(),
  };
}

/** Waits until the page has drawn its pending frames. */
export async function settle(page: Page): Promise<void> {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

/** What a canvas drew last (see the ink probe in {@link openPanel}). */
export interface CanvasInkRecord {
  card: string;
  width: number;
  height: number;
  texts: { text: string; x0: number; y0: number; x1: number; y1: number }[];
  strokes: { color: string; alpha: number; width: number }[];
}

/** The texts and strokes every visible canvas drew in its last frame. */
export async function canvasRecords(page: Page): Promise<CanvasInkRecord[]> {
  return page.evaluate(() => {
    const out: CanvasInkRecord[] = [];
    for (const c of document.querySelectorAll('canvas')) {
      const card = c.closest('.card') as HTMLElement | null;
      if (!card || card.hidden || c.width === 0 || c.offsetParent === null) continue;
      const ink = (c as unknown as { __ink?: { texts: CanvasInkRecord['texts']; strokes: CanvasInkRecord['strokes'] } }).__ink ?? { texts: [], strokes: [] };
      out.push({ card: card.id, width: c.width, height: c.height, texts: ink.texts, strokes: ink.strokes });
    }
    return out;
  });
}

/** WCAG contrast ratio of two CSS colours (alpha ignored), as the browser resolves them. */
export function contrastRatio(a: [number, number, number], b: [number, number, number]): number {
  const lum = ([r, g, bl]: [number, number, number]) => {
    const f = (v: number) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(bl);
  };
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p) as [number, number];
  return (x + 0.05) / (y + 0.05);
}

/** Parses `#rgb`, `#rrggbb` and `rgb(a)(…)` into [r, g, b, a]. */
export function parseColor(c: string): [number, number, number, number] | null {
  const s = c.trim();
  const hex = /^#([0-9a-f]{3,8})$/i.exec(s);
  if (hex) {
    let h = hex[1]!;
    if (h.length <= 4) h = h.split('').map((x) => x + x).join('');
    return [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16), h.length >= 8 ? parseInt(h.slice(6, 8), 16) / 255 : 1];
  }
  const rgb = /^rgba?\(([^)]+)\)$/i.exec(s);
  if (rgb) {
    const p = rgb[1]!.split(',').map((x) => parseFloat(x));
    return [p[0]!, p[1]!, p[2]!, p[3] ?? 1];
  }
  return null;
}

/** Non-background pixels of each visible canvas, by the id of the card holding it. */
export async function canvasInk(page: Page): Promise<Record<string, number>> {
  return page.evaluate(() => {
    const out: Record<string, number> = {};
    for (const c of document.querySelectorAll('canvas')) {
      const card = c.closest('.card') as HTMLElement | null;
      if (!card || card.hidden || c.width === 0) continue;
      const ctx = c.getContext('2d');
      if (!ctx) continue;
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      let ink = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) ink++;
      out[card.id] = (out[card.id] ?? 0) + ink;
    }
    return out;
  });
}

/** Where the browser tests write their screenshots (the DESIGN's "Test artifacts" contract). */
export const ARTIFACTS = path.join(ROOT, 'test', 'artifacts');

/**
 * Streams events into the panel the way the extension does: the run model folds them, the
 * panel gets a snapshot first, then one delta per `batch` events.
 */
export async function streamRun(panel: PanelPage, events: RunEvent[], batch: number, id = 'run-1'): Promise<RunModel> {
  const model = new RunModel(id);
  model.apply(events[0]!);
  await panel.send({ type: 'snapshot', run: model.snapshot() });
  for (let i = 1; i < events.length; i += batch) {
    for (const e of events.slice(i, i + batch)) model.apply(e);
    const d = model.takeDelta();
    if (d) await panel.send({ type: 'delta', delta: d });
  }
  await settle(panel.page);
  return model;
}

/** Waits for the heavy views' throttled redraw after the last message. */
export async function settleHeavy(panel: PanelPage): Promise<void> {
  await panel.page.waitForTimeout(650);
  // A hang guard, not a speed check (webview-bench measures speed).
  await panel.page.waitForFunction(() => (window as unknown as { __optstudyIdle: () => boolean }).__optstudyIdle(), undefined, { timeout: 60_000 });
  await settle(panel.page);
}

/** Text boxes of one canvas that overlap another by more than `tol` pixels both ways. */
export function overlappingTexts(r: CanvasInkRecord, tol = 1): string[] {
  const out: string[] = [];
  const t = r.texts;
  for (let i = 0; i < t.length; i++) {
    for (let j = i + 1; j < t.length; j++) {
      const a = t[i]!;
      const b = t[j]!;
      const ox = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
      const oy = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
      if (ox > tol && oy > tol) out.push(`${r.card}: "${a.text}" overlaps "${b.text}"`);
    }
  }
  return out;
}

/** Text boxes of one canvas that are cut by its edges. */
export function clippedTexts(r: CanvasInkRecord, tol = 1): string[] {
  return r.texts
    .filter((x) => x.x0 < -tol || x.y0 < -tol || x.x1 > r.width + tol || x.y1 > r.height + tol)
    .map((x) => `${r.card}: "${x.text}" is clipped (${Math.round(x.x0)},${Math.round(x.y0)})–(${Math.round(x.x1)},${Math.round(x.y1)}) in ${r.width}×${r.height}`);
}

/**
 * Re-runs a trial of a sample study as Open Trial does (the extension's own arguments and parser
 * around the built CLI's `optstudy trial`), so the panel gets a real trial detail: per-bar
 * equity, buy-and-hold, trades.
 */
export function rerunTrial(studyFile: string, n: number, params: ParamValues, runId?: string, intent?: TrialDetail['intent']): TrialDetail {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), ...trialArgs(studyFile, undefined, params)], { encoding: 'utf8', cwd: path.dirname(studyFile) });
  if (r.status !== 0) throw new Error(`optstudy trial failed: ${r.stderr}`);
  return parseTrial({ n, runId, intent }, params, r.stdout);
}

/** A small sma_cross grid on ORCL 2005–2014 validated by a 3-fold anchored walk-forward. */
export function walkForwardStudy(name: string): string {
  return `
study "${name}" {
  data "${sampleData('orcl-1995-2014.txt')}" from 2005-01-01 to 2014-12-31
  strategy sma_cross
  objective maximize sharpe
  stage "grid" {
    param fast in [5, 10, 20]
    param slow in [30, 60]
  }
  validate walkforward { folds 3, train 60%, anchored }
  seed 3
}
`;
}

/** Where a Chart.js chart drew point `index` of the dataset labelled `label` (CSS pixels in its canvas), or null. */
export async function pointOf(page: Page, canvasSelector: string, label: string, index = 0): Promise<{ x: number; y: number } | null> {
  return page.evaluate(({ sel, label, index }) => (window as unknown as { __optstudyPointOf: (s: string, l: string, i: number) => { x: number; y: number } | null }).__optstudyPointOf(sel, label, index), { sel: canvasSelector, label, index });
}
