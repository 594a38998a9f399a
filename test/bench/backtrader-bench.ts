/**
 * backtrader strategies (`strategy NAME backtrader "file.py:FACTORY"`) against backtrader's own
 * `cerebro.optstrategy`, side by side on this machine: the same Cerebro (two strategies as
 * backtrader documents them: the front page's SMA crossover and the Quickstart's final
 * strategy, test/fixtures/backtrader/bench.py), the same grid. #18 asks OptStudy(1 worker) ≥
 * optstrategy(maxcpus=1) and OptStudy(2 workers) ≥ 1.8 × optstrategy(maxcpus=1).
 *
 * Each round runs, per case: optstrategy maxcpus 1, OptStudy 1 worker, optstrategy maxcpus 2,
 * OptStudy 2 workers, one after the other, so a change in the machine's load hits both sides;
 * the ratios are the median of the rounds' ratios (`BENCH_ROUNDS`, default 3; `BENCH_CASES=a,b`
 * runs some cases only). Backtests/s: optstrategy's own timer inside its script (Python
 * start-up and `import backtrader` excluded, the data load included), OptStudy's whole run
 * (describe step, Python processes, journal included; optstrategy's whole Python process is
 * shown too). CPU ms per backtest (every process of a side, start-up included on both) show the
 * work apart from the load; `loadavg` is noted before and after. `phases …` say where each
 * OptStudy run's wall time went, per bridge process (optstudy_bridge.py's timeline). Needs real
 * backtrader. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runStudy } from '../../server/run/run-study';
import { chooseExecutor, hostCheckOptions } from '../../server/host/executors';
import { sampleData } from '../support/run-fixtures';
import { backtraderMissing, fixture } from '../strategies/backtrader-env';

const range = (from: number, to: number, step = 1): number[] => Array.from({ length: Math.floor((to - from) / step) + 1 }, (_, i) => from + i * step);

// The first two rows are #18's (small grids: a run's fixed start-up — Python, `import backtrader`,
// the data — weighs on them); the `… 96` rows are the same strategies on grids of a realistic size.
const CASES: { name: string; factory: string; grid: Record<string, number[]> }[] = [
  { name: 'sma_cross', factory: 'sma_cross', grid: { pfast: range(5, 30, 5), pslow: range(30, 100, 10) } },
  { name: 'quickstart', factory: 'quickstart', grid: { maperiod: range(10, 40, 2), exitbars: [3, 5] } },
  { name: 'sma_cross 96', factory: 'sma_cross', grid: { pfast: range(4, 26, 2), pslow: range(30, 100, 10) } },
  { name: 'quickstart 96', factory: 'quickstart', grid: { maperiod: range(10, 40, 2), exitbars: range(2, 7) } },
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

/** One bridge process's timeline (optstudy_bridge.py Timeline): marks [wall epoch s, CPU s], trials [received, answered, CPU s]. */
interface BridgeTimes {
  marks: Record<string, [number, number]>;
  trials: [number, number, number][];
}

function readTimes(file: string): BridgeTimes {
  const out: BridgeTimes = { marks: {}, trials: [] };
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const [kind, a, b, c] = JSON.parse(line) as [string, string | number, number, number];
    if (kind === 'mark') out.marks[a as string] = [b, c];
    else out.trials.push([a as number, b, c]);
  }
  return out;
}

/**
 * Where a run's time went, in ms from the run's start: per bridge process, when Python began,
 * had imported backtrader, had loaded the SPEC (and described it), took its first request and
 * answered its last; its trials' wall and CPU (the first apart: it loads the data), the idle
 * time between an answer and the next request, and its CPU before the first request.
 */
function phases(t0: number, dir: string): Record<string, unknown>[] {
  const ms = (t: number): number => Math.round(t * 1000 - t0);
  return readdirSync(dir)
    .map((f) => readTimes(path.join(dir, f)))
    .filter((b) => b.marks.start)
    .sort((a, b) => a.marks.start![0] - b.marks.start![0])
    .map((b) => {
      const tr = b.trials;
      let idle = 0;
      for (let i = 1; i < tr.length; i++) idle += tr[i]![0] - tr[i - 1]![1];
      const wall = tr.slice(1).reduce((s, t) => s + t[1] - t[0], 0);
      const cpu = tr.slice(1).reduce((s, t) => s + t[2], 0);
      return {
        start: ms(b.marks.start![0]),
        imported: b.marks.imported ? ms(b.marks.imported[0]) : null,
        loaded: b.marks.loaded ? ms(b.marks.loaded[0]) : null,
        firstRequest: tr.length ? ms(tr[0]![0]) : null,
        lastAnswer: tr.length ? ms(tr[tr.length - 1]![1]) : null,
        trials: tr.length,
        firstTrialMs: tr.length ? Math.round((tr[0]![1] - tr[0]![0]) * 1000) : null,
        otherTrialsMsMean: tr.length > 1 ? Math.round((wall / (tr.length - 1)) * 1000) : null,
        otherTrialsCpuMsMean: tr.length > 1 ? Math.round((cpu / (tr.length - 1)) * 1000) : null,
        idleMsBetweenTrials: Math.round(idle * 1000),
        cpuMsBeforeFirstRequest: b.marks.loaded ? Math.round(b.marks.loaded[1] * 1000) : null,
      };
    });
}

/** Whether a process other than this one works in DIR (Linux /proc; false elsewhere). */
function processIn(dir: string): boolean {
  try {
    return readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)
      .some((p) => {
        try {
          return readlinkSync(`/proc/${p}/cwd`) === dir && !/\) Z /.test(readFileSync(`/proc/${p}/stat`, 'utf8'));
        } catch {
          return false;
        }
      });
  } catch {
    return false;
  }
}

async function optstudy(factory: string, grid: Record<string, number[]>, workers: number): Promise<Timed & { failed: number; phases: Record<string, unknown> }> {
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
    const times = path.join(dir, 'times');
    mkdirSync(times);
    process.env.OPTSTUDY_BRIDGE_TIMES = times;
    let firstTrial = 0;
    const own0 = ownCpu();
    const children0 = childrenCpu();
    const epoch0 = Date.now();
    const t0 = performance.now();
    const end = await runStudy(
      { file: path.join(dir, 's.optstudy'), out: path.join(dir, 'run'), workers, createExecutor: chooseExecutor, checkOptions: (f) => hostCheckOptions(f, workers) },
      (e) => {
        if (e.type === 'trial') {
          if (!combos) firstTrial = performance.now() - t0;
          combos++;
          if (e.state === 'failed') failed++;
        }
      },
      new AbortController().signal,
    );
    const seconds = (performance.now() - t0) / 1000;
    const nodeCpu = ownCpu() - own0;
    delete process.env.OPTSTUDY_BRIDGE_TIMES;
    // The run is over; its bridge processes stop a moment later (they wait for a next step of
    // the run, bridge-pool.ts): their CPU belongs to this side, so it is read once they are gone
    // (this process's own CPU before the wait: the polling is the bench's, not the run's).
    for (const until = Date.now() + 15_000; processIn(realpathSync(dir)) && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50));
    const cpu = childrenCpu() - children0 + nodeCpu;
    if (end.status !== 'finished') throw new Error(`the run ended ${end.status}: ${end.error}`);
    const run = { firstTrialEvent: Math.round(firstTrial), end: Math.round(seconds * 1000), nodeCpuMs: Math.round(nodeCpu * 1000) };
    return { combos, seconds, failed, cpu, phases: { run, bridges: phases(epoch0, times) } };
  } finally {
    delete process.env.OPTSTUDY_BRIDGE_TIMES;
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What two Python processes really get on this machine at this moment: the same pure-Python
 * loop for 1.5 s in one process alone, then in two at once; their rounds over the one's
 * (2.00 = two free cores). The ceiling of every 2-worker ratio, on both sides.
 */
async function pythonCeiling(): Promise<number> {
  const code = 'import time\nend=time.perf_counter()+1.5\nn=0\nwhile time.perf_counter()<end:\n    s=0\n    for i in range(2000): s+=i*i%7\n    n+=1\nprint(n)';
  const once = (): Promise<number> =>
    new Promise((resolve, reject) => {
      const c = spawn(process.env.OPTSTUDY_PYTHON || 'python3', ['-c', code], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      c.stdout.on('data', (d: Buffer) => (out += d.toString()));
      c.on('error', reject);
      c.on('close', () => resolve(Number(out.trim()) || 0));
    });
  const one = await once();
  const two = await Promise.all([once(), once()]);
  return one > 0 ? (two[0]! + two[1]!) / one : 0;
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
  type Side = Awaited<ReturnType<typeof optstudy>>;
  const seen = new Map<string, { o1: Timed; s1: Side; o2: Timed; s2: Side }[]>();
  // BENCH_CASES=quickstart,…: some cases only (all by default).
  const only = process.env.BENCH_CASES?.split(',');
  const ceilings: number[] = [];
  for (let r = 0; r < rounds; r++) {
    ceilings.push(round2(await pythonCeiling()));
    for (const c of CASES.filter((x) => !only || only.includes(x.name))) {
      const o1 = optstrategy(c.factory, c.grid, 1);
      const s1 = await optstudy(c.factory, c.grid, 1);
      const o2 = optstrategy(c.factory, c.grid, 2);
      const s2 = await optstudy(c.factory, c.grid, 2);
      seen.set(c.name, [...(seen.get(c.name) ?? []), { o1, s1, o2, s2 }]);
    }
  }
  for (const [name, runs] of seen) {
    const med = (f: (x: (typeof runs)[number]) => number): number => round2(median(runs.map(f)));
    out[name] = {
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
      // Per round, ms from each run's start: the run's first trial event and end, and each bridge process's phases.
      'phases optstudy(1)': runs.map((x) => x.s1.phases),
      'phases optstudy(2)': runs.map((x) => x.s2.phases),
    };
  }
  out['python ceiling, 2 processes / 1 (per round)'] = ceilings;
  out.loadAfter = os.loadavg().map(round2);
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.log(JSON.stringify({ error: String(e) }));
  process.exitCode = 1;
});
