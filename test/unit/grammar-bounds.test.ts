/**
 * Megabyte inputs: every diagnostic stays small (names clipped, oversize fixes dropped) and the
 * checks stay linear. The time bounds are generous (a quadratic check of a megabyte name took
 * 9.4 s before); the sizes are exact.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { analyze, closest, editDistance } from '../../grammar/index';

const MB = 1 << 20;
const study = (objective: string, extra = '') => `study "s" {\n  data "d.txt"\n  strategy sma_cross\n  objective maximize ${objective}\n${extra}}\n`;

function timed<T>(f: () => T): { ms: number; value: T } {
  const t0 = performance.now();
  const value = f();
  return { ms: performance.now() - t0, value };
}

function assertBounded(a: ReturnType<typeof analyze>, label: string): void {
  for (const d of a.diagnostics) {
    assert.ok(d.message.length <= 500, `${label}: ${d.code} message of ${d.message.length} characters`);
    for (const r of d.related ?? []) assert.ok(r.message.length <= 500, `${label}: related message of ${r.message.length}`);
    if (d.data !== undefined) assert.ok(JSON.stringify(d.data).length <= 2000, `${label}: ${d.code} data of ${JSON.stringify(d.data).length}`);
  }
}

test('a 1 MB unknown metric name: one short diagnostic, checked in linear time', () => {
  const name = 'x'.repeat(MB);
  const { ms, value } = timed(() => analyze(study(name)));
  const d = value.diagnostics.find((x) => x.code === 'unknown-metric');
  assert.ok(d, JSON.stringify(value.diagnostics.map((x) => x.code)));
  assert.ok(d.message.length < 200, `message of ${d.message.length} characters`);
  assert.match(d.message, /unknown metric 'x{57}…'/);
  // The range still covers the whole name.
  assert.equal(d.range.end.character - d.range.start.character, MB);
  assertBounded(value, '1 MB name');
  assert.ok(ms < 5000, `took ${ms.toFixed(0)} ms`);
});

test('long names near a known one still get their "did you mean", and huge ones cost a length check', () => {
  assert.equal(closest('sharpee', ['sharpe', 'sortino']), 'sharpe');
  assert.equal(closest('max_drawdwn_pct', ['max_drawdown_pct', 'max_drawdown']), 'max_drawdown_pct');
  assert.equal(closest('draw', ['max_drawdown_pct']), 'max_drawdown_pct', 'contained names still count');
  assert.equal(closest('y'.repeat(MB), ['sharpe']), undefined);
  // The bounded distance agrees with the exact one up to its bound.
  for (const [a, b] of [['kitten', 'sitting'], ['sharpe', 'sahrpe'], ['abc', 'abc'], ['', 'abc'], ['trades', 'grades_x']] as const) {
    const exact = editDistance(a, b);
    for (const max of [0, 1, 2, 3, 10]) assert.equal(editDistance(a, b, max), Math.min(exact, max + 1), `${a}/${b} max ${max}`);
  }
  const { ms } = timed(() => {
    for (let i = 0; i < 100; i++) editDistance('z'.repeat(MB), 'sharpe', 3);
  });
  assert.ok(ms < 1000, `100 bounded comparisons of a 1 MB name took ${ms.toFixed(0)} ms`);
});

test('megabyte studies of many kinds: bounded diagnostics, linear checks', () => {
  const cases: Record<string, string> = {
    'unknown metric in 35,000 constraints': study('sharpe', Array.from({ length: MB / 30 }, (_, i) => `  constraint sharpq${i} > 1\n`).join('')),
    '1 MB number': `study "s" {\n  data "d.txt"\n  strategy sma_cross\n  objective maximize sharpe\n  commission ${'9'.repeat(MB)}\n}\n`,
    '1 MB string': `study "${'s'.repeat(MB)}" {\n  data "d.txt"\n  strategy ${'q'.repeat(MB)}\n  objective maximize sharpe\n}\nstudy "${'s'.repeat(MB)}" {\n}\n`,
    '1 MB option name': study('sharpe', `  stage "a" {\n    search bayes { ${'o'.repeat(MB)} 3 }\n    param fast in 1 .. 5 step 1\n  }\n`),
    '1 MB parameter name': study('sharpe', `  stage "a" {\n    param ${'p'.repeat(MB)} in 1 .. 5 step 1\n    where ${'p'.repeat(MB)} > 1\n  }\n`),
    '1 MB of one character': '@'.repeat(MB),
  };
  for (const [label, text] of Object.entries(cases)) {
    const { ms, value } = timed(() => analyze(text));
    assert.ok(value.diagnostics.length > 0, label);
    assert.ok(!value.diagnostics.some((d) => d.code === 'internal-error'), `${label}: ${value.diagnostics[0]?.message}`);
    assertBounded(value, label);
    assert.ok(ms < 15_000, `${label}: took ${ms.toFixed(0)} ms`);
  }
});
