/**
 * The distributed layer on a real redis-server with real `optstudy worker` processes: batches
 * of real backtests sent through BullMQ give exactly the local results; a worker SIGKILLed
 * holding a batch, a Redis restart that loses every key, a cancel, and two runs sharing the
 * workers all end with every trial exactly once.
 */
import { strict as assert } from 'node:assert';
import { setMaxListeners } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Queue } from 'bullmq';
import { loadPrices, runBacktest } from '../../server/engine';
import { createDistributedExecutor, type DistributedExecutor } from '../../server/distributed/distributed-executor';
import type { TaskPayload, TrialRequest } from '../../server/executor/executor';
import { DEFAULT_QUEUE } from '../../server/distributed/protocol';
import { REDIS_MISSING, redisServerAvailable, startRedis, type TestRedis } from '../support/redis-server';
import { CLI, ROOT, startWorker, type TestWorker } from '../support/redis-workers';
import { spawnSync } from 'node:child_process';
import IORedis from 'ioredis';
import { freePort } from '../support/redis-server';
import { isBlock, outcomesOf, type OutcomeBlock } from '../../server/executor/outcome-block';
import { LocalExecutor } from '../../server/executor/local-pool';

const DATA = path.join(ROOT, 'samples', 'data', 'orcl-1995-2014.txt');
const skip = redisServerAvailable() ? false : REDIS_MISSING;

const CONFIG = { cash: 100_000, commission: 0.001, sizing: { kind: 'percent' as const, value: 95 } };
type SimpleTrial = TrialRequest;

/** The sma_cross grid fast 5..24 × slow 30..69 step 3, numbered. */
function grid(): SimpleTrial[] {
  const out: SimpleTrial[] = [];
  for (let fast = 5; fast < 25; fast++) for (let slow = 30; slow < 70; slow += 3) out.push({ number: out.length, params: { fast, slow } });
  return out;
}

function chunks<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/** The same trials run here, in this process, with the engine: the reference. */
function localOutcomes(data: string, trials: SimpleTrial[]): Map<number, string> {
  const prices = loadPrices(data);
  const out = new Map<number, string>();
  for (const t of trials) out.set(t.number, JSON.stringify(runBacktest(prices, 'sma_cross', t.params, CONFIG, { trades: false }).metrics));
  return out;
}

function executor(url: string, data = DATA, runId?: string): Promise<DistributedExecutor> {
  const payload: TaskPayload = { data: { file: data }, strategy: { kind: 'builtin', name: 'sma_cross' }, config: CONFIG };
  return createDistributedExecutor(payload, { workers: 1, retries: 0 }, { url, runId, reconcileMs: 300 });
}

/** A signal many batches may listen to at once (as runStudy's own is, one batch at a time). */
function unlimitedSignal(): AbortSignal {
  const s = new AbortController().signal;
  setMaxListeners(0, s);
  return s;
}

/** Runs every batch through the executor at once and checks each trial came back once, equal to the reference. */
async function runAll(ex: DistributedExecutor, trials: SimpleTrial[], reference: Map<number, string>, batch = 10, signal = unlimitedSignal()) {
  // A batch's outcomes come back as the workers' OutcomeBlocks: one TrialOutcome per trial again.
  const results = await Promise.all(chunks(trials, batch).map(async (b) => outcomesOf(await ex.run(b, signal))));
  const seen = new Map<number, number>();
  results.forEach((outcomes, i) => {
    const b = chunks(trials, batch)[i]!;
    assert.equal(outcomes.length, b.length);
    // Blocks come back as their chunks finish: the order is not the batch's, the trials are.
    assert.deepEqual(outcomes.map((o) => o.number).sort((x, y) => x - y), b.map((t) => t.number).sort((x, y) => x - y), 'each trial of the batch once');
    outcomes.forEach((o) => {
      assert.equal(o.error, undefined, `trial ${o.number} failed: ${o.error}`);
      assert.equal(JSON.stringify(o.metrics), reference.get(o.number), `trial ${o.number} differs from the local backtest`);
      seen.set(o.number, (seen.get(o.number) ?? 0) + 1);
    });
  });
  assert.equal(seen.size, trials.length);
  for (const [n, c] of seen) assert.equal(c, 1, `trial ${n} delivered ${c} times`);
}

describe('distributed trials on a real Redis with real workers', { skip }, () => {
  let redis: TestRedis;
  const workers: TestWorker[] = [];
  const trials = grid();
  /** The grid twice over (the second copy shifted by one in `fast`): more work for the tests that act mid-run. */
  const many = [...trials, ...trials.map((t) => ({ number: t.number + trials.length, params: { fast: (t.params.fast as number) + 1, slow: t.params.slow } }))];
  let reference: Map<number, string>;

  before(async () => {
    redis = await startRedis();
    reference = localOutcomes(DATA, many);
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await redis?.close();
  });

  it('two workers give exactly the local results, each trial once, both doing work', async () => {
    workers.push(await startWorker(redis.url), await startWorker(redis.url));
    const ex = await executor(redis.url);
    try {
      assert.equal(ex.workers, 2, 'both workers registered');
      await runAll(ex, trials, reference);
      assert.equal(Object.keys(ex.stats.byWorker).length, 2, `both workers ran batches: ${JSON.stringify(ex.stats.byWorker)}`);
    } finally {
      await ex.close();
    }
  });

  it('two runs share the workers and each gets only its own results', async () => {
    const [a, b] = await Promise.all([executor(redis.url), executor(redis.url)]);
    try {
      await Promise.all([runAll(a, trials, reference, 7), runAll(b, trials.slice(0, 100), reference, 9)]);
      assert.equal(a.stats.duplicates + b.stats.duplicates, 0);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('told the stage, the workers send whole journal lines, byte for byte those of the local pool', async () => {
    const ex = await executor(redis.url);
    const local = new LocalExecutor({ data: { file: DATA }, strategy: { kind: 'builtin', name: 'sma_cross' }, config: CONFIG }, { workers: 1, retries: 0 });
    try {
      const batch = trials.slice(0, 60);
      const lines = async (e: DistributedExecutor | LocalExecutor): Promise<string[]> => {
        const blocks: OutcomeBlock[] = [];
        await e.run(batch, unlimitedSignal(), (o) => void (isBlock(o) && blocks.push(o)), { stage: 'grid "1"' });
        assert.ok(blocks.length > 0 && blocks.every((b) => b.lines === true), 'whole lines');
        return blocks
          .flatMap((b) => Buffer.from(b.json).toString('utf8').split('\n').filter(Boolean))
          .map((l) => l.replace(/"durationMs":[^,]+,/, '"durationMs":0,'))
          .sort();
      };
      const remote = await lines(ex);
      assert.equal(remote.length, batch.length);
      assert.deepEqual(remote, await lines(local));
    } finally {
      await Promise.all([ex.close(), local.close()]);
    }
  });

  it('a worker SIGKILLed while holding a batch: the batch is re-delivered, every trial exactly once', async () => {
    const victim = await startWorker(redis.url, { concurrency: 2 });
    const ex = await executor(redis.url);
    const queue = new Queue(DEFAULT_QUEUE, { connection: { host: '127.0.0.1', port: redis.port } });
    try {
      // Jobs of about 20 trials, so a job is held long enough to be seen held.
      const running = runAll(ex, many, reference, 160);
      // Wait until the victim holds a job, then kill it without a chance to clean up.
      let held = false;
      for (let i = 0; i < 400 && !held; i++) {
        const active = await queue.getActive();
        held = active.some((j) => j.processedBy === victim.id && j.data.runId === ex.runId);
        if (!held) await new Promise((r) => setTimeout(r, 5));
      }
      assert.ok(held, 'the victim took a batch');
      victim.kill('SIGKILL');
      assert.equal(await victim.exited, 'SIGKILL');
      await running;
      assert.ok(ex.stats.redelivered >= 1, `the victim's batch came back through stalled-job recovery: ${JSON.stringify(ex.stats)}`);
    } finally {
      await queue.close();
      await ex.close();
      await victim.stop();
    }
  });

  it('SIGTERM: a worker finishes the batch in hand, then exits 0; nothing is re-delivered', async () => {
    // A long lock: on a loaded machine a short one can expire while the batch waits its turn.
    const leaving = await startWorker(redis.url, { concurrency: 1, lockMs: 10_000 });
    const ex = await executor(redis.url);
    const queue = new Queue(DEFAULT_QUEUE, { connection: { host: '127.0.0.1', port: redis.port } });
    try {
      const running = runAll(ex, many, reference, 120);
      let held = false;
      for (let i = 0; i < 400 && !held; i++) {
        held = (await queue.getActive()).some((j) => j.processedBy === leaving.id && j.data.runId === ex.runId);
        if (!held) await new Promise((r) => setTimeout(r, 5));
      }
      assert.ok(held, 'the leaving worker took a batch');
      leaving.kill('SIGTERM');
      assert.equal(await leaving.exited, 0);
      await running;
      assert.ok((ex.stats.byWorker[leaving.id] ?? 0) >= 1, `its batch in hand came back from it: ${JSON.stringify(ex.stats)}\n${leaving.log()}`);
      assert.equal(ex.stats.redelivered, 0);
      assert.match(leaving.log(), /SIGTERM: finishing the batches in hand[\s\S]*stopped after \d+ batches/);
    } finally {
      await queue.close();
      await ex.close();
      await leaving.stop();
    }
  });

  it('Redis restarted mid-run (every key lost): coordinator and workers reconnect, nothing lost', async () => {
    const ex = await executor(redis.url);
    try {
      // Hundreds of one-trial jobs: the run is surely still going after the first comes back.
      const running = runAll(ex, many, reference, 2);
      const doneBatches = () => Object.values(ex.stats.byWorker).reduce((a, b) => a + b, 0);
      for (let i = 0; i < 4000 && doneBatches() === 0; i++) await new Promise((r) => setTimeout(r, 5));
      const atRestart = doneBatches();
      assert.ok(atRestart > 0 && atRestart < many.length / 2, `Redis goes away mid-run (${atRestart} batches done)`);
      await redis.restart(600);
      await running;
      assert.ok(workers.every((w) => w.process.exitCode === null), 'the workers survived');
    } finally {
      await ex.close();
    }
    // And the workers serve a new run after the restart.
    const ex2 = await executor(redis.url);
    try {
      await runAll(ex2, trials.slice(0, 30), reference);
    } finally {
      await ex2.close();
    }
    for (const w of workers) assert.match(w.log(), /reconnected to Redis/);
  });

  it('cancel removes the pending jobs and the waiting batches end as cancelled', async () => {
    const ex = await executor(redis.url, DATA, 'cancel-me');
    const queue = new Queue(DEFAULT_QUEUE, { connection: { host: '127.0.0.1', port: redis.port } });
    // Stop taking jobs so they stay pending.
    await queue.pause();
    const ac = new AbortController();
    setMaxListeners(0, ac.signal);
    try {
      const promises = chunks(trials, 5).map((b) => ex.run(b, ac.signal));
      const settled = Promise.allSettled(promises);
      for (let i = 0; i < 300 && (await queue.getWaitingCount()) < promises.length; i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok((await queue.getWaitingCount()) >= promises.length, 'every batch is waiting');
      ac.abort();
      const results = await settled;
      assert.ok(results.every((r) => r.status === 'rejected' && (r.reason as Error).name === 'RunAborted'));
      const left = (await queue.getWaiting()).filter((j) => j.data.runId === 'cancel-me');
      assert.equal(left.length, 0, 'no job of the cancelled run left in the queue');
    } finally {
      await queue.resume();
      await queue.close();
      await ex.close();
    }
  });

  it('a file the workers cannot see is fetched once through Redis and cached by hash', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'optstudy-private-'));
    const priv = path.join(dir, 'orcl-private.txt');
    copyFileSync(DATA, priv);
    const ex = await executor(redis.url, priv);
    // The coordinator has published it; now it vanishes from the shared path.
    rmSync(dir, { recursive: true, force: true });
    const w = await startWorker(redis.url, { concurrency: 1 });
    try {
      // Only this worker may take these jobs: pause the others' queue is not possible per worker, so
      // check the outcome instead: every worker that ran one fetched the file into its cache.
      await runAll(ex, trials.slice(0, 40), reference);
      const { readdirSync, readFileSync } = await import('node:fs');
      const { createHash } = await import('node:crypto');
      const want = createHash('sha256').update(readFileSync(DATA)).digest('hex');
      const ran = [...workers, w].filter((x) => ex.stats.byWorker[x.id]);
      assert.ok(ran.length > 0);
      for (const x of ran) {
        assert.ok(readdirSync(x.cacheDir).includes(want), `worker ${x.id} cached the file under its hash`);
        assert.equal(createHash('sha256').update(readFileSync(path.join(x.cacheDir, want, 'orcl-private.txt'))).digest('hex'), want);
      }
    } finally {
      await ex.close();
      await w.stop();
    }
  });

  it('one worker serving more runs than it keeps pools for: every run completes, results equal local', async () => {
    const solo = await startWorker(redis.url, { queue: 'solo-trials' });
    try {
      const files = ['orcl-2014.txt', 'nvda-1999-2014.txt', 'yhoo-1996-2014.txt', 'orcl-1995-2014.txt', 'orcl-2014.txt'].map((f) => path.join(ROOT, 'samples', 'data', f));
      for (const file of files) {
        const payload: TaskPayload = { data: { file }, strategy: { kind: 'builtin', name: 'sma_cross' }, config: CONFIG };
        const ex = await createDistributedExecutor(payload, { workers: 1, retries: 0 }, { url: redis.url, queue: 'solo-trials', reconcileMs: 300 });
        try {
          await runAll(ex, trials.slice(0, 30), localOutcomes(file, trials.slice(0, 30)));
        } finally {
          await ex.close();
        }
      }
    } finally {
      await solo.stop();
    }
  });

  it('a worker that cannot use the Redis says which URL and what to do, and exits 1', async () => {
    const worker = (url: string) => spawnSync(process.execPath, [CLI, 'worker', '--redis', url], { encoding: 'utf8', timeout: 30_000 });
    const port = await freePort();
    const refused = worker(`redis://127.0.0.1:${port}`);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, new RegExp(`cannot reach Redis at redis://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED.*Start a Redis server there`));
    const scheme = worker('http://127.0.0.1:6379');
    assert.equal(scheme.status, 1);
    assert.match(scheme.stderr, /is not a Redis URL.*redis:\/\/HOST:PORT/);
    // A user with a password, asked with the wrong one (the password is not printed).
    const admin = new IORedis(redis.url);
    try {
      await admin.call('ACL', 'SETUSER', 'alice', 'on', '>right-secret', '~*', '+@all');
      const wrong = worker(`redis://alice:wrong-secret@127.0.0.1:${redis.port}`);
      assert.equal(wrong.status, 1);
      assert.match(wrong.stderr, /refused the credentials/);
      assert.doesNotMatch(wrong.stderr, /wrong-secret/);
    } finally {
      await admin.call('ACL', 'DELUSER', 'alice');
      admin.disconnect();
    }
  });
});
