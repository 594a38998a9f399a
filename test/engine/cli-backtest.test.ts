/** `optstudy backtest` through the built CLI (dist/cli.js), as users and scripts call it. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DATA, ROOT, dataPath, goldenFiles, oracleGoldenFiles, type OracleResult, type OracleScenario } from '../support/engine-golden';
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
    assert.deepEqual(out.metrics[k], v, k);
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
    [['--data', ORCL, '--strategy', 'sma_cross', '--commission', 'abc'], /--commission 'abc' is not a number; write a percent like 0.1%/],
    [['--data', ORCL, '--strategy', 'sma_cross', '--commission', '2.5/contract'], /needs --margin N .* and --mult N/],
    [['--data', ORCL, '--strategy', 'sma_cross', '--margin', '2000'], /--margin and --mult go with a per-contract commission/],
    [['--data', ORCL, '--strategy', 'sma_cross', '--commission', '0.005/share', '--mult', '10'], /not a per-share one/],
    [['--data', ORCL, '--strategy', 'sma_cross', '--slippage', 'lots'], /--slippage 'lots' is not an amount >= 0; write a percent like 0.05%/],
    [['--data', ORCL, '--strategy', 'sma_cross', '--param', 'direction=sideways'], /'direction' of 'sma_cross' must be one of 'long', 'short', 'both'/],
    [['--data', ORCL, '--strategy', 'sma_cross', '--param', 'stop_loss_pct=-2'], /stop_loss_pct must be a percent >= 0/],
    [['--data', ORCL, '--strategy', 'momentum_rotation', '--param', 'direction=both'], /momentum_rotation is long-only/],
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
  assert.match(help.stdout, /Usage: optstudy backtest --data FILE \[--data FILE2 …\] --strategy NAME/);
});

/** The CLI arguments of an oracle scenario (DESIGN.md "The market model": --commission forms, --slippage, repeated --data). */
function scenarioArgs(sc: OracleScenario): string[] {
  const a = ['--json', '--strategy', sc.strategy, '--cash', String(sc.cash)];
  for (const d of sc.data) a.push('--data', dataPath(d));
  for (const [k, v] of Object.entries(sc.params)) a.push('--param', `${k}=${v}`);
  if (sc.from) a.push('--from', sc.from);
  if (sc.to) a.push('--to', sc.to);
  const c = sc.commission;
  if (c.type === 'percent') a.push('--commission', `${c.rate * 100}%`);
  else if (c.type === 'per_share') a.push('--commission', `${c.amount}/share`);
  else a.push('--commission', `${c.amount}/contract`, '--margin', String(c.margin), '--mult', String(c.mult));
  if (sc.slippage) a.push('--slippage', sc.slippage.type === 'percent' ? `${sc.slippage.rate * 100}%` : String(sc.slippage.amount));
  a.push('--sizing', sc.sizing.type === 'fixed' ? `fixed:${sc.sizing.size}` : `percent:${sc.sizing.percent}`);
  return a;
}

test('--json reproduces an oracle scenario of every feature file: shorts, stops, trailing, per-share and futures commission, slippage, intraday, three feeds', () => {
  for (const g of oracleGoldenFiles()) {
    const want = g.results[g.results.length - 1] as OracleResult;
    const sc = want.scenario!;
    // A percent written back as text must be the same fraction (0.1% → 0.001).
    if (sc.commission.type === 'percent' && (sc.commission.rate * 100) / 100 !== sc.commission.rate) continue;
    const r = cli(...scenarioArgs(sc));
    assert.equal(r.status, 0, `${g.name}: ${r.stderr}`);
    const out = JSON.parse(r.stdout) as OracleResult;
    for (const [k, v] of Object.entries(want.metrics)) {
      assert.ok(k in out.metrics, `${g.name}: metric ${k} missing`);
      assert.deepEqual(out.metrics[k], v, `${g.name}: ${k}`);
    }
    for (const list of ['trades', 'fills', 'rejected'] as const) {
      assert.equal(out[list].length, want[list].length, `${g.name}: ${list}`);
      want[list].forEach((t, j) => {
        for (const [k, v] of Object.entries(t)) assert.deepEqual(out[list][j]![k], v, `${g.name}: ${list}[${j}].${k}`);
      });
    }
    assert.ok(out.trades.every((t) => typeof t.direction === 'string' && typeof t.exit_reason === 'string'), g.name);
  }
});
