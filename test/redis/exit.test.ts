/**
 * #21 finding 3 / #20: `optstudy run --redis` exits when its work ends, in every fault case,
 * with an exit status that says what happened and every trial exactly once — real CLI
 * processes, real `optstudy worker` processes, a real redis-server, real signals:
 * nothing at all, a worker SIGKILLed mid-run, Redis restarted mid-run (its keys lost),
 * SIGINT on the coordinator (then `--resume`), and Redis gone for good.
 * The grid is many batches long (the case that hung), and one batch is in flight at a time: an
 * `early_stop` that never triggers keeps the grid's own batches (256 trials) and waits for each
 * before the next, so a fault injected after the first trials lands mid-run however fast the
 * machine and however many worker slots size the batches (a plain grid on 3 slots is 2 batches,
 * both sent at once: it could end before the fault).
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import type { EndEvent, RunEvent } from '../../protocol/run-events';
import { REDIS_MISSING, redisServerAvailable, startRedis, type TestRedis } from '../support/redis-server';
import { CLI, startWorker, type TestWorker } from '../support/redis-workers';
import { sampleData, tempStudy } from '../support/run-fixtures';

const skip = redisServerAvailable() ? false : REDIS_MISSING;

/** 3,640 trials: 15 batches of up to 256, one after the other. */
const GRID = `
study "exits" {
  data "${sampleData('orcl-2014.txt')}"
  cash 100000
  commission 0.1%
  sizing percent 95
  strategy sma_cross
  objective maximize sharpe
  early_stop { patience 1000000 }
  stage "grid" {
    search grid
    param fast in 2 .. 53 step 1
    param slow in 20 .. 158 step 2
  }
  seed 5
}
`;
const TOTAL = 52 * 70;
/** Longest a coordinator may take from its `end` line to its exit (a hang shows as this timeout). */
const EXIT_WITHIN_MS = 15_000;
/** Longest a coordinator may live at all here (a run that never ends is killed and fails its test). */
const LIFE_MS = 180_000;

interface Coordinator {
  child: ChildProcess;
  events: RunEvent[];
  err: () => string;
  /** Resolves when `pred` holds for the events so far. */
  until(pred: (events: RunEvent[]) => boolean, timeoutMs?: number): Promise<void>;
  /** Exit code (or signal), and how long after its `end` line it came (null: no end line). */
  exited: Promise<{ code: number | string; afterEndMs: number | null }>;
}

function coordinator(args: string[], env: NodeJS.ProcessEnv = {}): Coordinator {
  const child = spawn(process.execPath, [CLI, 'run', ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const events: RunEvent[] = [];
  let buf = '';
  let err = '';
  let endAt = 0;
  const waiters = new Set<() => void>();
  child.stdout!.on('data', (d) => {
    buf += String(d);
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.trim()) continue;
      const e = JSON.parse(line) as RunEvent;
      events.push(e);
      if (e.type === 'end') endAt = Date.now();
    }
    for (const w of [...waiters]) w();
  });
  child.stderr!.on('data', (d) => (err += String(d)));
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  const exited = new Promise<{ code: number | string; afterEndMs: number | null }>((resolve) => {
    let hang: NodeJS.Timeout | null = null;
    const life = setTimeout(() => child.kill('SIGKILL'), LIFE_MS);
    const check = () => {
      if (endAt && !hang) hang = setTimeout(() => child.kill('SIGKILL'), EXIT_WITHIN_MS);
    };
    waiters.add(check);
    child.once('exit', (code, sig) => {
      if (hang) clearTimeout(hang);
      clearTimeout(life);
      process.off('exit', reap);
      resolve({ code: code ?? sig ?? -1, afterEndMs: endAt ? Date.now() - endAt : null });
    });
  });
  return {
    child,
    events,
    err: () => err,
    exited,
    until(pred, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pred(events)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting; ${events.length} events; stderr:\n${err}`));
        }, timeoutMs);
        waiters.add(check);
        void exited.then(() => {
          if (!waiters.has(check)) return;
          waiters.delete(check);
          clearTimeout(timer);
          reject(new Error(`the coordinator exited first; ${events.length} events; stderr:\n${err}`));
        });
        check();
      });
    },
  };
}

const trialCount = (events: RunEvent[]) => events.filter((e) => e.type === 'trial').length;

/** Every trial number once in the journal (and `expected` of them). */
function assertJournalOnce(runDir: string, expected: number): void {
  const lines = readFileSync(path.join(runDir, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type?: string; number?: number });
  const numbers = lines.filter((l) => l.type === 'trial').map((l) => l.number);
  assert.equal(new Set(numbers).size, numbers.length, 'no trial twice in the journal');
  assert.equal(numbers.length, expected, 'trials in the journal');
}

describe('optstudy run --redis ends, whatever happens', { skip }, () => {
  let redis: TestRedis;
  const workers: TestWorker[] = [];
  let dir: string;
  let file: string;
  let n = 0;

  before(async () => {
    redis = await startRedis();
    dir = tempStudy({ 'grid.optstudy': GRID });
    file = path.join(dir, 'grid.optstudy');
    workers.push(await startWorker(redis.url), await startWorker(redis.url));
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await redis?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts a coordinator on the grid; `out` is its run folder. */
  const start = (extra: string[] = [], env: NodeJS.ProcessEnv = {}) => {
    const out = path.join(dir, `run-${++n}`);
    return { out, c: coordinator([file, '--workers', '1', '--out', out, '--redis', redis.url, ...extra], env) };
  };

  /** The run finished: exit 0 soon after its end, one executor, every trial once. */
  async function assertFinished(c: Coordinator, out: string): Promise<void> {
    const { code, afterEndMs } = await c.exited;
    assert.ok(afterEndMs !== null, `no end line; stderr:\n${c.err()}`);
    assert.ok(afterEndMs < EXIT_WITHIN_MS, `still running ${EXIT_WITHIN_MS} ms after its end (killed)`);
    assert.equal(code, 0, c.err());
    const end = c.events.at(-1) as EndEvent;
    assert.equal(end.type, 'end');
    assert.equal(end.status, 'finished');
    assert.equal(end.trials, TOTAL);
    assert.equal(trialCount(c.events), TOTAL);
    assertJournalOnce(out, TOTAL);
    const executors = c.events.filter((e) => e.type === 'log' && /distributed run /.test(e.message));
    assert.equal(executors.length, 1, `one executor: ${JSON.stringify(executors)}`);
  }

  it('nothing happens: it exits 0 right after its end', async () => {
    const { out, c } = start();
    await assertFinished(c, out);
  });

  it('a worker SIGKILLed mid-run: its batches come back, the run exits 0 with every trial once', async () => {
    const victim = await startWorker(redis.url, { concurrency: 1 });
    try {
      const { out, c } = start();
      await c.until((e) => trialCount(e) > 0);
      victim.kill('SIGKILL');
      assert.equal(await victim.exited, 'SIGKILL');
      await assertFinished(c, out);
    } finally {
      await victim.stop();
    }
  });

  it('Redis restarted mid-run (every key lost): the run exits 0 with every trial once', async () => {
    const { out, c } = start();
    await c.until((e) => trialCount(e) > 0);
    assert.ok(!c.events.some((e) => e.type === 'end'));
    await redis.restart(500);
    await assertFinished(c, out);
    assert.ok(c.events.some((e) => e.type === 'log' && /reconnected to Redis/.test(e.message)), 'it reported the reconnection');
  });

  it('SIGINT on the coordinator: end cancelled, exit 130, no job of it left; --resume finishes with every trial once', async () => {
    const { out, c } = start();
    await c.until((e) => trialCount(e) > 0);
    c.child.kill('SIGINT');
    const { code, afterEndMs } = await c.exited;
    assert.ok(afterEndMs !== null && afterEndMs < EXIT_WITHIN_MS, `ended and exited: ${afterEndMs}; ${c.err()}`);
    assert.equal(code, 130);
    const end = c.events.at(-1) as EndEvent;
    assert.equal(end.status, 'cancelled');
    assert.ok(end.trials < TOTAL, `cancelled mid-run (${end.trials} of ${TOTAL})`);
    const queue = new Queue('optstudy-trials', { connection: { host: '127.0.0.1', port: redis.port } });
    try {
      const left = [...(await queue.getWaiting()), ...(await queue.getDelayed()), ...(await queue.getActive())];
      assert.equal(left.length, 0, `jobs left: ${left.map((j) => j.id).join(', ')}`);
    } finally {
      await queue.close();
    }
    const resumed = coordinator(['--resume', out, '--redis', redis.url]);
    const r = await resumed.exited;
    assert.equal(r.code, 0, resumed.err());
    const rend = resumed.events.at(-1) as EndEvent;
    assert.equal(rend.status, 'finished');
    assertJournalOnce(out, TOTAL);
  });

  it('Redis gone for good mid-run: the run ends failed, exit 1, saying so, the finished trials kept once; a worker still stops on two SIGTERMs', async () => {
    const { out, c } = start([], { OPTSTUDY_REDIS_TIMEOUT_S: '3' });
    const leaving = await startWorker(redis.url);
    try {
      await c.until((e) => trialCount(e) > 0);
      await redis.stop();
      leaving.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      leaving.kill('SIGTERM');
      assert.equal(await leaving.exited, 130, leaving.log());
      const { code, afterEndMs } = await c.exited;
      assert.ok(afterEndMs !== null && afterEndMs < EXIT_WITHIN_MS, `ended and exited: ${afterEndMs}; ${c.err()}`);
      assert.equal(code, 1, c.err());
      const end = c.events.at(-1) as EndEvent;
      assert.equal(end.status, 'failed');
      assert.match(end.error ?? '', /lost Redis at redis:\/\/127\.0\.0\.1:\d+ for more than 3 s; the finished trials are kept/);
      assertJournalOnce(out, trialCount(c.events));
    } finally {
      await leaving.stop();
      await redis.start();
    }
  });
});
