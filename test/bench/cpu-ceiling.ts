/**
 * What two threads really get on this machine: the same CPU work on 1 thread, then on 2
 * worker_threads at once, for a fixed time each. Each thread counts the rounds it completes in
 * the window; the ceiling is the two threads' rounds over the one thread's (2.00 = two cores).
 * Two kinds of work: `float` (a tight loop of float math on locals, nothing allocated) — the
 * hardware's ceiling — and `alloc` (a backtest-like loop: typed arrays of a few thousand bars,
 * small objects per bar, young-generation garbage).
 *
 * `alloc` gets less than `float` here (1.6–1.8 against ~1.97 on the 2-core VM), but the gap is
 * not the hardware: it is V8's garbage collector. Each isolate's young-generation collections
 * run on helper threads (parallel scavenge) and its sweeping and marking concurrently, so two
 * allocating isolates on two cores bring more runnable threads than cores. The same `alloc`
 * work in a child process under `node --single-threaded-gc` (`allocSingleThreadedGc`) got
 * 1.94–1.97 on a quiet VM, though single runs swing (1.49–1.84 at load 2–2.7). That flag is no remedy (one worker's own collections get slower); allocating less per
 * backtest is. So `ceiling` (the `alloc` figure) bounds what a garbage-making worker gains,
 * and less garbage per backtest moves the 2-worker figures toward `float`'s.
 *
 * `node out/test/bench/cpu-ceiling.js alloc` prints the `alloc` figures alone (the child's job).
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

/** The thread's code (eval'd: no bundle needed). Waits on the shared flag so both threads start together. */
const THREAD = `
const { workerData, parentPort } = require('node:worker_threads');
const { kind, ms, flag } = workerData;
const go = new Int32Array(flag);
function floatRound() {
  let a = 1.0001, b = 0.9999, s = 0;
  for (let i = 0; i < 20000; i++) { a = a * b + 1e-9; b = Math.sqrt(a * 0.5 + b * 0.5); s += a / (b + 1); }
  return s;
}
const bars = 2500;
const close = new Float64Array(bars);
for (let i = 0; i < bars; i++) close[i] = 100 + Math.sin(i / 17) * 10 + i * 0.01;
function allocRound() {
  // A moving average into a fresh array, a trade object per crossing, an equity curve.
  const n = 10 + (Math.random() * 40) | 0;
  const ma = new Float64Array(bars);
  let sum = 0;
  for (let i = 0; i < bars; i++) { sum += close[i]; if (i >= n) sum -= close[i - n]; ma[i] = sum / Math.min(i + 1, n); }
  const trades = [];
  const equity = new Float64Array(bars);
  let cash = 1e5, pos = 0;
  for (let i = 1; i < bars; i++) {
    const up = close[i] > ma[i], was = close[i - 1] > ma[i - 1];
    if (up && !was) { pos = cash / close[i]; cash = 0; trades.push({ bar: i, price: close[i], size: pos, side: 'buy' }); }
    else if (!up && was && pos > 0) { cash = pos * close[i]; trades.push({ bar: i, price: close[i], size: pos, side: 'sell' }); pos = 0; }
    equity[i] = cash + pos * close[i];
  }
  return { trades: trades.length, last: equity[bars - 1] };
}
const round = kind === 'float' ? floatRound : allocRound;
for (let i = 0; i < 200; i++) round();
parentPort.postMessage('ready');
Atomics.wait(go, 0, 0);
let rounds = 0, sink = 0;
const t0 = performance.now();
while (performance.now() - t0 < ms) { for (let k = 0; k < 8; k++) { const r = round(); sink += typeof r === 'number' ? r : r.trades; } rounds += 8; }
parentPort.postMessage({ rounds, ms: performance.now() - t0, sink });
`;

/** `threads` threads doing `kind` work for `ms` at once: each thread's rounds per second. */
async function together(threads: number, kind: 'float' | 'alloc', ms: number): Promise<number[]> {
  const flag = new SharedArrayBuffer(4);
  const workers = Array.from({ length: threads }, () => new Worker(THREAD, { eval: true, workerData: { kind, ms, flag } }));
  try {
    const results = workers.map(
      (w) =>
        new Promise<{ rounds: number; ms: number }>((resolve, reject) => {
          w.on('message', (m: unknown) => void (m !== 'ready' && resolve(m as { rounds: number; ms: number })));
          w.on('error', reject);
        }),
    );
    await Promise.all(workers.map((w) => new Promise<void>((resolve) => w.once('message', () => resolve()))));
    const go = new Int32Array(flag);
    Atomics.store(go, 0, 1);
    Atomics.notify(go, 0);
    return (await Promise.all(results)).map((r) => (1000 * r.rounds) / r.ms);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

export interface CeilingFigures {
  /** Rounds/s on one thread alone. */
  oneThreadPerSecond: number;
  /** Rounds/s of both threads together. */
  twoThreadsPerSecond: number;
  /** Cores' worth the two threads get: twoThreadsPerSecond / oneThreadPerSecond (best of `passes`). */
  ceiling: number;
}

/** One kind's figures: best of `passes` of `ms` each, 1 and 2 threads alternated. */
async function ceilingOf(kind: 'float' | 'alloc', passes: number, ms: number): Promise<CeilingFigures> {
  let one = 0;
  let two = 0;
  for (let p = 0; p < passes; p++) {
    one = Math.max(one, (await together(1, kind, ms))[0]!);
    two = Math.max(
      two,
      (await together(2, kind, ms)).reduce((a, b) => a + b, 0),
    );
  }
  return { oneThreadPerSecond: Math.round(one), twoThreadsPerSecond: Math.round(two), ceiling: Number((two / one).toFixed(2)) };
}

/**
 * The `alloc` figures in a child process under `node --single-threaded-gc` (V8's collector
 * without helper threads): what the same work gets when the isolates' GC threads do not
 * compete. This file is bundled on its own beside run-bench.js (esbuild.mjs), so the child runs it.
 */
function allocSingleThreadedGc(passes: number, ms: number): Promise<CeilingFigures> {
  const file = path.join(__dirname, 'cpu-ceiling.js');
  const args = ['--single-threaded-gc', file, 'alloc', String(passes), String(ms)];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { timeout: 20 * passes * ms + 30000 }, (err, stdout) => {
      if (err) reject(err);
      else resolve(JSON.parse(stdout) as CeilingFigures);
    });
  });
}

/** The ceiling for float and allocating work (and the latter without GC helper threads). */
export async function cpuCeiling(passes = 3, ms = 1000): Promise<Record<'float' | 'alloc' | 'allocSingleThreadedGc', CeilingFigures> & { ceiling: number }> {
  const float = await ceilingOf('float', passes, ms);
  const alloc = await ceilingOf('alloc', passes, ms);
  const allocSingle = await allocSingleThreadedGc(passes, ms);
  // The backtest-like figure bounds the grids' 2-worker speedups (see the file's comment).
  return { float, alloc, allocSingleThreadedGc: allocSingle, ceiling: alloc.ceiling };
}

// Run as the child (not when bundled into run-bench.js, which runs under its own name).
if (path.basename(process.argv[1] ?? '') === 'cpu-ceiling.js' && process.argv[2] === 'alloc') {
  void ceilingOf('alloc', Number(process.argv[3] ?? 3), Number(process.argv[4] ?? 1000)).then((f) => process.stdout.write(JSON.stringify(f) + '\n'));
}
