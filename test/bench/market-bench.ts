/**
 * The market model's speed against real backtrader, measured side by side in one run on this
 * machine (`npm run bench -- market`): CPU seconds per backtest of backtrader 1.9.78 (the
 * oracle, ../shared/oracle/oracle.py, a few scenarios) and CPU µs per backtest of the engine
 * over a grid of the same shape, for
 * - `sma_grid`: sma_cross on orcl-1995-2014 (5,036 daily bars), long only, percent commission
 *   (the fast loop; goal ≥ 5,000× backtrader);
 * - `protective_grid`: sma_cross with direction both, stop, take and trail, per-share
 *   commission and slippage (the general loop; goal ≥ 2,000×);
 * - `minute_grid`: sma_cross on 5,000 one-minute bars (intraday metrics; goal ≥ 5,000×).
 * Prints one JSON object; the load average is part of it (2 shared cores: CPU time, not wall
 * time, is the comparable figure). Without the oracle, backtrader's side is reported missing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { IndicatorCache, loadPrices, runBacktest, type BacktestConfig, type PriceData } from '../../server/engine/index';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const ORACLE = path.resolve(ROOT, '..', 'shared', 'oracle');
const DATA = path.join(ROOT, 'samples', 'data');

type Params = Record<string, number | string>;

interface Case {
  goal: number;
  data: string;
  config: BacktestConfig;
  /** The oracle's scenario keys for the same broker. */
  scenario: Record<string, unknown>;
  grid: Params[];
  /** A few of the grid's combinations for backtrader. */
  sample: Params[];
}

function grid(axes: Record<string, (number | string)[]>): Params[] {
  let out: Params[] = [{}];
  for (const [k, vs] of Object.entries(axes)) out = out.flatMap((p) => vs.map((v) => ({ ...p, [k]: v })));
  return out;
}

/** 5,000 one-minute bars (a seeded random walk, 09:30–15:59 each weekday), as Date,Time,… CSV. */
function minuteFile(dir: string): string {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const lines = ['Date,Time,Open,High,Low,Close,Volume,OpenInterest'];
  let px = 100;
  let day = Date.UTC(2021, 0, 4);
  let n = 0;
  while (n < 5000) {
    const d = new Date(day);
    if (d.getUTCDay() !== 0 && d.getUTCDay() !== 6) {
      const date = d.toISOString().slice(0, 10);
      for (let m = 9 * 60 + 30; m < 16 * 60 && n < 5000; m++, n++) {
        const o = px;
        const c = Math.round((o * (1 + (rnd() - 0.5) * 0.004)) * 100) / 100;
        const h = Math.round(Math.max(o, c) * (1 + rnd() * 0.001) * 100) / 100;
        const l = Math.round(Math.min(o, c) * (1 - rnd() * 0.001) * 100) / 100;
        const t = `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}:00`;
        lines.push(`${date},${t},${o},${h},${l},${c},${Math.floor(rnd() * 1000)},0`);
        px = c;
      }
    }
    day += 86400000;
  }
  const file = path.join(dir, 'bench-min-001.txt');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

const range = (a: number, b: number, s: number) => Array.from({ length: Math.floor((b - a) / s) + 1 }, (_, i) => a + i * s);
const SMA = grid({ fast: range(5, 39, 2), slow: range(40, 200, 20) });
const PERCENT: BacktestConfig = { cash: 100000, commission: 0.001, sizing: { kind: 'percent', value: 95 } };
const PERCENT_SC = { cash: 100000, commission: { type: 'percent', rate: 0.001 }, slippage: null, sizing: { type: 'percent', percent: 95 } };

function cases(minute: string): Record<string, Case> {
  const orcl = path.join(DATA, 'orcl-1995-2014.txt');
  const protective = grid({ fast: [5, 10, 20], slow: [40, 60, 100], stop_loss_pct: [2, 4, 6], take_profit_pct: [5, 10], trail_pct: [3, 6] }).map((p) => ({ ...p, direction: 'both' }));
  return {
    sma_grid: { goal: 5000, data: orcl, config: PERCENT, scenario: PERCENT_SC, grid: SMA, sample: [SMA[0]!, SMA[77]!, SMA[150]!] },
    protective_grid: {
      goal: 2000,
      data: orcl,
      config: { cash: 100000, commission: { kind: 'per_share', amount: 0.005 }, slippage: { kind: 'percent', rate: 0.0005 }, sizing: { kind: 'percent', value: 95 } },
      scenario: { cash: 100000, commission: { type: 'per_share', amount: 0.005 }, slippage: { type: 'percent', rate: 0.0005 }, sizing: { type: 'percent', percent: 95 } },
      grid: protective,
      sample: [protective[0]!, protective[50]!, protective[100]!],
    },
    minute_grid: { goal: 5000, data: minute, config: PERCENT, scenario: PERCENT_SC, grid: SMA, sample: [SMA[0]!, SMA[77]!, SMA[150]!] },
  };
}

/** CPU µs per backtest over the whole grid with one indicator cache: the best of `passes` passes (after one warm pass). */
function ours(data: PriceData, c: Case, passes = 4): { cpu_us: number; per_s: number } {
  const pass = () => {
    const cache = new IndicatorCache();
    const t0 = process.cpuUsage();
    for (const p of c.grid) runBacktest(data, 'sma_cross', p, c.config, { trades: false, cache });
    const t = process.cpuUsage(t0);
    return (t.user + t.system) / c.grid.length;
  };
  pass();
  let best = Infinity;
  for (let k = 0; k < passes; k++) best = Math.min(best, pass());
  return { cpu_us: Math.round(best * 10) / 10, per_s: Math.round(1e6 / best) };
}

/** backtrader's CPU seconds per backtest on `c.sample` (process time inside Python, imports excluded). */
function backtrader(c: Case, dir: string): { cpu_s: number; scenarios: number } | { error: string } {
  if (!existsSync(path.join(ORACLE, 'oracle.py'))) return { error: `no oracle at ${ORACLE}` };
  const scs = c.sample.map((p) => ({ strategy: 'sma_cross', params: p, data: [path.basename(c.data)], from: null, to: null, ...c.scenario }));
  const file = path.join(dir, 'scenarios.json');
  writeFileSync(file, JSON.stringify(scs));
  const code = [
    'import json, sys, time',
    `sys.path.insert(0, ${JSON.stringify(ORACLE)})`,
    'import oracle',
    `scs = json.load(open(${JSON.stringify(file)}))`,
    `dirs = [${JSON.stringify(path.dirname(c.data))}] + oracle.DEFAULT_DATA_DIRS`,
    't = time.process_time()',
    'out = [oracle.run(sc, dirs) for sc in scs]',
    'print(json.dumps({"cpu_s": (time.process_time() - t) / len(scs), "trades": [o["metrics"]["trades_closed"] for o in out]}))',
  ].join('\n');
  const r = spawnSync('python3', ['-c', code], { encoding: 'utf8' });
  if (r.status !== 0) return { error: r.stderr.slice(-500) };
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { cpu_s: number };
  return { cpu_s: Math.round(out.cpu_s * 1000) / 1000, scenarios: scs.length };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'optstudy-market-bench-'));
try {
  const minute = minuteFile(dir);
  const result: Record<string, unknown> = {};
  for (const [name, c] of Object.entries(cases(minute))) {
    const data = loadPrices(c.data);
    const mine = ours(data, c);
    const bt = backtrader(c, dir);
    const ratio = 'cpu_s' in bt ? Math.round((bt.cpu_s * 1e6) / mine.cpu_us) : null;
    result[name] = { bars: data.bars, combos: c.grid.length, ours: mine, backtrader: bt, ratio, goal: c.goal, ok: ratio === null ? null : ratio >= c.goal };
    process.stderr.write(`market-bench ${name}: ${JSON.stringify(result[name])}\n`);
  }
  process.stdout.write(JSON.stringify({ load_average_1m: Math.round(os.loadavg()[0]! * 10) / 10, cpus: os.cpus().length, ...result }) + '\n');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
