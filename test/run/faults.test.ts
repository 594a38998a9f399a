/**
 * The run path under faults, with real processes, real signals and real files (#21 findings
 * 2, 8, 9, 11 and #18's exit status): a torn journal tail and two resumes; a run folder in use;
 * two plain runs at once; SIGTERM and a double Ctrl-C with a hung strategy process; a run whose
 * every trial failed; a module that allocates gigabytes of Buffers.
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, test } from 'node:test';
import type { EndEvent, RunEvent, TrialEvent } from '../../protocol/run-events';
import { chooseExecutor } from '../../server/host/executors';
import { runStudy } from '../../server/run/run-study';
import { collector, repoRoot, sampleData, tempStudy } from '../support/run-fixtures';

const CLI = path.join(repoRoot(), 'dist', 'cli.js');

interface CliRun {
  child: ChildProcess;
  events: RunEvent[];
  stderr: () => string;
  trials: () => number;
  /** Resolves once an event satisfies `pred`; rejects when the process exits first or after `ms`. */
  waitFor: (pred: (e: RunEvent) => boolean, ms?: number) => Promise<void>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Every CLI process a test started: killed when the test ends, also when it fails. */
const started = new Set<ChildProcess>();
afterEach(() => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  started.clear();
});

/** `optstudy run ARGS --json` as a child process, its events parsed as they come. */
function cli(args: string[]): CliRun {
  const child = spawn(process.execPath, [CLI, 'run', ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  const events: RunEvent[] = [];
  let trials = 0;
  let buf = '';
  let err = '';
  const waiters: { pred: (e: RunEvent) => boolean; resolve: () => void }[] = [];
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop()!;
    for (const line of lines) {
      const e = JSON.parse(line) as RunEvent;
      events.push(e);
      if (e.type === 'trial') trials++;
      for (const w of [...waiters]) if (w.pred(e)) (waiters.splice(waiters.indexOf(w), 1), w.resolve());
    }
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    events,
    stderr: () => err,
    trials: () => trials,
    waitFor: (pred, ms = 120_000) =>
      new Promise<void>((resolve, reject) => {
        if (events.some(pred)) return resolve();
        const timer = setTimeout(() => reject(new Error(`not seen within ${ms} ms (${events.length} events, the last ${JSON.stringify(events.at(-1))?.slice(0, 300)}); stderr: ${err}`)), ms);
        waiters.push({ pred, resolve: () => (clearTimeout(timer), resolve()) });
        void exit.then(() => setTimeout(() => reject(new Error(`the run exited first; stderr: ${err}`)), 50));
      }),
    exit,
  };
}

/** Resolves with the exit, or rejects when the process is still running after `ms`. */
function exitWithin(run: CliRun, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      run.child.kill('SIGKILL');
      reject(new Error(`still running ${ms} ms after the signal`));
    }, ms);
  });
  // Cleared once the run exits: a pending timer kept this file's process alive up to `ms` (5 minutes) after its tests passed.
  return Promise.race([run.exit, late]).finally(() => clearTimeout(timer));
}

/** The journal's lines; a torn last line (a crash mid-write) is left out. */
function journalLines(dir: string): { type: string; number?: number }[] {
  const text = readFileSync(path.join(dir, 'journal.jsonl'), 'utf8');
  const lines = text.split('\n');
  if (!text.endsWith('\n')) lines.pop();
  return lines.filter((l) => l.trim()).map((l) => JSON.parse(l) as { type: string; number?: number });
}

/** Cuts the journal in the middle of its last line, as a crash mid-write leaves it; returns the fragment. */
function tear(dir: string): string {
  const file = path.join(dir, 'journal.jsonl');
  const text = readFileSync(file, 'utf8');
  const lastStart = text.lastIndexOf('\n', text.length - 2) + 1;
  const cut = lastStart + Math.floor((text.length - lastStart) / 2);
  truncateSync(file, Buffer.byteLength(text.slice(0, cut)));
  return text.slice(lastStart, cut);
}

/** Resolves once `file` exists; rejects when the run exits first or after `ms`. */
async function untilFile(file: string, run: CliRun, ms = 120_000): Promise<void> {
  let exited = false;
  void run.exit.then(() => (exited = true));
  for (const t0 = Date.now(); !existsSync(file); await new Promise((r) => setTimeout(r, 25))) {
    if (exited) throw new Error(`the run exited before ${path.basename(file)} was written; stderr: ${run.stderr()}`);
    if (Date.now() - t0 > ms) throw new Error(`${path.basename(file)} not written within ${ms} ms; stderr: ${run.stderr()}`);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const GRID = (fastHi: number, slowHi: number, step: number): string => `
study "faults" {
  data "${sampleData('orcl-1995-2014.txt')}" from 2005-01-01 to 2014-12-31
  strategy sma_cross
  objective maximize sharpe
  stage "grid" {
    param fast in 2 .. ${fastHi} step 1
    param slow in 20 .. ${slowHi} step ${step}
    where fast < slow
  }
  seed 5
}
`;

test('a torn journal tail: --resume cuts it back (kept in .torn), never appends onto it, and a later --resume works', async (t) => {
  // ~11,000 trials: however many more a run finishes before its SIGKILL lands (hundreds at
  // today's speed), each resume still has 300 new trials left to show before it is torn.
  const dir = tempStudy({ 's.optstudy': GRID(100, 600, 5) });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 's.optstudy');
  const full = collector();
  const ref = await runStudy({ file, workers: 2, out: path.join(dir, 'full') }, full.onEvent, new AbortController().signal);
  const total = full.trials().length;
  assert.ok(total > 10_000, String(total));

  const out = path.join(dir, 'torn');
  const fragments: string[] = [];
  let args = [file, '--workers', '1', '--out', out];
  for (const more of [300, 300]) {
    const run = cli(args);
    const seen = (): number => run.trials();
    const before = args.includes('--resume') ? journalLines(out).filter((l) => l.type === 'trial').length : 0;
    await run.waitFor(() => seen() >= before + more);
    run.child.kill('SIGKILL');
    await run.exit;
    fragments.push(tear(out));
    args = ['--resume', out, '--workers', '1'];
  }
  const last = cli(args);
  const { code } = await exitWithin(last, 300_000);
  assert.equal(code, 0, last.stderr());
  const end = last.events.at(-1) as EndEvent;
  assert.equal(end.type, 'end');
  assert.equal(end.status, 'finished');
  assert.deepEqual(end.best, ref.best);
  assert.equal(end.trials, total);
  assert.ok(last.events.some((e) => e.type === 'log' && /torn by a crash/.test(e.message)), 'the cut is reported');
  // Every line whole, every trial exactly once, and the fragments kept aside.
  const trials = journalLines(out).filter((l) => l.type === 'trial').map((l) => l.number!);
  assert.equal(trials.length, total);
  assert.equal(new Set(trials).size, total);
  const torn = readdirSync(out).filter((f) => f.endsWith('.torn')).sort();
  assert.deepEqual(torn, ['journal.jsonl.2.torn', 'journal.jsonl.torn']);
  assert.equal(readFileSync(path.join(out, 'journal.jsonl.torn'), 'utf8'), fragments[0]);
  assert.equal(readFileSync(path.join(out, 'journal.jsonl.2.torn'), 'utf8'), fragments[1]);
});

test('a run folder in use is refused with its owner; a dead owner\'s lock is taken over; plain runs never share a folder', async (t) => {
  const dir = tempStudy({ 'big.optstudy': GRID(201, 4000, 10), 'small.optstudy': GRID(12, 60, 10) });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const big = path.join(dir, 'big.optstudy');
  const out = path.join(dir, 'run');
  const a = cli([big, '--workers', '1', '--out', out]);
  await a.waitFor((e) => e.type === 'trial');
  for (const args of [['--resume', out], [big, '--out', out]]) {
    const b = cli(args);
    const { code } = await exitWithin(b, 60_000);
    assert.equal(code, 1, b.stderr());
    assert.match(b.stderr(), new RegExp(`in use by optstudy process ${a.child.pid}\\b`));
    const end = b.events.at(-1) as EndEvent;
    assert.ok(end.type === 'end' && end.status === 'failed');
  }
  assert.equal(a.child.exitCode, null, 'the first run goes on');
  a.child.kill('SIGKILL');
  await a.exit;
  // Its lock names a dead process: the next --resume takes it over and runs.
  const before = journalLines(out).filter((l) => l.type === 'trial').length;
  const c = cli(['--resume', out, '--workers', '1']);
  await c.waitFor(() => c.trials() > before + 20);
  c.child.kill('SIGTERM');
  const { code } = await exitWithin(c, 30_000);
  assert.equal(code, 143);
  const end = c.events.at(-1) as EndEvent;
  assert.ok(end.type === 'end' && end.status === 'cancelled');
  const nums = journalLines(out).filter((l) => l.type === 'trial').map((l) => l.number!);
  assert.equal(new Set(nums).size, nums.length, 'no trial twice');
  assert.ok(!readdirSync(out).includes('run.lock'), 'the lock is released at the end');

  // Three plain runs of one study started at once: three folders, three whole journals.
  const small = path.join(dir, 'small.optstudy');
  const runs = [cli([small, '--workers', '1']), cli([small, '--workers', '1']), cli([small, '--workers', '1'])];
  const ends: EndEvent[] = [];
  for (const r of runs) {
    const { code: rc } = await exitWithin(r, 120_000);
    assert.equal(rc, 0, r.stderr());
    ends.push(r.events.at(-1) as EndEvent);
  }
  const dirs = ends.map((e) => e.runDir!);
  assert.equal(new Set(dirs).size, 3, dirs.join(', '));
  for (const d of dirs) {
    const lines = journalLines(d);
    assert.equal(lines.filter((l) => l.type === 'header').length, 1);
    assert.equal(lines.filter((l) => l.type === 'trial').length, ends[0]!.trials);
  }
});

/**
 * A command strategy that answers x = 1, 2 and hangs on x = 3 (noting it in hanging.txt, so the
 * test signals a run that is really stuck, however slow the machine); it starts a grandchild
 * and writes both pids.
 */
const HANG = `
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
fs.appendFileSync(process.env.PIDS_FILE || 'pids.txt', process.pid + ' ' + sleeper.pid + '\\n');
let buf = '';
process.stdin.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\\n')) >= 0) {
    const req = JSON.parse(buf.slice(0, i));
    buf = buf.slice(i + 1);
    if (req.params.x >= 3) {
      fs.appendFileSync('hanging.txt', req.params.x + '\\n'); // hangs from now on: never answers
      continue;
    }
    process.stdout.write(JSON.stringify({ id: req.id, metrics: { sharpe: req.params.x, trades_closed: 10 } }) + '\\n');
  }
});
`;

for (const how of ['SIGTERM', 'a second Ctrl-C'] as const) {
  test(`a hung strategy process: ${how === 'SIGTERM' ? 'the first SIGTERM ends the run cancelled (exit 143)' : 'a second Ctrl-C quits at once (exit 130)'}, and no strategy process is left`, async (t) => {
    const dir = tempStudy({
      'hang.js': HANG,
      's.optstudy': `
strategy hang command "node hang.js" {
  param x: int = 1
}
study "hung" {
  data "${sampleData('orcl-2014.txt')}"
  strategy hang
  objective maximize sharpe
  stage "all" {
    param x in 1 .. 6 step 1
  }
  workers 1
  seed 1
}`,
    });
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const run = cli([path.join(dir, 's.optstudy'), '--out', path.join(dir, 'run')]);
    // Both answered trials reach the --json reader while the third hangs (nothing else comes to
    // carry them out), and the strategy holds trial x = 3 unanswered.
    await run.waitFor(() => run.trials() >= 2);
    await untilFile(path.join(dir, 'hanging.txt'), run);
    const pids = readFileSync(path.join(dir, 'pids.txt'), 'utf8').trim().split(/\s+/).map(Number);
    t.after(() => pids.filter(isAlive).forEach((p) => process.kill(p, 'SIGKILL')));
    assert.ok(pids.length >= 2 && pids.every(isAlive), `strategy processes ${pids.join(', ')} run`);
    let exited: { code: number | null };
    if (how === 'SIGTERM') {
      run.child.kill('SIGTERM');
      exited = await exitWithin(run, 15_000);
      assert.equal(exited.code, 143, run.stderr());
      const end = run.events.at(-1) as EndEvent;
      assert.ok(end.type === 'end' && end.status === 'cancelled', JSON.stringify(end));
      assert.equal(end.trials, 2, 'the finished trials are kept');
      assert.equal(journalLines(path.join(dir, 'run')).filter((l) => l.type === 'trial').length, 2);
    } else {
      run.child.kill('SIGINT');
      await new Promise((r) => setTimeout(r, 20));
      run.child.kill('SIGINT');
      exited = await exitWithin(run, 5_000);
      assert.equal(exited.code, 130, run.stderr());
    }
    for (let i = 0; i < 40 && pids.some(isAlive); i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(pids.filter(isAlive), [], 'no strategy process (or its child) is left running');
  });
}

test('a run whose every trial failed exits 3 with the first error; the summary counts failed trials', async (t) => {
  const dir = tempStudy({
    'broken.js': `module.exports = { name: 'broken', params: [{ name: 'x', type: 'int', default: 1 }], setup(ctx, p) { throw new Error('no signal for x = ' + p.x); } };`,
    's.optstudy': `
study "broken" {
  data "${sampleData('orcl-2014.txt')}"
  strategy module "broken.js"
  objective maximize sharpe
  stage "all" {
    param x in 1 .. 5 step 1
  }
  workers 1
  seed 1
}`,
  });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const child = spawn(process.execPath, [CLI, 'run', path.join(dir, 's.optstudy'), '--out', path.join(dir, 'run')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  assert.equal(code, 3, err);
  assert.match(err, /every trial failed; the first \(trial 0\): no signal for x = 1/);
  assert.match(out, /5 trials \(0 complete, 5 failed\)/);
});

test('a module allocating gigabytes of Buffers fails its trial over the off-heap cap; the run goes on', async (t) => {
  const dir = tempStudy({
    'hog.js': `
const kept = [];
module.exports = {
  name: 'hog',
  params: [{ name: 'x', type: 'int', default: 1 }],
  setup(ctx, p) {
    if (p.x === 2) for (let i = 0; i < 12; i++) kept.push(Buffer.alloc(256 * 1024 * 1024));
    const fast = ctx.sma(3 + p.x);
    const slow = ctx.sma(30);
    return (c) => { if (fast[c.i] > slow[c.i]) c.buy(); else if (c.position > 0) c.close(); };
  },
};`,
    's.optstudy': `
study "hog" {
  data "${sampleData('orcl-2014.txt')}"
  strategy module "hog.js"
  objective maximize total_return_pct
  stage "all" {
    param x in 1 .. 4 step 1
  }
  workers 1
  seed 1
}`,
  });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const c = collector();
  const end = await runStudy({ file: path.join(dir, 's.optstudy'), out: path.join(dir, 'run'), createExecutor: chooseExecutor }, c.onEvent, new AbortController().signal);
  assert.equal(end.status, 'finished');
  const byX = (x: number): TrialEvent => c.trials().find((e) => e.params.x === x)!;
  assert.equal(byX(2).state, 'failed');
  const m = /(\d+) MiB of off-heap memory \(ArrayBuffers, Buffers\), over the worker's cap of 1024 MiB/.exec(byX(2).error!);
  assert.ok(m && Number(m[1]) >= 3072, byX(2).error);
  for (const x of [1, 3, 4]) assert.equal(byX(x).state, 'complete', `x = ${x}: ${byX(x).error}`);
  assert.ok(statSync(path.join(dir, 'run', 'journal.jsonl')).size > 0);
});
