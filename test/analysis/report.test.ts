/**
 * `optstudy report` end to end over the built CLI, on run folders made from real backtests:
 * text, CSV, JSON and the HTML file opened in headless Chromium with every chart drawn, no
 * console error and no network request. Also a run made by the real `optstudy run`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { csvField, trialsCsv } from '../../server/report/csv';
import { ROOT } from './real-runs';
import { makeSingleObjectiveRun, makeTwoObjectiveRun, tempDir, writeJournal } from './run-folder';

const CLI = path.join(ROOT, 'dist/cli.js');

function cli(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT, timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** RFC 4180 parser for checking our own output. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let f = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (q) {
      if (ch === '"' && text[i + 1] === '"') (f += '"', i++);
      else if (ch === '"') q = false;
      else f += ch;
    } else if (ch === '"') q = true;
    else if (ch === ',') (row.push(f), (f = ''));
    else if (ch === '\r' && text[i + 1] === '\n') (row.push(f), rows.push(row), (row = []), (f = ''), i++);
    else f += ch;
  }
  if (f || row.length) (row.push(f), rows.push(row));
  return rows;
}

test('a missing, empty or corrupt run folder is a clear error with exit 2', () => {
  const missing = cli('report', '/nonexistent/run');
  assert.equal(missing.code, 2);
  assert.match(missing.err, /no such folder/);
  const empty = tempDir('empty');
  const r1 = cli('report', empty);
  assert.equal(r1.code, 2);
  assert.match(r1.err, /journal\.jsonl: missing/);
  fs.writeFileSync(path.join(empty, 'journal.jsonl'), '');
  assert.match(cli('report', empty).err, /empty/);
  fs.writeFileSync(path.join(empty, 'journal.jsonl'), 'garbage\nmore garbage\n');
  const r3 = cli('report', empty);
  assert.equal(r3.code, 2);
  assert.match(r3.err, /journal\.jsonl:1: not a JSON line/);
  fs.writeFileSync(path.join(empty, 'journal.jsonl'), JSON.stringify({ type: 'header', format: 1 }) + '\n');
  assert.match(cli('report', empty).err, /no trials recorded/);
  assert.equal(cli('report').code, 2);
  assert.equal(cli('report', empty, '--bogus').code, 2);
});

test('text summary, CSV and JSON from a real grid run; a torn last line is skipped', () => {
  const run = makeSingleObjectiveRun();
  // A crash mid-write leaves half a line at the end.
  fs.appendFileSync(path.join(run.dir, 'journal.jsonl'), '{"type":"trial","stage":"grid","num');
  const text = cli('report', run.dir);
  assert.equal(text.code, 0, text.err);
  const feasible = run.trials.filter((t) => t.state === 'complete');
  const best = feasible.reduce((a, b) => ((b.score as number) > (a.score as number) ? b : a));
  assert.match(text.out, new RegExp(`Best: #${best.number} \\[grid\\]`));
  assert.match(text.out, /Parameter importance/);
  assert.match(text.out, /Deflated Sharpe: 0\.\d+/);
  assert.match(text.out, /PBO \(CSCV/);
  assert.match(text.out, /torn last line/);
  assert.doesNotMatch(text.out, /re-ran as/, 're-runs reproduce the journal exactly');

  const csv = path.join(run.dir, 'out/trials.csv');
  const json = path.join(run.dir, 'out/summary.json');
  const r = cli('report', run.dir, '--csv', csv, '--json', json);
  assert.equal(r.code, 0, r.err);
  const rows = parseCsv(fs.readFileSync(csv, 'utf8'));
  assert.equal(rows.length, run.trials.length + 1);
  const head = rows[0]!;
  assert.deepEqual(head.slice(0, 6), ['number', 'stage', 'state', 'score', 'fast', 'slow']);
  for (const [i, t] of run.trials.entries()) {
    const row = rows[i + 1]!;
    assert.equal(row.length, head.length);
    assert.equal(row[2], t.state);
    assert.equal(row[3], t.score === null ? '' : String(t.score));
    assert.equal(row[head.indexOf('final_value')], String(t.metrics.final_value));
    assert.equal(row[head.indexOf('error')], t.error ?? '', 'commas and quotes in the error survive quoting');
  }
  assert.ok(run.trials.some((t) => t.error), 'the grid has infeasible trials with quoted errors');
  const summary = JSON.parse(fs.readFileSync(json, 'utf8'));
  assert.equal(summary.snapshot.trials, run.trials.length);
  assert.equal(summary.rankings.top[0].number, best.number);
  assert.equal(summary.run.directionsFrom, 'study');
  assert.ok(summary.reruns.pbo.pbo >= 0 && summary.reruns.pbo.pbo <= 1);
  assert.equal(summary.reruns.mismatches.length, 0);
});

test('CSV cells come from a trial’s own keys: metrics and parameters named like Object members stay blank where absent', () => {
  const trials = [
    { type: 'trial', stage: 's', number: 0, params: { constructor: 3, fast: 5 }, metrics: { constructor: 1.5, toString: 2, sharpe: 0.4 }, score: 0.4, state: 'complete' },
    { type: 'trial', stage: 's', number: 1, params: { fast: 6 }, metrics: { sharpe: 0.5 }, score: 0.5, state: 'complete' },
  ] as any[];
  const rows = trialsCsv(trials).trim().split('\r\n').map((r) => r.split(','));
  const col = (name: string) => rows[0]!.indexOf(name);
  assert.ok(col('constructor') >= 0 && col('toString') >= 0, rows[0]!.join());
  assert.equal(rows[1]![col('constructor')], '1.5');
  assert.equal(rows[2]![col('constructor')], '', 'absent: blank, not Object’s constructor');
  assert.equal(rows[2]![col('toString')], '');
  assert.equal(rows[2]![col('param_constructor')], '');
  assert.doesNotMatch(trialsCsv(trials), /function|native code/);
});

test('CSV fields are quoted exactly when needed', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('two\nlines'), '"two\nlines"');
  assert.equal(csvField(' edge'), '" edge"');
  assert.equal(csvField(null), '');
  assert.equal(csvField(Infinity), '');
  assert.equal(csvField(-1.5), '-1.5');
});

interface PageCheck {
  charts: number;
  canvases: number;
  blank: string[];
  errors: string[];
  requests: string[];
  sections: string[];
}

async function openReport(file: string): Promise<PageCheck> {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    const url = pathToFileURL(file).href;
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('request', (r) => {
      if (r.url() !== url) requests.push(r.url());
    });
    await page.goto(url);
    await page.waitForSelector('body[data-charts]', { timeout: 30_000 });
    const res = await page.evaluate(() => {
      const canvases = [...document.querySelectorAll('canvas')];
      const blank: string[] = [];
      for (const c of canvases) {
        const ctx = c.getContext('2d')!;
        const px = ctx.getImageData(0, 0, c.width, c.height).data;
        let ink = 0;
        for (let i = 3; i < px.length; i += 4) if (px[i]! > 0) ink++;
        if (c.width === 0 || ink < 200) blank.push(`${c.id} (${c.width}×${c.height}, ${ink} px)`);
      }
      return {
        charts: Number(document.body.getAttribute('data-charts')),
        canvases: canvases.length,
        blank,
        sections: [...document.querySelectorAll('section')].map((s) => s.id),
      };
    });
    const dir = path.join(ROOT, 'test/artifacts');
    fs.mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: path.join(dir, `report-${path.basename(file, '.html')}.png`), fullPage: true });
    return { ...res, errors, requests };
  } finally {
    await browser.close();
  }
}

test('the HTML report renders every chart in headless Chromium with no errors and no network', async () => {
  const run = makeSingleObjectiveRun();
  const html = path.join(run.dir, 'single.html');
  const r = cli('report', run.dir, '--html', html);
  assert.equal(r.code, 0, r.err);
  const text = fs.readFileSync(html, 'utf8');
  assert.doesNotMatch(text, /(src|href)\s*=\s*["']?(https?:)?\/\//i, 'no remote script, style or link');
  assert.doesNotMatch(text, /https?:\/\//, 'no URL at all');
  const page = await openReport(html);
  assert.deepEqual(page.errors, []);
  assert.deepEqual(page.requests, []);
  assert.deepEqual(page.blank, []);
  assert.equal(page.charts, page.canvases);
  assert.ok(page.canvases >= 6, `history, importance, slices, PBO, equity: ${page.canvases}`);
  for (const s of ['summary', 'rankings', 'history', 'importance', 'slices', 'surface', 'robustness']) assert.ok(page.sections.includes(s), s);
});

test('two objectives: directions from the study, the Pareto section and its charts', async () => {
  const run = makeTwoObjectiveRun();
  const html = path.join(run.dir, 'multi.html');
  const json = path.join(run.dir, 'multi.json');
  const r = cli('report', run.dir, '--html', html, '--json', json, '--no-reruns');
  assert.equal(r.code, 0, r.err);
  const s = JSON.parse(fs.readFileSync(json, 'utf8'));
  assert.deepEqual(s.run.directions, ['maximize', 'minimize']);
  const feasible = run.trials.filter((t) => t.state === 'complete');
  for (const p of s.snapshot.pareto) {
    const [a, b] = p.score;
    assert.ok(!feasible.some((t) => { const [x, y] = t.score as number[]; return x! >= a && y! <= b && (x! > a || y! < b); }));
  }
  const page = await openReport(html);
  assert.deepEqual(page.errors, []);
  assert.deepEqual(page.requests, []);
  assert.deepEqual(page.blank, []);
  assert.ok(page.sections.includes('pareto'));
  // Without the study file the directions come from the end line's recorded front.
  fs.rmSync(run.studyFile);
  const front = s.snapshot.pareto.map((p: { params: unknown; score: unknown; metrics: unknown }) => ({ params: p.params, score: p.score, metrics: p.metrics }));
  writeJournal(run.dir, run.studyFile, 'report multi', run.trials, { end: false, extra: JSON.stringify({ type: 'end', best: null, trials: run.trials.length, elapsedMs: 1, pareto: front }) + '\n' });
  const again = cli('report', run.dir, '--json', '-', '--no-reruns');
  assert.equal(again.code, 0, again.err);
  const s2 = JSON.parse(again.out);
  assert.deepEqual(s2.run.directions, ['maximize', 'minimize']);
  assert.equal(s2.run.directionsFrom, 'pareto');
});

test('report on a run made by the real `optstudy run` (quickstart)', () => {
  const out = tempDir('quickstart');
  fs.rmSync(out, { recursive: true });
  const run = cli('run', path.join(ROOT, 'samples/quickstart.optstudy'), '--out', out, '--json');
  assert.equal(run.code, 0, run.err.slice(-2000));
  const end = JSON.parse(run.out.trim().split('\n').pop()!);
  const r = cli('report', out, '--json', '-');
  assert.equal(r.code, 0, r.err);
  const s = JSON.parse(r.out);
  assert.equal(s.snapshot.trials, end.trials);
  assert.deepEqual(s.rankings.top[0].params, end.best.params);
  assert.equal(s.rankings.top[0].score, end.best.score);
  assert.deepEqual(s.reruns.mismatches, []);
});

test('on 5-minute bars the report measures the Deflated Sharpe on daily returns, as the sharpe metric is (21 days, not 2,142 bars)', () => {
  const out = tempDir('intraday');
  fs.rmSync(out, { recursive: true });
  const run = cli('run', path.join(ROOT, 'samples/intraday-5min.optstudy'), '--out', out, '--json');
  assert.equal(run.code, 0, run.err.slice(-2000));
  const r = cli('report', out, '--json', '-');
  assert.equal(r.code, 0, r.err);
  const d = JSON.parse(r.out).reruns.deflatedSharpe as { observations: number; sharpe: number };
  // 21 trading days: at most 20 daily returns (fewer when the best trial starts flat).
  assert.ok(d.observations > 10 && d.observations <= 20, `T = ${d.observations}`);
});

test('the study’s validate statement is re-run: walk-forward folds pick their in-sample best by the study’s rules', async () => {
  const { sliceBars, runBacktest, DEFAULT_CONFIG } = await import('../../server/engine');
  const { prices } = await import('./real-runs');
  const grid = { fast: [5, 10, 20, 40], slow: [50, 100, 200] };
  const run = makeSingleObjectiveRun(grid, { validate: 'walkforward { folds 4, train 75%, anchored }' });
  const html = path.join(run.dir, 'wf.html');
  const json = path.join(run.dir, 'wf.json');
  const r = cli('report', run.dir, '--json', json, '--html', html);
  assert.equal(r.code, 0, r.err);
  const s = JSON.parse(fs.readFileSync(json, 'utf8'));
  const v = s.validation[0];
  assert.equal(v.kind, 'walkforward');
  assert.equal(v.report.folds.length, 4);
  assert.equal(v.candidates, 12);
  for (const f of v.report.folds) {
    assert.equal(f.train.start, 0, 'anchored');
    // The fold's choice, recomputed directly: best Sharpe among trades >= 5 on the training bars.
    let best: { p: Record<string, number>; s: number } | null = null;
    for (const fast of grid.fast) for (const slow of grid.slow) {
      const m = runBacktest(sliceBars(prices(), f.train.start, f.train.end), 'sma_cross', { fast, slow }, DEFAULT_CONFIG, { trades: false }).metrics;
      if (typeof m.sharpe === 'number' && (m.trades ?? 0) >= 5 && (!best || m.sharpe > best.s)) best = { p: { fast, slow }, s: m.sharpe };
    }
    assert.deepEqual(f.params, best!.p);
    assert.equal(f.inSample.score, best!.s);
  }
  assert.ok(typeof v.report.efficiency === 'number');
  const page = await openReport(html);
  assert.deepEqual(page.errors, []);
  assert.deepEqual(page.blank, []);
  assert.ok(fs.readFileSync(html, 'utf8').includes('chart-walkforward'));

  const hold = makeSingleObjectiveRun(grid, { validate: 'holdout 30%' });
  const h = cli('report', hold.dir, '--json', '-');
  assert.equal(h.code, 0, h.err);
  const hv = JSON.parse(h.out).validation[0];
  assert.equal(hv.kind, 'holdout');
  assert.equal(hv.report.rows.length, 5);
  assert.equal(hv.report.outOfSample.end - hv.report.outOfSample.start, Math.round(prices().bars * 0.3));
});
