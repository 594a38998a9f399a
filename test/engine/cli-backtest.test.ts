/** `optstudy backtest` through the built CLI (dist/cli.js), as users and scripts call it. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DATA, ROOT, goldenFiles } from '../support/engine-golden';
import { tempFolder } from '../support/temp';

const CLI = path.join(ROOT, 'dist', 'cli.js');
const ORCL = path.join(DATA, 'orcl-1995-2014.txt');

function cli(...args: string[]) {
  return spawnSync(process.execPath, [CLI, 'backtest', ...args], { encoding: 'utf8' });
}

test('--json reproduces a golden combination: every metric key and every trade', () => {
  const g = goldenFiles().find((f) => f.name === 'sma_cross_stake10_orcl-1995-2014')!;
  const want = g.results.find((r) => r.params.fast === 10 && r.params.slow === 30)!;
  const r = cli('--data', ORCL, '--strategy', 'sma_cross', '--param', 'fast=10', '--param', 'slow=30', '--from', '2005-01-01', '--to', '2014-12-31', '--sizing', 'fixed:10', '--commission', '0.1%', '--cash', '100000', '--json');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { metrics: Record<string, unknown>; trades: Record<string, unknown>[] };
  for (const [k, v] of Object.entries(want.metrics)) {
    assert.ok(k in out.metrics, `metric ${k} missing`);
    if (k.startsWith('returns_')) assert.ok(Math.abs((out.metrics[k] as number) - (v as number)) <= 1e-14 * Math.abs(v as number), k);
    else assert.deepEqual(out.metrics[k], v, k);
  }
  for (const k of ['trades', 'sharpe', 'max_drawdown', 'total_return_pct', 'cagr_pct', 'sortino', 'calmar', 'exposure_pct', 'win_rate_pct', 'avg_trade_pnl', 'negative_years']) {
    assert.ok(k in out.metrics, `contract metric ${k} missing`);
  }
  assert.equal(out.trades.length, want.trades.length);
  want.trades.forEach((t, j) => {
    for (const k of ['entry_date', 'exit_date', 'entry_price', 'exit_price', 'size', 'pnl', 'pnlcomm']) assert.equal(out.trades[j]![k], t[k], `trade ${j} ${k}`);
  });
});

test('--commission takes a bare fraction too, and the defaults are the golden settings (0.1%, percent:95)', () => {
  const a = cli('--data', ORCL, '--strategy', 'rsi_mr', '--commission', '0.001', '--json');
  const b = cli('--data', ORCL, '--strategy', 'rsi_reversion', '--json');
  assert.equal(a.status, 0, a.stderr);
  assert.deepEqual(JSON.parse(a.stdout), JSON.parse(b.stdout));
});

test('without --json: a readable table of metrics and trades', () => {
  const r = cli('--data', ORCL, '--strategy', 'bollinger', '--param', 'mode=breakout', '--from', '2010-01-01');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /bollinger mode=breakout on /);
  assert.match(r.stdout, /final_value\s+\d/);
  assert.match(r.stdout, /sharpe\s+-?\d/);
  assert.match(r.stdout, /\d{4}-\d\d-\d\d {2}\d{4}-\d\d-\d\d/);
});

test('bad arguments: a clear error and exit 2', () => {
  const tmp = tempFolder('optstudy-cli-');
  const bad = path.join(tmp, 'bad.csv');
  writeFileSync(bad, 'Date,Open,High,Low,Close,Volume\n2020-01-02,1,2,0.5,1.5,10\n2020-01-03,1,2,0.5,oops,10\n');
  const cases: [string[], RegExp][] = [
    [['--strategy', 'sma_cross'], /--data FILE is required/],
    [['--data', ORCL], /--strategy NAME is required/],
    [['--data', ORCL, '--strategy', 'sma_cross', '--frobnicate'], /unknown option '--frobnicate'/],
    [['--data', ORCL, '--strategy', 'sma_cross', '--sizing', 'all'], /--sizing 'all' is not a sizing; write fixed:N .* or percent:N/],
    [['--data', ORCL, '--strategy', 'sma_cross', '--commission', 'abc'], /--commission 'abc' is not a commission/],
    [['--data', ORCL, '--strategy', 'sma_cross', '--cash'], /--cash needs a value/],
    [['--data', ORCL, '--strategy', 'sma_cross', '--param', 'fast'], /--param 'fast' is not k=v/],
    [['--data', ORCL, '--strategy', 'nope'], /unknown strategy 'nope'; built-ins are sma_cross, ema_atr/],
    [['--data', ORCL, '--strategy', 'sma_cross', '--param', 'fats=3'], /has no parameter 'fats'/],
    [['--data', bad, '--strategy', 'sma_cross'], /bad\.csv:3: 'oops' in column 'Close' is not a number/],
    [['--data', path.join(tmp, 'missing.csv'), '--strategy', 'sma_cross'], /missing\.csv: no such price file/],
    [['--data', ORCL, '--strategy', 'sma_cross', '--from', '2030-01-01'], /no bars between 2030-01-01 and the end/],
  ];
  for (const [args, re] of cases) {
    const r = cli(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(' '));
    assert.equal(r.stdout, '');
  }
  const help = cli('--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /Usage: optstudy backtest --data FILE --strategy NAME/);
});
