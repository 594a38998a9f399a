/**
 * Megabyte inputs: every diagnostic stays small (names clipped, oversize fixes dropped) and the
 * work of the checks does not grow with the square of the input. No clock here (a loaded CI
 * machine makes any time bound flaky; `npm run bench -- grammar` has the figures): the work is
 * counted — the characters "did you mean" compares (`SuggestionWork.total`), which for N
 * unknown names among N parameters grew as N² before it had an allowance per check.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { analyze, closest, editDistance, SuggestionWork } from '../../grammar/index';

const MB = 1 << 20;
const study = (objective: string, extra = '') => `study "s" {\n  data "d.txt"\n  strategy sma_cross\n  objective maximize ${objective}\n${extra}}\n`;

/** The analysis of `text` and the characters its suggestions compared. */
function counted(text: string): { work: number; value: ReturnType<typeof analyze> } {
  const before = SuggestionWork.total;
  const value = analyze(text);
  return { work: SuggestionWork.total - before, value };
}

/** One comparison's most: a name (≤ 200 characters are compared) and a candidate. */
const ONE_COMPARISON = 200 + 100;

function assertBounded(a: ReturnType<typeof analyze>, label: string): void {
  for (const d of a.diagnostics) {
    assert.ok(d.message.length <= 500, `${label}: ${d.code} message of ${d.message.length} characters`);
    for (const r of d.related ?? []) assert.ok(r.message.length <= 500, `${label}: related message of ${r.message.length}`);
    if (d.data !== undefined) assert.ok(JSON.stringify(d.data).length <= 2000, `${label}: ${d.code} data of ${JSON.stringify(d.data).length}`);
  }
}

test('a 1 MB unknown metric name: one short diagnostic, no suggestion work', () => {
  const name = 'x'.repeat(MB);
  const { work, value } = counted(study(name));
  const d = value.diagnostics.find((x) => x.code === 'unknown-metric');
  assert.ok(d, JSON.stringify(value.diagnostics.map((x) => x.code)));
  assert.ok(d.message.length < 200, `message of ${d.message.length} characters`);
  assert.match(d.message, /unknown metric 'x{57}…'/);
  // The range still covers the whole name.
  assert.equal(d.range.end.character - d.range.start.character, MB);
  assertBounded(value, '1 MB name');
  assert.equal(work, 0, 'a name over 200 characters is compared with nothing');
});

test('long names near a known one still get their "did you mean", and huge ones cost a length check', () => {
  assert.equal(closest('sharpee', ['sharpe', 'sortino']), 'sharpe');
  assert.equal(closest('max_drawdwn_pct', ['max_drawdown_pct', 'max_drawdown']), 'max_drawdown_pct');
  assert.equal(closest('draw', ['max_drawdown_pct']), 'max_drawdown_pct', 'contained names still count');
  const before = SuggestionWork.total;
  assert.equal(closest('y'.repeat(MB), ['sharpe']), undefined);
  assert.equal(SuggestionWork.total, before, 'a huge name costs a length check');
  // The bounded distance agrees with the exact one up to its bound.
  for (const [a, b] of [['kitten', 'sitting'], ['sharpe', 'sahrpe'], ['abc', 'abc'], ['', 'abc'], ['trades', 'grades_x']] as const) {
    const exact = editDistance(a, b);
    for (const max of [0, 1, 2, 3, 10]) assert.equal(editDistance(a, b, max), Math.min(exact, max + 1), `${a}/${b} max ${max}`);
  }
  assert.equal(editDistance('z'.repeat(MB), 'sharpe', 3), 4);
});

/** A module strategy declaring `n` parameters, and a study setting `n` misspelt ones and constraining `n` misspelt metrics. */
function unknownAmongMany(n: number): string {
  const decl = `strategy big module "big.js" {\n${Array.from({ length: n }, (_, i) => `  param prm${i} int = 1\n`).join('')}}\n`;
  const overrides = Array.from({ length: n }, (_, i) => `qrm${i} = 1`).join(', ');
  return decl + study('sharpe', Array.from({ length: n }, (_, i) => `  constraint prn${i} > 1\n`).join('')).replace('strategy sma_cross', `strategy big { ${overrides} }`);
}

test('unknown names among thousands of parameters: suggestions within an allowance per check, not N² comparisons', () => {
  // A real study's typos: every one compared with every candidate, and suggested.
  const small = counted(unknownAmongMany(20));
  const typos = small.value.diagnostics.filter((d) => d.code === 'unknown-metric' || d.code === 'unknown-parameter');
  assert.equal(typos.length, 40, small.value.diagnostics.map((d) => d.code).join());
  assert.ok(typos.every((d) => /did you mean 'prm\d+'/.test(d.message)), typos.map((d) => d.message).find((m) => !/did you mean/.test(m)));
  assert.ok(small.work > 0 && small.work < SuggestionWork.ALLOWANCE);
  // 2,000 and 8,000 of them: the same allowance spent (at most one comparison over), the
  // first names still suggested, every name still reported.
  const spent: number[] = [];
  for (const n of [2000, 8000]) {
    const { work, value } = counted(unknownAmongMany(n));
    spent.push(work);
    const found = value.diagnostics.filter((d) => d.code === 'unknown-metric' || d.code === 'unknown-parameter');
    assert.equal(found.length, 2 * n, `${n}: every unknown name reported`);
    assert.match(found[0]!.message, /did you mean/);
    assert.ok(work <= SuggestionWork.ALLOWANCE + ONE_COMPARISON, `${n}: ${work} characters compared`);
    assertBounded(value, `${n} unknown names`);
  }
  // Quadrupling the input did not quadruple (let alone square) the suggestion work.
  assert.ok(spent[1]! <= spent[0]! + ONE_COMPARISON, spent.join(' → '));
});

test('megabyte studies of many kinds: bounded diagnostics, suggestion work within its allowance', () => {
  const cases: Record<string, string> = {
    'unknown metric in 35,000 constraints': study('sharpe', Array.from({ length: MB / 30 }, (_, i) => `  constraint sharpq${i} > 1\n`).join('')),
    '1 MB number': `study "s" {\n  data "d.txt"\n  strategy sma_cross\n  objective maximize sharpe\n  commission ${'9'.repeat(MB)}\n}\n`,
    '1 MB string': `study "${'s'.repeat(MB)}" {\n  data "d.txt"\n  strategy ${'q'.repeat(MB)}\n  objective maximize sharpe\n}\nstudy "${'s'.repeat(MB)}" {\n}\n`,
    '1 MB option name': study('sharpe', `  stage "a" {\n    search bayes { ${'o'.repeat(MB)} 3 }\n    param fast in 1 .. 5 step 1\n  }\n`),
    '1 MB parameter name': study('sharpe', `  stage "a" {\n    param ${'p'.repeat(MB)} in 1 .. 5 step 1\n    where ${'p'.repeat(MB)} > 1\n  }\n`),
    '1 MB of one character': '@'.repeat(MB),
  };
  for (const [label, text] of Object.entries(cases)) {
    const { work, value } = counted(text);
    assert.ok(value.diagnostics.length > 0, label);
    assert.ok(!value.diagnostics.some((d) => d.code === 'internal-error'), `${label}: ${value.diagnostics[0]?.message}`);
    assertBounded(value, label);
    assert.ok(work <= SuggestionWork.ALLOWANCE + ONE_COMPARISON, `${label}: ${work} characters compared for suggestions`);
  }
});
