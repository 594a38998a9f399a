/**
 * Half-typed and mangled input never breaks the language: every prefix of every fixture and
 * sample, and 20,000 mutants of them (test/support/fuzz.ts), seeded differently on every run
 * (the seed is printed; `OPTSTUDY_FUZZ_SEED` replays it, `OPTSTUDY_FUZZ_STUDIES` sets the
 * count). Each analysis must return (no exception, no internal error), keep every diagnostic
 * inside the document and small, give finite non-negative sizes, and finish within a generous
 * bound that only a hang or an exponential blow-up would exceed; every eighth mutant is also
 * analyzed by a kept Analyzer, fed the mutants of its source in turn, and must equal a fresh one.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { analyze, Analyzer, LineIndex, type DocumentAnalysis } from '../../grammar/index';
import { corpus, fuzzSeed, mutate, rng, threadCpuMs } from '../support/fuzz';

/** CPU time (not wall: the machine may be busy) an analysis may take; only a hang or a blow-up exceeds it. */
const HANG_BOUND_MS = 5000;

const norm = (x: unknown) => JSON.stringify(x, (_k, v) => (v instanceof Map ? [...v.entries()] : typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));

/** Equal JSON texts, or a failure showing where they first differ (not megabytes of both). */
function sameJson(got: string, want: string, label: string): void {
  if (got === want) return;
  let i = 0;
  while (got[i] === want[i]) i++;
  assert.fail(`${label}: differs at ${i}:\n  got  …${got.slice(Math.max(0, i - 150), i + 80)}\n  want …${want.slice(Math.max(0, i - 150), i + 80)}`);
}

/** Analyzes `text` and checks what any analysis must hold; returns the analysis. */
function check(text: string, label: string): DocumentAnalysis {
  const t0 = threadCpuMs();
  let a;
  try {
    a = analyze(text);
  } catch (e) {
    assert.fail(`${label}: analyze threw ${String(e)}`);
  }
  const ms = threadCpuMs() - t0;
  assert.ok(ms < HANG_BOUND_MS, `${label}: took ${ms.toFixed(0)} ms of CPU`);
  const lines = new LineIndex(text);
  const end = lines.position(text.length);
  const lineLength = (l: number) => lines.position(lines.offset({ line: l + 1, character: 0 }) - (l < end.line ? 1 : 0)).character;
  for (const d of a.diagnostics) {
    assert.notEqual(d.code, 'internal-error', `${label}: ${d.message}`);
    for (const p of [d.range.start, d.range.end]) {
      assert.ok(p.line >= 0 && p.line <= end.line, `${label}: line ${p.line} outside the document (${d.code})`);
      assert.ok(p.character >= 0 && p.character <= Math.max(lineLength(p.line), p.line === end.line ? end.character : 0) + 1, `${label}: ${d.code} at ${p.line}:${p.character} beyond the line`);
    }
    assert.ok(d.range.start.line < d.range.end.line || (d.range.start.line === d.range.end.line && d.range.start.character <= d.range.end.character), `${label}: ${d.code} range reversed`);
    assert.ok(d.message.length > 0 && d.message.length <= 500, `${label}: ${d.code} message of ${d.message.length} characters`);
    for (const rel of d.related ?? []) assert.ok(rel.message.length <= 500, `${label}: related message of ${rel.message.length}`);
    if (d.data !== undefined) assert.ok(JSON.stringify(d.data).length <= 2000, `${label}: ${d.code} data too large`);
  }
  for (const s of a.studies) {
    for (const st of s.stages) assert.ok(Number.isFinite(st.size) && st.size >= 0, `${label}: stage size ${st.size}`);
    assert.ok(Number.isFinite(s.total) && s.total >= 0);
  }
  return a;
}

test('every prefix of every sample and fixture', () => {
  let n = 0;
  for (const { name, text } of corpus()) {
    for (let i = 0; i <= text.length; i++) {
      check(text.slice(0, i), `${name} prefix ${i}`);
      n++;
    }
  }
  assert.ok(n > 10_000, `${n} prefixes`);
});

const MUTANTS = Number(process.env['OPTSTUDY_FUZZ_STUDIES'] ?? 20_000);

test(`${MUTANTS.toLocaleString('en-US')} seeded mutants of real studies: analyzed whole and by a kept Analyzer alike`, (t) => {
  const seed = fuzzSeed();
  const replay = `seed ${seed} (replay: OPTSTUDY_FUZZ_SEED=${seed})`;
  t.diagnostic(replay);
  console.log(`grammar fuzz: ${replay}`);
  const r = rng(seed);
  const all = corpus();
  // One kept Analyzer per source, fed its mutants in turn as an editor would be.
  const kept = new Map<string, { analyzer: Analyzer; text: string }>();
  let compared = 0;
  for (let n = 0; n < MUTANTS; n++) {
    const src = all[Math.floor(r() * all.length)]!;
    const prev = kept.get(src.name);
    // Mostly a fresh mutant of the source; sometimes a mutant of the last mutant (edits pile up).
    const base = prev && r() < 0.3 ? prev.text : src.text;
    const text = mutate(base, r);
    const label = `${replay}, mutant ${n} of ${src.name}`;
    const fresh = check(text, label);
    if (n % 8 === 0) {
      const k = prev ?? { analyzer: new Analyzer(), text: '' };
      const got = k.analyzer.analyze(text);
      sameJson(norm(got.diagnostics.map(norm).sort()), norm(fresh.diagnostics.map(norm).sort()), `${label}: kept Analyzer, diagnostics`);
      sameJson(norm(got.studies), norm(fresh.studies), `${label}: kept Analyzer, studies`);
      kept.set(src.name, { analyzer: k.analyzer, text });
      compared++;
    }
  }
  assert.ok(compared >= MUTANTS / 8 - 1);
});

test('pathological inputs', () => {
  const cases = [
    '',
    '\n\n\n',
    '{'.repeat(2000),
    '}'.repeat(2000),
    'study "x" { objective maximize ' + '('.repeat(300) + 'sharpe' + ')'.repeat(300) + ' }',
    'study "x" { objective maximize ' + '('.repeat(62) + 'sharpe' + ')'.repeat(62) + ' }',
    'study "x" { objective maximize ' + 'abs('.repeat(62) + 'sharpe' + ')'.repeat(62) + ' }',
    'study "x" { objective maximize ' + '-'.repeat(3000) + 'sharpe }',
    'study "x" { objective maximize ' + 'not '.repeat(3000) + 'sharpe }',
    'study "x" { objective maximize ' + '2 ^ '.repeat(3000) + '2 }',
    'study "x" { objective maximize ' + 'sharpe + '.repeat(2000) + '1 }',
    'study "x" { objective maximize ' + 'sharpe + '.repeat(900) + '1 }',
    'study "x" { objective maximize ' + 'max(1, '.repeat(60) + '2' + ')'.repeat(60) + ' }',
    'study "x" { stage "s" { param fast in [' + Array.from({ length: 5000 }, (_, i) => i).join(', ') + '] } }',
    '"'.repeat(101),
    '/*'.repeat(50),
    'study "\u00e9t\u00e9 \ud83d\ude80" {\r\n  data "d"\r\n  strategy sma_cross\r\n  objective maximize sharpe @\r\n}',
    '\u0000\u0001\uffff study',
    'study "x" { data "d" strategy sma_cross objective maximize sharpe stage "s" { param fast in 1 .. 1e15 step 1 } }',
    'study "x" { data "d" strategy sma_cross objective maximize sharpe stage "s" { param fast in 1 .. 2 step 1e-300 } }',
    'study "x" { data "d" strategy ema_atr objective maximize sharpe stage "s" { param atr_sl_multiplier in log 1e-300 .. 1e300 count 100000 } }',
  ];
  for (const [i, c] of cases.entries()) check(c, `case ${i}`);
});
