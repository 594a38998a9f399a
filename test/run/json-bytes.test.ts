/**
 * The pool workers write journal lines with JsonBytes instead of JSON.stringify (less garbage
 * per backtest): the bytes must be exactly JSON.stringify's, for every kind of value a trial
 * row can hold — the journal, resume and every reader depend on it.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { JsonBytes } from '../../server/executor/json-bytes';
import { BlockBuilder, rowJson, trialBody, trialHead } from '../../server/executor/outcome-block';
import type { Scored } from '../../server/executor/scoring';
import type { Metrics, ParamValues, TrialSymbol } from '../../protocol/run-events';

const EDGE = [0, -0, 1, -1, 7, 2147483647, -2147483648, 2147483648, -2147483649, 2 ** 53, 1e21, 1e-7, 5e-324, -1.7976931348623157e308, 0.1 + 0.2, 123.456, NaN, Infinity, -Infinity];

/** Doubles from random bit patterns: every exponent, sign and mantissa shape. */
function randomDoubles(n: number, seed: number): number[] {
  const bits = new Uint32Array(2);
  const f = new Float64Array(bits.buffer);
  let s = seed >>> 0;
  const next = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    bits[0] = next();
    bits[1] = next();
    const u = next() / 2 ** 32;
    // Raw bit patterns (every exponent), and numbers shaped like metrics: money with cents,
    // ratios, percents, durations, short decimals whose neighbours read back the same.
    out.push(f[0]!, Math.round(u * 1e9) / 100, u / (1 - u + 1e-9), 100 * (u - 0.5), Math.round(u * 1e6) / 1e3, u * 10 ** ((next() % 40) - 20), (next() % 1000) / 10 ** (next() % 8), next() - 2 ** 31);
  }
  return out;
}

function written(write: (w: JsonBytes) => void, capacity?: number): string {
  const w = new JsonBytes(capacity);
  write(w);
  return w.buf.toString('utf8', 0, w.used);
}

test('JsonBytes writes numbers (trial numbers) exactly as JSON.stringify does', () => {
  for (const x of [...EDGE, ...randomDoubles(100000, 7)]) {
    const got = written((w) => w.number(x), 1);
    if (got !== JSON.stringify(x)) assert.equal(got, JSON.stringify(x), `number ${x}`);
  }
});

test('JsonBytes writes records as JSON.stringify does: key order, escapes, unicode, left-out keys', () => {
  const records: Record<string, unknown>[] = [
    {},
    { b: 1, a: -0, '2': 'two', '1': true },
    { 'quote"key': 'line\nbreak', 'é': 'ünïcödé ✓ 𝄞', tab: '\t', lone: '\ud800', nul: null, f: false },
    { skipped: undefined, kept: 1, fn: () => 1, after: NaN },
    { only: undefined },
    Object.fromEntries(EDGE.map((x, i) => [`m${i}`, x])),
  ];
  for (const r of records) assert.equal(written((w) => w.record(r), 2), JSON.stringify(r));
});

const symbols: TrialSymbol[] = [{ symbol: 'orcl', metrics: { sharpe: 0.5, trades: 3 } }, { symbol: 'yhoo', metrics: { sharpe: null } }];
const scored = (score: Scored['score'], state: Scored['state'] = 'complete', error?: string): Scored => ({ state, score, loss: null, ...(error ? { error } : {}) });

/** Rows of every shape: complete, infeasible, failed, several objectives, a basket, a log. */
const ROWS: [ParamValues, number, Metrics | null, Scored | null, string?, string?, TrialSymbol[]?][] = [
  [{ fast: 10, slow: 30 }, 1.23456789, { sharpe: 0.8123456789, trades: 12, pf: null, rtot: -Infinity }, scored(0.8123456789)],
  [{ mode: 'both', on: true, k: 2.5 }, 0, { sharpe: null }, scored(null, 'infeasible', "objective 'sharpe' is undefined (sharpe = undefined)")],
  [{ fast: 1 }, 12.0004, null, null, 'strategy threw: "bad" \u2028 ✗'],
  [{ fast: 1 }, 0.5, null, null],
  [{ a: 1 }, 3, { x: 1, y: 2 }, scored([1.5, -2, NaN])],
  [{ a: 1 }, 3, { x: 1 }, null, undefined, 'printed\nlines ✓', symbols],
  [{ a: 1 }, 3, { x: 1 }, scored(2), undefined, undefined, symbols],
];

test('block rows equal JSON.stringify(trialBody(…)), as bodies and as whole journal lines', () => {
  const head = trialHead('grid "ü"');
  const bodies = new BlockBuilder(ROWS.length, 3);
  const lines = new BlockBuilder(ROWS.length * 400, 3, head);
  ROWS.forEach((r, i) => bodies.add(i, ...r));
  // Enough rows to outgrow the first buffer (64 KB).
  for (let k = 0; k < 400; k++) ROWS.forEach((r, i) => lines.add(k * 100 + i, ...r));
  const b = bodies.finish();
  const l = lines.finish();
  assert.ok(l.json.length > 64 * 1024);
  ROWS.forEach((r, i) => {
    const body = JSON.stringify(trialBody(...r)).slice(1);
    assert.equal(Buffer.from(rowJson(b, i)).toString(), body, `row ${i}`);
    for (let k = 0; k < 400; k++) assert.equal(Buffer.from(rowJson(l, k * ROWS.length + i)).toString(), `${head}${k * 100 + i},${body}\n`, `line ${k}/${i}`);
  });
});
