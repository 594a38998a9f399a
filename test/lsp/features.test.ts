// Hover, inlay hints, code lenses, symbols, definition, rename, quick fixes and the custom
// requests through the built server.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { KEYWORDS } from '../../grammar/index';
import { ROOT } from '../support/lsp-client';
import { FIXTURES, LspSession, SAMPLES, applyEdits, positionOf, textOf } from '../support/lsp-session';

let s: LspSession;
before(async () => {
  s = await LspSession.start();
});
after(() => s.stop());

// Copies of samples (test/fixtures/lsp), so sizes asserted here do not move when a sample is
// edited; they are opened under samples/ so their data paths resolve.
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name), 'utf8');
const QUICK = fixture('quickstart.optstudy');
const STAGED = fixture('ema-atr-staged.optstudy');
const PY = fixture('python-strategy.optstudy');
const BROKEN = fixture('broken.optstudy');
const sample = (name: string, text: string) => s.open(path.join(SAMPLES, name), text);

test('hover on a searched parameter: type, default, doc, domain and number of values', async () => {
  const uri = sample('quickstart.optstudy', QUICK);
  const h = await s.hover(uri, positionOf(QUICK, 'param fast', 7));
  assert.match(h.contents.value, /\*\*fast\*\*: `int` = `10`/);
  assert.match(h.contents.value, /Period of the fast SMA/);
  assert.match(h.contents.value, /Domain: `5 \.\. 50 step 5` · 10 values/);
  assert.equal(textOf(QUICK, h.range), 'fast');
  const inWhere = await s.hover(uri, positionOf(QUICK, 'fast < slow', 1));
  assert.match(inWhere.contents.value, /\*\*fast\*\*.*\n[\s\S]*10 values/);
});

test('hover on metrics, functions, search methods, options, stages and studies', async () => {
  const uri = sample('ema-atr-staged.optstudy', STAGED);
  const metric = await s.hover(uri, positionOf(STAGED, 'max_drawdown_pct / 100', 2));
  assert.match(metric.contents.value, /\*\*max_drawdown_pct\*\* — metric \(percent, lower is better\)/);
  assert.match(metric.contents.value, /peak-to-trough/);
  const fn = await s.hover(uri, positionOf(STAGED, 'max(sharpe', 1));
  assert.match(fn.contents.value, /max\(a, b, …\)/);
  const method = await s.hover(uri, positionOf(STAGED, 'bayes', 2));
  assert.match(method.contents.value, /\*\*bayes\*\* search/);
  assert.match(method.contents.value, /`acquisition`/);
  const option = await s.hover(uri, positionOf(STAGED, 'acquisition ei', 3));
  assert.match(option.contents.value, /expected improvement/);
  const stage = await s.hover(uri, positionOf(STAGED, '"risk"', 2));
  assert.match(stage.contents.value, /Stage "risk".* — 16 backtests \(feasible combinations\)/);
  const stage2 = await s.hover(uri, positionOf(STAGED, '"entry"', 2));
  assert.match(stage2.contents.value, /60 backtests \(trials \(bayes search\)\)/);
  const study = await s.hover(uri, positionOf(STAGED, 'study "EMA', 2));
  assert.match(study.contents.value, /76 backtests of `ema_atr`/);
  const strat = await s.hover(uri, positionOf(STAGED, 'strategy ema_atr', 10));
  assert.match(strat.contents.value, /built-in strategy/);
  assert.match(strat.contents.value, /atr_period/);
  assert.equal(await s.hover(uri, positionOf(STAGED, '// of traded', 5)), null, 'no hover in comments');
});

test('hover on every keyword of the language where it stands (statements at a line start too)', async () => {
  const files = [path.join(ROOT, 'test', 'fixtures', 'studies', 'valid', 'everything.optstudy'), ...['quickstart.optstudy', 'ema-atr-staged.optstudy', 'multi-objective.optstudy', 'python-strategy.optstudy'].map((f) => path.join(SAMPLES, f))];
  const seen = new Set<string>();
  const missing: string[] = [];
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    const uri = s.open(file, text);
    const lines = text.split('\n');
    for (const [i, line] of lines.entries()) {
      for (const m of line.matchAll(/[A-Za-z_]\w*/g)) {
        // Words of the language, not in a comment or a string (`data "data/…"`).
        const before = line.slice(0, m.index);
        if (!Object.prototype.hasOwnProperty.call(KEYWORDS, m[0]) || /\/\//.test(before) || (before.match(/"/g) ?? []).length % 2 === 1) continue;
        seen.add(m[0]);
        const h = await s.hover(uri, { line: i, character: m.index! + 1 });
        if (!h?.contents?.value) missing.push(`${path.basename(file)}:${i + 1} ${m[0]}: ${line.trim()}`);
      }
    }
    s.close(uri);
  }
  assert.deepEqual(missing, []);
  for (const k of ['objective', 'stage', 'param', 'cash', 'commission', 'sizing', 'where', 'early_stop', 'timeout', 'retries', 'executor', 'warm_start', 'true', 'false']) assert.ok(seen.has(k), `${k} occurs in the files`);
});

test('inlay hints: values per domain and the feasible size per stage', async () => {
  const uri = sample('quickstart.optstudy', QUICK);
  const hints = await s.inlayHints(uri);
  const labels = hints.map((h) => `${h.position.line}:${h.label}`);
  const fastLine = positionOf(QUICK, 'param fast').line;
  const stageLine = positionOf(QUICK, 'stage "grid"').line;
  assert.ok(labels.includes(`${fastLine}:· 10 values`), labels.join());
  assert.ok(labels.includes(`${fastLine + 1}:· 19 values`), labels.join());
  assert.ok(labels.includes(`${stageLine}:174 combinations`), labels.join());
  // Only the requested range.
  const none = await s.inlayHints(uri, { start: { line: 0, character: 0 }, end: { line: 2, character: 0 } });
  assert.deepEqual(none, []);
  // One value and one combination: singular.
  const pinnedText = QUICK.replace(/param fast in [^\n]*/, 'param fast in [10]').replace(/param slow in [^\n]*/, 'param slow in [30]');
  const pinned = (await s.inlayHints(s.open('pinned.optstudy', pinnedText))).map((h) => h.label);
  assert.ok(pinned.includes('1 combination') && pinned.includes('· 1 value'), pinned.join());
});

test('code lenses: run study and run stage with their sizes and command arguments; an estimate after a throughput report', async () => {
  const uri = sample('ema-atr-staged.optstudy', STAGED);
  const lenses = await s.codeLenses(uri);
  const study = lenses.find((l) => l.command.command === 'optstudy.run');
  assert.equal(study.command.title, '▶ Run study · 76 backtests');
  assert.deepEqual(study.command.arguments, [{ uri, study: 'EMA cross with ATR exits' }]);
  assert.equal(study.range.start.line, positionOf(STAGED, 'study "EMA').line);
  const stages = lenses.filter((l) => l.command.command === 'optstudy.runStage');
  assert.deepEqual(stages.map((l) => l.command.title), ['▶ Run stage · 16 backtests', '▶ Run stage · 60 backtests']);
  assert.deepEqual(stages[1].command.arguments, [{ uri, study: 'EMA cross with ATR exits', stage: 'entry' }]);
  s.notify('optstudy/throughput', { backtestsPerSecond: 4 });
  const later = await s.codeLenses(uri);
  // The grid: 16 backtests at 4/s = 4 s. The bayes stage asks one point at a time, so its 60
  // backtests run one by one on the study's 2 workers (0.5 s each = 30 s), plus the Gaussian
  // process's proposals (≈ 0.4 s): ≈ 34 s in all, not the 19 s of 76 backtests at 4/s.
  assert.equal(later.find((l) => l.command.command === 'optstudy.run').command.title, '▶ Run study · 76 backtests · ≈ 34 s');
  assert.deepEqual(later.filter((l) => l.command.command === 'optstudy.runStage').map((l) => l.command.title), ['▶ Run stage · 16 backtests · ≈ 4 s', '▶ Run stage · 60 backtests · ≈ 30 s']);
  s.notify('optstudy/throughput', { backtestsPerSecond: 0 });
  assert.equal((await s.codeLenses(uri)).find((l) => l.command.command === 'optstudy.run').command.title, '▶ Run study · 76 backtests');
});

test('time estimates of model-based stages count their sequential backtests and the proposals (#19 item 8)', async () => {
  // 500 bayes trials measured at 200 backtests/s on 2 workers: 2.5 s if it ran like a grid,
  // but one at a time (5 s) plus a Gaussian process refitted on every told trial (≈ 27 s).
  const text = STAGED.replace('search bayes { trials 60, init 10, acquisition ei }', 'search bayes { trials 500 }');
  const uri = s.open('estimate.optstudy', text);
  s.notify('optstudy/throughput', { backtestsPerSecond: 200, workers: 2 });
  const titles = (await s.codeLenses(uri)).filter((l) => l.command.command === 'optstudy.runStage').map((l) => l.command.title);
  assert.equal(titles[0], '▶ Run stage · 16 backtests · < 1 s');
  const secs = Number(/≈ (\d+) s$/.exec(titles[1])?.[1]);
  assert.ok(secs >= 25 && secs <= 45, titles[1]);
  // tpe asks 4 points at a time (2 backtests side by side here) and refits cheaply: seconds.
  s.change(uri, text.replace('search bayes { trials 500 }', 'search tpe { trials 500 }'));
  const tpe = (await s.codeLenses(uri)).filter((l) => l.command.command === 'optstudy.runStage').map((l) => l.command.title)[1];
  const tpeSecs = Number(/≈ (\d+) s$/.exec(tpe)?.[1]);
  assert.ok(tpeSecs >= 2 && tpeSecs * 3 < secs, `${tpe} vs ${titles[1]}`);
  s.notify('optstudy/throughput', { backtestsPerSecond: 0 });
  s.close(uri);
});

test('document symbols: strategy → params, study → stages → params', async () => {
  const uri = sample('python-strategy.optstudy', PY);
  const syms = await s.symbols(uri);
  assert.equal(syms.length, 2);
  assert.equal(syms[0].name, 'sma_py');
  assert.deepEqual(syms[0].children.map((c: any) => c.name), ['fast', 'slow']);
  assert.equal(syms[1].name, 'SMA cross in Python');
  assert.equal(syms[1].children[0].name, 'grid');
  assert.deepEqual(syms[1].children[0].children.map((c: any) => c.name), ['fast', 'slow']);
  assert.equal(syms[1].children[0].detail, '27 backtests');
});

test('go to definition: a declared strategy, its parameters, and data paths opening the file', async () => {
  const uri = sample('python-strategy.optstudy', PY);
  const def = await s.definition(uri, positionOf(PY, 'strategy sma_py\n', 10));
  assert.equal(def[0].uri, uri);
  assert.deepEqual(def[0].range.start, positionOf(PY, 'sma_py', 0));
  const param = await s.definition(uri, positionOf(PY, 'param fast in', 7));
  assert.deepEqual(param[0].range.start, positionOf(PY, 'fast: int', 0));
  const data = await s.definition(uri, positionOf(PY, 'data/orcl', 3));
  assert.equal(data[0].uri, pathToFileURL(path.join(SAMPLES, 'data', 'orcl-1995-2014.txt')).href);
  assert.equal(await s.definition(uri, positionOf(PY, 'sharpe', 2)), null);
});

test('document links on existing data paths', async () => {
  const uri = sample('python-strategy.optstudy', PY);
  const links = await s.request('textDocument/documentLink', { textDocument: { uri } });
  assert.equal(links.length, 1);
  assert.equal(links[0].target, pathToFileURL(path.join(SAMPLES, 'data', 'orcl-1995-2014.txt')).href);
  assert.equal(textOf(PY, links[0].range), 'data/orcl-1995-2014.txt');
  const missing = s.open('nolink.optstudy', 'study "s" {\n  data "nope.txt"\n}\n');
  assert.deepEqual(await s.request('textDocument/documentLink', { textDocument: { uri: missing } }), []);
});

test('rename a declared strategy and one of its parameters everywhere; built-ins cannot be renamed', async () => {
  const uri = sample('python-strategy.optstudy', PY);
  const prep = await s.prepareRename(uri, positionOf(PY, 'strategy sma_py\n', 10));
  assert.equal(prep.placeholder, 'sma_py');
  const edit = await s.rename(uri, positionOf(PY, 'strategy sma_py\n', 10), 'sma_python');
  const renamed = applyEdits(PY, edit.changes[uri]);
  assert.equal(renamed.match(/sma_python/g)!.length, 2);
  assert.ok(!/\bsma_py\b/.test(renamed));
  const p = await s.rename(uri, positionOf(PY, 'where fast', 6), 'quick');
  const after = applyEdits(PY, p.changes[uri]);
  assert.match(after, /param quick: int = 10/);
  assert.match(after, /param quick in 5 \.\. 30 step 5/);
  assert.match(after, /where quick < slow/);
  assert.ok(!/\bfast\b/.test(after.replace(/^\/\/.*$/gm, '')));
  // The renamed document is still clean.
  const check = s.open('renamed.optstudy', after.replace('data/orcl', '../../../samples/data/orcl'));
  assert.deepEqual((await s.diagnostics(check)).filter((d) => d.severity === 1), []);
  // A built-in strategy's parameter is not renameable; an invalid name is refused.
  const q = sample('quickstart.optstudy', QUICK);
  assert.equal(await s.prepareRename(q, positionOf(QUICK, 'param fast', 7)), null);
  await assert.rejects(s.rename(uri, positionOf(PY, 'where fast', 6), '9lives'), /not a valid name/);
});

test('quick fixes from diagnostics: did-you-mean, swapped bounds, a step for a grid range, swapped dates', async () => {
  const uri = sample('broken.optstudy', BROKEN);
  const diags = await s.diagnostics(uri);
  let text = BROKEN;
  const applied: string[] = [];
  for (const code of ['unknown-metric', 'reversed-range', 'continuous-in-grid', 'unknown-parameter', 'date-order']) {
    const d = diags.find((x) => x.code === code);
    const actions = await s.codeActions(uri, d.range, [d]);
    assert.ok(actions.length >= 1, `a fix for ${code}`);
    const preferred = actions.find((a) => a.isPreferred) ?? actions[0];
    assert.equal(preferred.kind, 'quickfix');
    applied.push(preferred.title);
    text = applyEdits(text, preferred.edit.changes[uri]);
  }
  assert.deepEqual(applied, [
    "Replace with 'sharpe'",
    'Swap the bounds (5 .. 50)',
    'Give the range a step (step 20)',
    "Replace with 'fast'",
    'Swap the dates (from 2005-12-31 to 2014-01-01)',
  ]);
  assert.match(text, /objective maximize sharpe/);
  assert.match(text, /param fast in 5 \.\. 50 step 5/);
  assert.match(text, /param slow in 20 \.\. 200 step 20/);
  // After the fixes only the duplicate `fast` remains; its quick fix removes the line.
  const fixed = s.open(path.join(SAMPLES, 'broken-fixed.optstudy'), text);
  const left = (await s.diagnostics(fixed)).filter((d) => d.severity === 1);
  const dup = left.find((d) => d.code === 'duplicate-param' || d.code === 'param-in-several-stages');
  assert.ok(dup, JSON.stringify(left));
  const removal = await s.codeActions(fixed, dup.range, [dup]);
  assert.match(removal[0].title, /Remove this `param fast`/);
  const final = applyEdits(text, removal[0].edit.changes[fixed]);
  assert.equal(final.match(/param fast/g)!.length, 1);
  const clean = s.open(path.join(SAMPLES, 'broken-final.optstudy'), final);
  assert.deepEqual((await s.diagnostics(clean)).filter((d) => d.severity === 1), []);
});

test('quick fix: a continuous range in a grid stage can switch the stage to random search', async () => {
  const text = 'study "s" {\n  strategy sma_cross\n  objective maximize sharpe\n  stage "g" {\n    param fast in 5 .. 50\n  }\n}\n';
  const uri = s.open('nosearch.optstudy', text);
  const d = (await s.diagnostics(uri)).find((x) => x.code === 'continuous-in-grid');
  const actions = await s.codeActions(uri, d.range, [d]);
  const random = actions.find((a) => /random/.test(a.title));
  assert.ok(random, JSON.stringify(actions.map((a) => a.title)));
  const after = applyEdits(text, random.edit.changes[uri]);
  assert.match(after, /stage "g" \{\n    search random \{ trials 100 \}\n    param fast in 5 \.\. 50/);
  const again = s.open('nosearch-fixed.optstudy', after);
  assert.ok(!(await s.diagnostics(again)).some((x) => x.code === 'continuous-in-grid'));
});

test('optstudy/resolveStudy and optstudy/gridSize', async () => {
  const two = QUICK + '\n' + STAGED.replace(/^\/\/.*\n/gm, '');
  const uri = s.open(path.join(SAMPLES, 'two-studies.optstudy'), two);
  const all = await s.request('optstudy/resolveStudy', { uri });
  assert.deepEqual(all.studies.map((x: any) => x.name), ['SMA cross quickstart', 'EMA cross with ATR exits']);
  const at = await s.request('optstudy/resolveStudy', { uri, position: positionOf(two, 'search bayes') });
  assert.equal(at.studies.length, 1);
  const st = at.studies[0];
  assert.equal(st.name, 'EMA cross with ATR exits');
  assert.equal(st.file, path.join(SAMPLES, 'two-studies.optstudy'));
  assert.equal(st.hasErrors, false);
  assert.equal(st.model.strategy.name, 'ema_atr');
  assert.deepEqual(st.model.stages.map((x: any) => x.name), ['risk', 'entry']);
  assert.equal(st.model.data.path, 'data/nvda-1999-2014.txt');
  // Between studies: the next one down.
  const between = await s.request('optstudy/resolveStudy', { uri, position: { line: positionOf(two, 'study "EMA').line - 1, character: 0 } });
  assert.equal(between.studies[0].name, 'EMA cross with ATR exits');
  const byName = await s.request('optstudy/resolveStudy', { uri, study: 'SMA cross quickstart' });
  assert.equal(byName.studies[0].model.total, 174);
  const sizes = await s.request('optstudy/gridSize', { uri });
  assert.deepEqual(
    sizes.studies.map((x: any) => [x.name, x.total, x.stages.map((y: any) => [y.name, y.size, y.search])]),
    [
      ['SMA cross quickstart', 174, [['grid', 174, 'grid']]],
      ['EMA cross with ATR exits', 76, [['risk', 16, 'grid'], ['entry', 60, 'bayes']]],
    ],
  );
  // A file that is not open is read from disk.
  const disk = await s.request('optstudy/gridSize', { uri: pathToFileURL(path.join(FIXTURES, 'quickstart.optstudy')).href });
  assert.equal(disk.version, -1, 'read from disk, not an open document');
  assert.equal(disk.studies[0].total, 174);
});

test('quick fixes: an explicit trials budget, and a data line offering the price files beside the study', async () => {
  const text = 'study "s" {\n  strategy sma_cross\n  objective maximize sharpe\n  stage "g" {\n    search bayes\n    param fast in 5 .. 50\n  }\n}\n';
  const uri = s.open(path.join(SAMPLES, 'no-data.optstudy'), text);
  const diags = await s.diagnostics(uri);
  const trials = diags.find((d) => d.code === 'default-trials');
  const t = await s.codeActions(uri, trials.range, [trials]);
  assert.equal(t[0].title, 'Set the budget explicitly (trials 100)');
  let fixed = applyEdits(text, t[0].edit.changes[uri]);
  assert.match(fixed, /search bayes \{ trials 100 \}/);
  const missing = diags.find((d) => d.code === 'missing-data');
  const m = await s.codeActions(uri, missing.range, [missing]);
  const titles = m.map((a) => a.title);
  assert.ok(titles.includes('Add `data "data/orcl-1995-2014.txt"`'), titles.join());
  fixed = applyEdits(fixed, m.find((a) => a.title.includes('orcl-1995-2014')).edit.changes[uri]);
  assert.match(fixed, /^study "s" \{\n  data "data\/orcl-1995-2014\.txt"\n  strategy sma_cross/);
  const after = s.open(path.join(SAMPLES, 'no-data-fixed.optstudy'), fixed);
  const left = await s.diagnostics(after);
  assert.deepEqual(left.filter((d) => d.severity <= 2).map((d) => d.code), []);
});

test('a path outside the workspace is flagged (shared workspace checks)', async () => {
  const text = 'study "s" {\n  data "../../../../../etc/hostname"\n  strategy sma_cross\n  objective maximize sharpe\n  stage "g" {\n    param fast in [5]\n  }\n}\n';
  const uri = s.open('outside.optstudy', text);
  const diags = await s.diagnostics(uri);
  assert.ok(diags.some((d) => d.code === 'path-outside-workspace' && d.range.start.line === 1), JSON.stringify(diags.map((d) => d.code)));
});
