/** Apply Best Parameters: the text edit on real sample studies. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { applyEdits, computeApplyBest, formatLiteral } from '../../client/apply-best';
import { scanStudies } from '../../client/study-scan';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const sample = (n: string) => readFileSync(path.join(ROOT, 'samples', n), 'utf8');

test('quickstart: the overrides are added and the only stage is commented out whole', () => {
  const text = sample('quickstart.optstudy');
  const r = computeApplyBest(text, 'SMA cross quickstart', { fast: 35, slow: 130 });
  assert.equal(r.error, undefined);
  const out = applyEdits(text, r.edits);
  assert.match(out, /^\s*strategy sma_cross \{ fast = 35, slow = 130 \}$/m);
  assert.match(out, /^\s*\/\/ stage "grid" \{$/m);
  assert.match(out, /^\s*\/\/ param fast in 5 \.\. 50 step 5$/m);
  assert.match(out, /^\s*\/\/ where fast < slow$/m);
  assert.match(out, /^\s*\/\/ \}$/m);
  // Everything outside the strategy line and the stage is untouched.
  const scan = scanStudies(out);
  assert.equal(scan.studies[0]!.stages.length, 0);
  assert.deepEqual(scan.studies[0]!.strategy!.block!.overrides.map((o) => [o.name, o.value]), [['fast', '35'], ['slow', '130']]);
  assert.match(r.summary, /2 parameters fixed on strategy sma_cross; 1 stage and 2 searched lines commented out/);
});

test('staged study: a partly applied stage keeps its other params; keep mode leaves stages alone', () => {
  const text = sample('ema-atr-staged.optstudy');
  const r = computeApplyBest(text, 'EMA cross with ATR exits', { atr_sl_multiplier: 2.5, atr_tp_multiplier: 8, ema_fast: 12 });
  const out = applyEdits(text, r.edits);
  assert.match(out, /strategy ema_atr \{ atr_sl_multiplier = 2\.5, atr_tp_multiplier = 8, ema_fast = 12 \}/);
  assert.match(out, /\/\/ stage "risk" \{/);
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
