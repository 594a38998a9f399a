/**
 * backtrader strategies (`strategy NAME backtrader "file.py:FACTORY"`) against backtrader's own
 * `cerebro.optstrategy`, side by side on this machine: the same Cerebro (two strategies as
 * backtrader documents them: the front page's SMA crossover and the Quickstart's final
 * strategy, test/fixtures/backtrader/bench.py), the same grid. #18 asks OptStudy(1 worker) ≥
 * optstrategy(maxcpus=1) and OptStudy(2 workers) ≥ 1.8 × optstrategy(maxcpus=1).
 *
 * Each round runs, per case: optstrategy maxcpus 1, OptStudy 1 worker, optstrategy maxcpus 2,
 * OptStudy 2 workers, one after the other, so a change in the machine's load hits both sides;
 * the ratios are the median of the rounds' ratios (`BENCH_ROUNDS`, default 3). Backtests/s:
 * optstrategy's own timer inside its script (Python start-up and `import backtrader` excluded,
 * the data load included), OptStudy's whole run (describe step, Python processes, journal
 * included; optstrategy's whole Python process is shown too). CPU ms per backtest (every
 * process of a side, start-up included on both) show the work apart from the load; `loadavg` is noted before and after. Needs real backtrader.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runStudy } from '../../server/run/run-study';
import { chooseExecutor, hostCheckOptions } from '../../server/host/executors';
import { sampleData } from '../support/run-fixtures';
import { backtraderMissing, fixture } from '../strategies/backtrader-env';

const CASES: { factory: string; grid: Record<string, number[]> }[] = [
  { factory: 'sma_cross', grid: { pfast: [5, 10, 15, 20, 25, 30], pslow: [30, 40, 50, 60, 70, 80, 90, 100] } },
  { factory: 'quickstart', grid: { maperiod: [10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40], exitbars: [3, 5] } },
];

interface Timed {
  combos: number;
  seconds: number;
  /** CPU seconds of every process of this side (Node's own for OptStudy, children for both). */
  cpu: number;
  /** optstrategy: the whole Python process's wall time (start-up and imports included). */
  processSeconds?: number;
}

/** CPU seconds of this process's waited-for children (Linux /proc; 0 elsewhere). */
function childrenCpu(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[13]) + Number(f[14])) / 100; // cutime, cstime (field 16, 17) in USER_HZ ticks
  } catch {
    return 0;
  }
}

function ownCpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function optstrategy(factory: string, grid: Record<string, number[]>, maxcpus: number): Timed {
  const c0 = childrenCpu();
  const t0 = performance.now();
  const r = spawnSync(process.env.OPTSTUDY_PYTHON || 'python3', [fixture('bench.py'), 'optstrategy', factory, JSON.stringify(grid), String(maxcpus)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`optstrategy failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { combos: number; seconds: number };
  return { ...out, cpu: childrenCpu() - c0, processSeconds: (performance.now() - t0) / 1000 };
}

async function optstudy(factory: string, grid: Record<string, number[]>, workers: number): Promise<Timed & { failed: number }> {
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
    const c0 = childrenCpu() + ownCpu();
    const t0 = performance.now();
    const end = await runStudy(
      { file: path.join(dir, 's.optstudy'), out: path.join(dir, 'run'), workers, createExecutor: chooseExecutor, checkOptions: (f) => hostCheckOptions(f, workers) },
      (e) => {
        if (e.type === 'trial') {
          combos++;
          if (e.state === 'failed') failed++;
        }
      },
      new AbortController().signal,
    );
    const seconds = (performance.now() - t0) / 1000;
    if (end.status !== 'finished') throw new Error(`the run ended ${end.status}: ${end.error}`);
    return { combos, seconds, failed, cpu: childrenCpu() + ownCpu() - c0 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const round2 = (x: number): number => Math.round(x * 100) / 100;
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const rate = (r: Timed): number => r.combos / r.seconds;

async function main(): Promise<void> {
  const missing = backtraderMissing();
  if (missing) {
    console.log(JSON.stringify({ skipped: missing }));
    return;
  }
  const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
  const out: Record<string, unknown> = { rounds, loadBefore: os.loadavg().map(round2) };
  const seen = new Map<string, { o1: Timed; s1: Timed & { failed: number }; o2: Timed; s2: Timed & { failed: number } }[]>();
  for (let r = 0; r < rounds; r++) {
    for (const c of CASES) {
      const o1 = optstrategy(c.factory, c.grid, 1);
      const s1 = await optstudy(c.factory, c.grid, 1);
      const o2 = optstrategy(c.factory, c.grid, 2);
      const s2 = await optstudy(c.factory, c.grid, 2);
      seen.set(c.factory, [...(seen.get(c.factory) ?? []), { o1, s1, o2, s2 }]);
    }
  }
  for (const [factory, runs] of seen) {
    const med = (f: (x: (typeof runs)[number]) => number): number => round2(median(runs.map(f)));
    out[factory] = {
      combos: runs[0]!.o1.combos,
      'optstrategy maxcpus=1 backtests/s': med((x) => rate(x.o1)),
      'optstrategy maxcpus=2 backtests/s': med((x) => rate(x.o2)),
      'optstrategy maxcpus=1 backtests/s, whole python process': med((x) => x.o1.combos / x.o1.processSeconds!),
      'optstudy workers=1 backtests/s': med((x) => rate(x.s1)),
      'optstudy workers=2 backtests/s': med((x) => rate(x.s2)),
      'optstudy(1) / optstrategy(1)': med((x) => rate(x.s1) / rate(x.o1)),
      'optstudy(2) / optstrategy(1)': med((x) => rate(x.s2) / rate(x.o1)),
      'optstudy(2) / optstrategy(2)': med((x) => rate(x.s2) / rate(x.o2)),
      'per round optstudy(1) / optstrategy(1)': runs.map((x) => round2(rate(x.s1) / rate(x.o1))),
      'per round optstudy(2) / optstrategy(1)': runs.map((x) => round2(rate(x.s2) / rate(x.o1))),
      // Whole processes on both sides: Python start-up and imports included.
      'CPU ms per backtest: optstrategy(1), optstudy(1), optstrategy(2), optstudy(2)': [
        med((x) => (x.o1.cpu / x.o1.combos) * 1000),
        med((x) => (x.s1.cpu / x.s1.combos) * 1000),
        med((x) => (x.o2.cpu / x.o2.combos) * 1000),
        med((x) => (x.s2.cpu / x.s2.combos) * 1000),
      ],
      failedTrials: runs.reduce((n, x) => n + x.s1.failed + x.s2.failed, 0),
    };
  }
  out.loadAfter = os.loadavg().map(round2);
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.log(JSON.stringify({ error: String(e) }));
  process.exitCode = 1;
});
