/** Apply Best Parameters: the text edit on real sample studies. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { applyEdits, computeApplyBest, formatLiteral } from '../../client/apply-best';
import { scanStudies } from '../../client/study-scan';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const sample = (n: string) => readFileSync(path.join(ROOT, 'samples', n), 'utf8');

test('quickstart: the overrides are added and the only stage is pinned to them, so the study still runs (#19-9)', () => {
  const text = sample('quickstart.optstudy');
  const r = computeApplyBest(text, 'SMA cross quickstart', { fast: 35, slow: 130 });
  assert.equal(r.error, undefined);
  const out = applyEdits(text, r.edits);
  assert.match(out, /^\s*strategy sma_cross \{ fast = 35, slow = 130 \}$/m);
  // No stage is commented out ("the study has no stage"): each applied line is pinned instead.
  assert.match(out, /^\s*stage "grid" \{$/m);
  assert.match(out, /^\s*param fast in \[35\] \/\* searched: 5 \.\. 50 step 5 \*\/$/m);
  assert.match(out, /^\s*param slow in \[130\] \/\* searched: 20 \.\. 200 step 10 \*\/$/m);
  assert.match(out, /^\s*where fast < slow$/m);
  const scan = scanStudies(out);
  assert.equal(scan.studies[0]!.stages.length, 1);
  assert.deepEqual(scan.studies[0]!.strategy!.block!.overrides.map((o) => [o.name, o.value]), [['fast', '35'], ['slow', '130']]);
  assert.match(r.summary, /2 parameters fixed on strategy sma_cross; 2 searched lines pinned to the applied value/);
  // The language agrees: no error, no empty stage, one backtest — the applied one.
  const dir = mkdtempSync(path.join(tmpdir(), 'optstudy-apply-'));
  try {
    cpSync(path.join(ROOT, 'samples', 'data'), path.join(dir, 'data'), { recursive: true });
    writeFileSync(path.join(dir, 's.optstudy'), out);
    const c = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'check', path.join(dir, 's.optstudy'), '--json'], { encoding: 'utf8' });
    const j = JSON.parse(c.stdout);
    assert.deepEqual(j.diagnostics.filter((d: { severity: string }) => d.severity !== 'hint'), [], c.stdout);
    assert.equal(j.studies[0].total, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a stage closed on the same line keeps its brace', () => {
  const text = 'study "s" {\n  strategy sma_cross\n  stage "a" { param fast in [5, 10] }\n}\n';
  const out = applyEdits(text, computeApplyBest(text, 's', { fast: 10 }).edits);
  assert.match(out, /stage "a" \{ param fast in \[10\] \/\* searched: \[5, 10\] \*\/ \}/);
});

test('staged study: a partly applied stage keeps its other params; keep mode leaves stages alone', () => {
  const text = sample('ema-atr-staged.optstudy');
  const r = computeApplyBest(text, 'EMA cross with ATR exits', { atr_sl_multiplier: 2.5, atr_tp_multiplier: 8, ema_fast: 12 });
  const out = applyEdits(text, r.edits);
  assert.match(out, /strategy ema_atr \{ atr_sl_multiplier = 2\.5, atr_tp_multiplier = 8, ema_fast = 12 \}/);
  assert.match(out, /^\s*stage "risk" \{/m);
  assert.match(out, /^\s*param atr_sl_multiplier in \[2\.5\] \/\* searched: /m);
  assert.match(out, /^\s*\/\/ param ema_fast in 5 \.\. 30 step 1/m);
  assert.match(out, /^\s*param ema_slow in 20 \.\. 120 step 5/m);
  assert.match(out, /^\s*stage "entry" \{/m);
  const keep = applyEdits(text, computeApplyBest(text, undefined, { ema_fast: 12 }, 'keep').edits);
  assert.equal(keep.replace(' { ema_fast = 12 }', ''), text);
});

test('existing overrides are replaced and new ones appended; applying twice changes nothing more', () => {
  const text = 'study "s" {\n  data "d.txt"\n  strategy bollinger { period = 20, mode = "reversion" }\n  stage "a" {\n    param devfactor in [1.5, 2.0]\n  }\n}\n';
  const r = computeApplyBest(text, 's', { period: 14, mode: 'breakout', devfactor: 0.1 + 0.2 });
  const out = applyEdits(text, r.edits);
  assert.match(out, /strategy bollinger \{ period = 14, mode = "breakout", devfactor = 0\.3 \}/);
  const again = computeApplyBest(out, 's', { period: 14, mode: 'breakout', devfactor: 0.3 });
  assert.equal(applyEdits(out, again.edits), out);
});

test('clear errors instead of broken edits', () => {
  assert.match(computeApplyBest('study "a" { }', 'b', { x: 1 }).error!, /no study named "b"/);
  assert.match(computeApplyBest('study "a" { data "x" }', 'a', { x: 1 }).error!, /no strategy statement/);
  assert.match(computeApplyBest('study "a" { strategy sma_cross }', 'a', {}).error!, /no best parameters/);
  assert.equal(formatLiteral(true), 'true');
  assert.equal(formatLiteral(10), '10');
});

test('the scanner survives every prefix of the samples (half-typed text)', () => {
  for (const n of ['quickstart.optstudy', 'ema-atr-staged.optstudy', 'multi-objective.optstudy', 'python-strategy.optstudy', 'broken.optstudy']) {
    const text = sample(n);
    for (let i = 0; i <= text.length; i += 7) {
      const r = computeApplyBest(text.slice(0, i), undefined, { fast: 1 });
      assert.ok(r.error !== undefined || r.edits.length > 0);
    }
  }
});
