/**
 * Analysis by parts (grammar/incremental.ts): on clean documents it equals the one-parse
 * analysis; an `Analyzer` kept through thousands of random edits equals a fresh analysis of
 * every version; and an edit parses and checks only what it touched. Pure functions, no server.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Analyzer, analyze, type DocumentAnalysis } from '../../grammar/index';
import { analyzeWhole } from '../../grammar/analyze';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const norm = (x: unknown) => JSON.stringify(x, (_k, v) => (v instanceof Map ? [...v.entries()] : typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));

function files(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.optstudy') && fs.statSync(path.join(dir, f)).isFile())
    .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
}
const samples = files(path.join(ROOT, 'samples'));
const valid = files(path.join(ROOT, 'test', 'fixtures', 'studies', 'valid'));
const invalid = files(path.join(ROOT, 'test', 'fixtures', 'studies', 'invalid'));
// All samples in one file (studies and strategies renamed so names stay unique).
const combined = samples.map((t, i) => t.replace(/study "([^"]*)"/g, `study "$1 #${i}"`).replace(/\bstrategy (\w+) (command|module|backtrader)/g, `strategy $1${i} $2`).replace(/\bstrategy (sma_py)\b(?! (command|module))/g, `strategy $1${i}`)).join('\n');

function assertSame(got: DocumentAnalysis, want: DocumentAnalysis, label: string): void {
  assert.equal(norm(got.diagnostics.map((d) => norm(d)).sort()), norm(want.diagnostics.map((d) => norm(d)).sort()), `${label}: diagnostics`);
  assert.equal(norm(got.studies), norm(want.studies), `${label}: studies`);
  assert.equal(norm(got.ast.items), norm(want.ast.items), `${label}: syntax tree`);
  assert.equal(norm(got.strategies), norm(want.strategies), `${label}: strategies`);
}

/** The one long study of the language-server benchmark: hundreds of stages. */
function longStudy(stages: number): string {
  const out = ['study "one big study" {', '  data "d.txt"', '  strategy ema_atr', '  objective maximize sharpe', '  constraint trades >= 20', '  seed 42'];
  for (let k = 0; k < stages; k++) out.push(`  stage "s${k}" {`, '    search grid', `    param ema_fast in 5 .. ${30 + (k % 7)} step 1`, '    param ema_slow in 20 .. 120 step 5', '    where ema_fast < ema_slow', '  }');
  out.push('}');
  return out.join('\n') + '\n';
}

test('clean documents: the analysis by parts equals the one-parse analysis', () => {
  let parted = 0;
  for (const [i, t] of [...samples, ...valid, combined, longStudy(40)].entries()) {
    const a = new Analyzer();
    const got = a.analyze(t);
    if (a.lastMode === 'parts') parted++;
    assert.ok(!got.diagnostics.some((d) => d.code === 'syntax-error'), `document ${i} is clean`);
    assertSame(got, analyzeWhole(t), `document ${i}`);
    // Semantic tokens too (the editor's highlighting of the CLI's `check`).
    assert.equal(norm(got.tokens), norm(analyzeWhole(t).tokens), `document ${i}: semantic tokens`);
  }
  assert.ok(parted >= samples.length, `${parted} documents analyzed by parts`);
});

/** A seeded generator (mulberry32), so a failure can be replayed. */
function rng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

const SNIPPETS = ['1', '0', ' ', '\n', '}', '{', '"', 'sharpe', 'stage "x" {\n', '  param fast in 1 .. 9 step 2\n', '//', '/*', '*/', ',', '..', '(', ')', 'trades', 'where ', 'constraint ', 'search bayes { trials 10 }', 'log', '\n  seed 7\n'];

/** One random edit: a character or snippet typed or deleted, a line duplicated, moved or removed. */
function edit(text: string, r: (n: number) => number, pool: string[]): string {
  const lines = text.split('\n');
  const i = r(lines.length);
  const at = r(text.length + 1);
  switch (r(8)) {
    case 0:
    case 1: // typing
      return text.slice(0, at) + SNIPPETS[r(SNIPPETS.length)] + text.slice(at);
    case 2: // deleting a few characters
      return text.slice(0, at) + text.slice(at + 1 + r(4));
    case 3: // Enter or a deleted line break (everything below moves)
      return r(2) ? text.slice(0, at) + '\n' + text.slice(at) : text.replace(/\n/, '');
    case 4:
      lines.splice(i, 1);
      return lines.join('\n');
    case 5:
      lines.splice(i, 0, lines[r(lines.length)]!);
      return lines.join('\n');
    case 6: // a digit changed
      lines[i] = lines[i]!.replace(/\d/, String(r(10)));
      return lines.join('\n');
    default: // a line from elsewhere
      lines.splice(i, 0, pool[r(pool.length)]!);
      return lines.join('\n');
  }
}

test('a kept Analyzer equals a fresh analysis after every one of 1,500 random edits', () => {
  const seed = Number(process.env['OPTSTUDY_FUZZ_SEED'] ?? Date.now() % 2 ** 31);
  const r = rng(seed);
  const pool = [...samples, ...valid, ...invalid].join('\n').split('\n');
  let parts = 0;
  for (const start of [combined, longStudy(30), ...samples.slice(0, 2)]) {
    const kept = new Analyzer();
    let text = start;
    for (let k = 0; k < 500 && text.length < 200_000; k++) {
      const label = `seed ${seed} (OPTSTUDY_FUZZ_SEED=${seed} to replay), edit ${k}`;
      const got = kept.analyze(text);
      if (kept.lastMode === 'parts') parts++;
      assertSame(got, analyze(text), label);
      // Keep documents mostly clean, as typing does: every 12 edits start again from a clean text.
      text = k % 12 === 11 ? start : edit(text, r, pool);
    }
  }
  assert.ok(parts > 500, `${parts} versions analyzed by parts`);
});

test('an edit parses again only the part it touched, and checks only its stage', () => {
  const text = longStudy(200);
  const a = new Analyzer();
  a.analyze(text);
  assert.equal(a.lastMode, 'parts');
  assert.equal(a.lastCheckedStages, 200);

  // A digit in one stage's domain: that part alone, that stage's grid alone.
  const stageEdit = text.replace('param ema_fast in 5 .. 33 step 1', 'param ema_fast in 6 .. 33 step 1');
  assert.notEqual(stageEdit, text);
  assertSame(a.analyze(stageEdit), analyze(stageEdit), 'stage edit');
  assert.equal(a.lastParsed, 1);
  assert.equal(a.lastCheckedStages, 1);

  // A study statement: its part alone; no stage depends on the seed.
  const seedEdit = stageEdit.replace('seed 42', 'seed 43');
  assertSame(a.analyze(seedEdit), analyze(seedEdit), 'seed edit');
  assert.equal(a.lastParsed, 1);
  assert.equal(a.lastCheckedStages, 0);

  // Enter above everything: nothing is parsed or checked again, positions move.
  const moved = '\n' + seedEdit;
  const m = a.analyze(moved);
  assertSame(m, analyze(moved), 'lines inserted above');
  assert.equal(a.lastParsed, 0);
  assert.equal(a.lastCheckedStages, 0);
  assert.equal(m.studies[0]!.stages[199]!.range.start.line, analyze(moved).studies[0]!.stages[199]!.range.start.line);

  // The strategy changes: every stage is checked again (their parameters' types may differ), but no part is parsed.
  const strategyEdit = moved.replace('strategy ema_atr', 'strategy sma_cross');
  assertSame(a.analyze(strategyEdit), analyze(strategyEdit), 'strategy edit');
  assert.equal(a.lastParsed, 1);
  assert.equal(a.lastCheckedStages, 200);
});

test('a body-less strategy declaration is an item of its own; a line between it and its study leaves the study pointing at it', () => {
  const decl = 'strategy sma backtrader "smacross.py:make_cerebro"';
  const study = ['study "s" {', '  data "d.txt"', '  strategy sma', '  objective maximize sharpe', '  stage "g" {', '    param pfast in 5 .. 10 step 5', '  }', '}'];
  const kept = new Analyzer();
  for (let blank = 0; blank < 4; blank++) {
    // blank lines between the declaration and the study: only the study moves
    const text = [decl, ...Array<string>(blank).fill(''), ...study].join('\n') + '\n';
    const got = kept.analyze(text);
    assert.equal(kept.lastMode, 'parts', `${blank} blank lines`);
    assertSame(got, analyzeWhole(text), `${blank} blank lines`);
    assert.equal(got.studies[0]!.ranges.module!.start.line, 0, 'the declaration stays on line 0');
  }
  // A body on the next line is the same declaration: left to the one-parse analysis.
  const spread = `${decl}\n{ param pfast: int = 5 }\n${study.join('\n')}\n`;
  assertSame(kept.analyze(spread), analyzeWhole(spread), 'body on the next line');
  assert.equal(kept.lastMode, 'whole');
});
