/**
 * backtrader strategies (`strategy NAME backtrader "file.py:FACTORY"`) against backtrader's own
 * `cerebro.optstrategy`, side by side on this machine: the same Cerebro (two strategies as
 * backtrader documents them: the front page's SMA crossover and the Quickstart's final
 * strategy, test/fixtures/backtrader/bench.py), the same grid. Backtests per second of
 * optstrategy with maxcpus 1 and 2, and of an OptStudy run with 1 and 2 workers (whole run:
 * Python start-up, describe step, journal included). #18 asks OptStudy(1) ≥ optstrategy(1) and
 * OptStudy(2) ≥ 1.8 × optstrategy(1). Needs real backtrader (../shared/oracle or installed).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runStudy } from '../../server/run/run-study';
import { chooseExecutor, hostCheckOptions } from '../../server/host/executors';
import { sampleData } from '../support/run-fixtures';
import { backtraderMissing, fixture } from '../strategies/backtrader-env';

const CASES: { factory: string; grid: Record<string, number[]>; where?: string }[] = [
  { factory: 'sma_cross', grid: { pfast: [5, 10, 15, 20, 25, 30], pslow: [30, 40, 50, 60, 70, 80, 90, 100] } },
  { factory: 'quickstart', grid: { maperiod: [10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40], exitbars: [3, 5] } },
];

function optstrategy(factory: string, grid: Record<string, number[]>, maxcpus: number): { combos: number; seconds: number } {
  const r = spawnSync(process.env.OPTSTUDY_PYTHON || 'python3', [fixture('bench.py'), 'optstrategy', factory, JSON.stringify(grid), String(maxcpus)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`optstrategy failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { combos: number; seconds: number };
}

async function optstudy(factory: string, grid: Record<string, number[]>, workers: number): Promise<{ combos: number; seconds: number; failed: number }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'optstudy-btbench-'));
  try {
    const stage = Object.entries(grid)
      .map(([k, v]) => `    param ${k} in [${v.join(', ')}]`)
      .join('\n');
    writeFileSync(
      path.join(dir, 's.optstudy'),
      `strategy b backtrader "${fixture('bench.py')}:${factory}"
study "bench" {
  data "${sampleData('orcl-1995-2014.txt')}"
  strategy b
  objective maximize final_value
  stage "grid" {
${stage}
  }
}`,
    );
    let combos = 0;
    let failed = 0;
    const t0 = performance.now();
    const end = await runStudy(
      { file: path.join(dir, 's.optstudy'), out: path.join(dir, 'run'), workers, createExecutor: chooseExecutor, checkOptions: hostCheckOptions },
      (e) => {
        if (e.type === 'trial') {
          combos++;
          if (e.state === 'failed') failed++;
        }
      },
      new AbortController().signal,
    );
    if (end.status !== 'finished') throw new Error(`the run ended ${end.status}: ${end.error}`);
    return { combos, seconds: (performance.now() - t0) / 1000, failed };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const missing = backtraderMissing();
  if (missing) {
    console.log(JSON.stringify({ skipped: missing }));
    return;
  }
  const out: Record<string, unknown> = { loadBefore: os.loadavg().map((x) => Math.round(x * 100) / 100) };
  for (const c of CASES) {
    const rate = (r: { combos: number; seconds: number }): number => Math.round((r.combos / r.seconds) * 100) / 100;
    const o1 = optstrategy(c.factory, c.grid, 1);
    const s1 = await optstudy(c.factory, c.grid, 1);
    const o2 = optstrategy(c.factory, c.grid, 2);
    const s2 = await optstudy(c.factory, c.grid, 2);
    out[c.factory] = {
      combos: o1.combos,
      'optstrategy maxcpus=1 backtests/s': rate(o1),
      'optstrategy maxcpus=2 backtests/s': rate(o2),
      'optstudy workers=1 backtests/s': rate(s1),
      'optstudy workers=2 backtests/s': rate(s2),
      'optstudy(1) / optstrategy(1)': Math.round((rate(s1) / rate(o1)) * 100) / 100,
      'optstudy(2) / optstrategy(1)': Math.round((rate(s2) / rate(o1)) * 100) / 100,
      'optstudy(2) / optstrategy(2)': Math.round((rate(s2) / rate(o2)) * 100) / 100,
      failedTrials: s1.failed + s2.failed,
    };
  }
  out.loadAfter = os.loadavg().map((x) => Math.round(x * 100) / 100);
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.log(JSON.stringify({ error: String(e) }));
  process.exitCode = 1;
});
