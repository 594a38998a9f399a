/**
 * Half-typed and mangled input never breaks the language: every prefix of every fixture and
 * sample, and thousands of seeded token deletions, duplications and swaps. Each analysis must
 * return (no exception, no internal error), keep every diagnostic inside the document, give
 * finite non-negative sizes, and finish within a generous bound that only a hang or an
 * exponential blow-up would exceed.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyze, LineIndex } from '../../grammar/index';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const HANG_BOUND_MS = 2000;

function sources(): { name: string; text: string }[] {
  const dirs = [path.join(ROOT, 'samples'), path.join(ROOT, 'test', 'fixtures', 'studies', 'valid'), path.join(ROOT, 'test', 'fixtures', 'studies', 'invalid')];
  const out: { name: string; text: string }[] = [];
  for (const d of dirs)
    for (const f of fs.readdirSync(d).sort())
      if (f.endsWith('.optstudy') && fs.statSync(path.join(d, f)).isFile()) out.push({ name: path.relative(ROOT, path.join(d, f)), text: fs.readFileSync(path.join(d, f), 'utf8') });
  return out;
}

function check(text: string, label: string): void {
  const t0 = performance.now();
  let a;
  try {
    a = analyze(text);
  } catch (e) {
    assert.fail(`${label}: analyze threw ${String(e)}`);
  }
  const ms = performance.now() - t0;
  assert.ok(ms < HANG_BOUND_MS, `${label}: took ${ms.toFixed(0)} ms`);
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
    assert.ok(d.message.length > 0);
  }
  for (const s of a.studies) {
    for (const st of s.stages) assert.ok(Number.isFinite(st.size) && st.size >= 0, `${label}: stage size ${st.size}`);
    assert.ok(Number.isFinite(s.total) && s.total >= 0);
  }
}

test('every prefix of every sample and fixture', () => {
  let n = 0;
  for (const { name, text } of sources()) {
    for (let i = 0; i <= text.length; i++) {
      check(text.slice(0, i), `${name} prefix ${i}`);
      n++;
    }
  }
  assert.ok(n > 10_000, `${n} prefixes`);
});

/** Tokens as the user sees them: words, numbers, strings, comments, punctuation. */
function roughTokens(text: string): string[] {
  return text.match(/"[^"\n]*"?|\/\/[^\n]*|\/\*[\s\S]*?\*\/|\d[\w.%-]*|[A-Za-z_]\w*|\.\.|[<>=!]=|\s+|./g) ?? [];
}

test('thousands of seeded token deletions, duplications and swaps', () => {
  let seed = 20261123;
  const rand = () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const all = sources();
  let n = 0;
  for (let round = 0; round < 3000; round++) {
    const src = all[Math.floor(rand() * all.length)]!;
    const toks = roughTokens(src.text);
    const edits = 1 + Math.floor(rand() * 4);
    const ops: string[] = [];
    for (let e = 0; e < edits && toks.length > 1; e++) {
      const i = Math.floor(rand() * toks.length);
      const r = rand();
      if (r < 0.4) {
        toks.splice(i, 1);
        ops.push(`del ${i}`);
      } else if (r < 0.7) {
        toks.splice(i, 0, toks[i]!);
        ops.push(`dup ${i}`);
      } else {
        const j = Math.min(toks.length - 1, i + 1 + Math.floor(rand() * 3));
        [toks[i], toks[j]] = [toks[j]!, toks[i]!];
        ops.push(`swap ${i} ${j}`);
      }
    }
    check(toks.join(''), `${src.name} ${ops.join(', ')}`);
    n++;
  }
  assert.equal(n, 3000);
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
