/**
 * Whole studies (`runStudy`, the optimizer's own code) on the Redis executor with real
 * `optstudy worker` processes and a real redis-server, compared trial for trial with the same
 * study on the local pool: two workers, a worker SIGKILLed mid-run, Redis restarted mid-run,
 * a module strategy shipped by content hash, and the CLI's `optstudy run --redis`.
 */
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import type { RunEvent, TrialEvent } from '../../protocol/run-events';
import { createDistributedExecutor, type DistributedExecutor, type DistributedOptions } from '../../server/distributed/distributed-executor';
import { DEFAULT_QUEUE } from '../../server/distributed/protocol';
import { runStudy, type RunOptions } from '../../server/run/run-study';
import { chooseExecutor } from '../../server/host/executors';
import { collector, essence, repoRoot, sampleData, tempStudy, TWO_STAGES } from '../support/run-fixtures';
import { REDIS_MISSING, redisServerAvailable, startRedis, type TestRedis } from '../support/redis-server';
import { CLI, startWorker, type TestWorker } from '../support/redis-workers';

const skip = redisServerAvailable() ? false : REDIS_MISSING;
const ORCL = sampleData('orcl-1995-2014.txt');


/** A grid big enough that a worker is always holding a batch while the test acts. */
const BIG_GRID = `
study "big grid" {
  data "${ORCL}"
  cash 100000
  commission 0.1%
  sizing percent 95
  strategy sma_cross
  objective maximize sharpe
  stage "grid" {
    search grid
    param fast in 3 .. 40 step 1
    param slow in 20 .. 200 step 4
    where fast < slow
  }
  seed 3
}
`;

/** A module strategy with a relative import: only a bundle can travel to another machine. */
const MODULE_MAIN = `
const { crossSignal } = require('./lib/signal.js');
module.exports = {
  name: 'my_cross',
  params: [
    { name: 'fast', type: 'int', default: 10, doc: 'fast SMA' },
    { name: 'slow', type: 'int', default: 30, doc: 'slow SMA' },
  ],
  setup(ctx, p) {
    const cx = crossSignal(ctx, p.fast, p.slow);
    return (b) => {
      const x = cx[b.i];
      if (b.position === 0) { if (x > 0) b.buy(); } else if (x < 0) b.close('cross');
    };
  },
};
`;
const MODULE_LIB = `exports.crossSignal = (ctx, f, s) => ctx.crossover(ctx.sma(f), ctx.sma(s));\n`;
const MODULE_STUDY = `
study "module" {
  data "${ORCL}" from 2008-01-01 to 2014-12-31
  cash 100000
  commission 0.1%
  sizing percent 95
  strategy module "strategies/my-cross.js"
  objective maximize sharpe
  stage "grid" {
    param fast in 5 .. 20 step 3
    param slow in 25 .. 60 step 5
  }
  seed 1
}
`;

/** Each trial number appears exactly once among the events (and, for completed runs, in the journal). */
function assertOnce(events: RunEvent[], runDir: string | undefined, total: number): void {
  const numbers = events.filter((e): e is TrialEvent => e.type === 'trial').map((t) => t.number);
  assert.equal(new Set(numbers).size, numbers.length, 'no trial event twice');
  assert.equal(numbers.length, total);
  if (runDir) {
    const lines = readFileSync(path.join(runDir, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type?: string; number?: number });
    const jn = lines.filter((l) => l.type === 'trial').map((l) => l.number);
    assert.equal(new Set(jn).size, jn.length, 'no trial twice in the journal');
    assert.equal(jn.length, total, 'every trial in the journal');
  }
}

describe('studies on Redis workers equal local runs', { skip }, () => {
  let redis: TestRedis;
  const workers: TestWorker[] = [];
  let dir: string;
  let runCount = 0;
  /** Local reference runs, once per study file. */
  const localRuns = new Map<string, { local: ReturnType<typeof collector>; lend: Awaited<ReturnType<typeof runStudy>> }>();

  /** The deployment's shared secret: coordinators (this process and the CLIs it starts, through the environment) and workers hold it. */
  const secretBefore = process.env.OPTSTUDY_SECRET_FILE;
  const SIGNED = ['--allow', 'builtin,module,command'];

  before(async () => {
    redis = await startRedis();
    dir = tempStudy({ 'staged.optstudy': TWO_STAGES, 'big.optstudy': BIG_GRID, 'module.optstudy': MODULE_STUDY });
    writeFileSync(path.join(dir, 'secret'), randomBytes(24).toString('hex'), { mode: 0o600 });
    process.env.OPTSTUDY_SECRET_FILE = path.join(dir, 'secret');
    workers.push(await startWorker(redis.url, { extraArgs: SIGNED }), await startWorker(redis.url, { extraArgs: SIGNED }));
    mkdirSync(path.join(dir, 'strategies', 'lib'), { recursive: true });
    writeFileSync(path.join(dir, 'strategies', 'my-cross.js'), MODULE_MAIN);
    writeFileSync(path.join(dir, 'strategies', 'lib', 'signal.js'), MODULE_LIB);
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await redis?.close();
    if (secretBefore === undefined) delete process.env.OPTSTUDY_SECRET_FILE;
    else process.env.OPTSTUDY_SECRET_FILE = secretBefore;
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Runs a study locally and on Redis; returns both. `during` acts while the Redis run goes;
   * `onEvent` sees each of the Redis run's events as it is emitted (on the coordinator's thread);
   * `executor` adds to the distributed executor's options.
   */
  async function both(
    file: string,
    o: { during?: (ex: DistributedExecutor, events: RunEvent[]) => Promise<void>; onEvent?: (e: RunEvent) => void; executor?: Partial<DistributedOptions> } = {},
  ) {
    const { during } = o;
    let ref = localRuns.get(file);
    if (!ref) {
      const c = collector();
      const e = await runStudy({ file, workers: 2, out: path.join(dir, `${path.basename(file)}-local`), createExecutor: chooseExecutor }, c.onEvent, new AbortController().signal);
      assert.equal(e.status, 'finished', e.error);
      ref = { local: c, lend: e };
      localRuns.set(file, ref);
    }
    const { local, lend } = ref;
    const remote = collector();
    let ex: DistributedExecutor | null = null;
    const logs: string[] = [];
    const options: RunOptions = {
      file,
      workers: 2,
      out: path.join(dir, `${path.basename(file)}-redis-${++runCount}`),
      createExecutor: async (payload, settings) => {
        ex = await createDistributedExecutor(payload, settings, { url: redis.url, reconcileMs: 300, onLog: (_l, m) => logs.push(m), ...o.executor });
        return ex;
      },
    };
    const onEvent = (e: RunEvent) => {
      remote.onEvent(e);
      o.onEvent?.(e);
    };
    const running = runStudy(options, onEvent, new AbortController().signal);
    if (during) {
      for (let i = 0; i < 2000 && !ex; i++) await new Promise((r) => setTimeout(r, 5));
      assert.ok(ex, 'the executor was created');
      await during(ex, remote.events);
    }
    const rend = await running;
    assert.equal(rend.status, 'finished', rend.error);
    assert.deepEqual(remote.trials().map(essence), local.trials().map(essence), 'same trials, params, scores and states');
    assert.deepEqual(rend.best, lend.best);
    assertOnce(remote.events, rend.runDir, local.trials().length);
    return { local, remote, lend, rend, ex: ex as DistributedExecutor | null, logs };
  }

  it('two workers: a staged study (grid then TPE) gives exactly the local trials and best', async () => {
    const { ex } = await both(path.join(dir, 'staged.optstudy'));
    assert.ok(ex);
    assert.equal(Object.keys(ex.stats.byWorker).length, 2, `both workers ran jobs: ${JSON.stringify(ex.stats.byWorker)}`);
  });

  it('a worker SIGKILLed mid-run: the run completes with every trial exactly once', async () => {
    const victim = await startWorker(redis.url, { concurrency: 1, extraArgs: SIGNED });
    const queue = new Queue(DEFAULT_QUEUE, { connection: { host: '127.0.0.1', port: redis.port } });
    try {
      const { ex } = await both(path.join(dir, 'big.optstudy'), {
        during: async (ex) => {
        let held = false;
        for (let i = 0; i < 3000 && !held; i++) {
          held = (await queue.getActive()).some((j) => j.processedBy === victim.id && j.data.runId === ex.runId);
          if (!held) await new Promise((r) => setTimeout(r, 5));
        }
        assert.ok(held, 'the victim took a batch');
        victim.kill('SIGKILL');
        },
      });
      assert.equal(await victim.exited, 'SIGKILL');
      assert.ok(ex && ex.stats.redelivered >= 1, `the victim's batch was re-delivered: ${JSON.stringify(ex?.stats)}`);
    } finally {
      await queue.close();
      await victim.stop();
    }
  });

  it('Redis restarted mid-run (its keys lost): everyone reconnects and nothing is lost', async () => {
    // Deterministic by construction, however fast the machine: small jobs (8 trials: ~200 of
    // them) on two workers of one thread each, which hold at most two jobs apiece, so when the
    // first trial comes back nearly every job still waits in Redis. Redis is stopped right
    // then, from the coordinator's own event (no sleep, no polling), so those jobs are lost
    // with it: the run can only end if the coordinator reconnects and sends them again, and the
    // workers reconnect and run them. Own workers on their own queue, to see them exit after.
    const queue = 'restart-trials';
    const own = [await startWorker(redis.url, { queue, extraArgs: SIGNED }), await startWorker(redis.url, { queue, extraArgs: SIGNED })];
    try {
      let seen = 0;
      let doneAtRestart = 0;
      let restarted: Promise<void> | null = null;
      const total = () => localRuns.get(path.join(dir, 'big.optstudy'))!.local.trials().length;
      const { ex, logs } = await both(path.join(dir, 'big.optstudy'), {
        executor: { queue, maxChunk: 8 },
        onEvent: (e) => {
          if (e.type !== 'trial') return;
          seen++;
          if (restarted) return;
          doneAtRestart = seen;
          // redis.restart sends SIGTERM synchronously: Redis goes before this event returns.
          restarted = redis.restart(300);
        },
      });
      assert.ok(restarted, 'Redis was restarted');
      await restarted;
      assert.ok(doneAtRestart > 0 && doneAtRestart < total(), `Redis went away mid-run (${doneAtRestart} trials done then)`);
      assert.ok(ex && ex.stats.readded >= 1, `the coordinator re-sent the jobs Redis lost: ${JSON.stringify(ex?.stats)}`);
      assert.ok(logs.some((m) => m.includes('lost the connection to Redis')), `the coordinator reported the loss: ${logs.join(' | ')}`);
      assert.ok(logs.some((m) => m.includes('reconnected to Redis')), `the coordinator reported the reconnection: ${logs.join(' | ')}`);
      for (const w of own) assert.match(w.log(), /reconnected to Redis/);
      // They exit cleanly, and between them ran every trial (no other worker serves their queue:
      // the re-sent jobs ran on the reconnected workers).
      let ran = 0;
      for (const w of own) {
        assert.equal(await w.stop(), 0, w.log());
        ran += Number(/stopped after \d+ batches, (\d+) trials/.exec(w.log())?.[1] ?? 0);
      }
      assert.ok(ran >= total(), `the workers ran ${ran} trials of ${total()}`);
    } finally {
      await Promise.all(own.map((w) => w.stop()));
    }
  });

  it('a module strategy with a relative import is bundled, shipped by hash, and gives the local results', async () => {
    const { local } = await both(path.join(dir, 'module.optstudy'));
    assert.ok(local.trials().some((t) => t.state === 'complete'), 'the module ran');
  });

  it('an external command strategy (the Python sample) runs on the workers with the local results', { skip: spawnSync('python3', ['--version']).status === 0 ? false : 'python3 is not installed' }, async () => {
    // The sample's folder is at the same path for the workers (one machine): the command runs there.
    const { local } = await both(path.join(repoRoot(), 'samples', 'python-strategy.optstudy'));
    assert.ok(local.trials().some((t) => t.state === 'complete'), 'the Python strategy ran');
  });

  it('a worker whose operator allows built-ins only refuses a signed module strategy: its trials fail with the reason, the run finishes', async () => {
    // On a queue of its own, so the other workers cannot take these jobs.
    const strict = await startWorker(redis.url, { queue: 'strict-trials', extraArgs: ['--allow', 'builtin'] });
    try {
      const c = collector();
      const end = await runStudy(
        {
          file: path.join(dir, 'module.optstudy'),
          out: path.join(dir, `strict-${++runCount}`),
          createExecutor: (payload, settings) => createDistributedExecutor(payload, settings, { url: redis.url, queue: 'strict-trials', reconcileMs: 300 }),
        },
        c.onEvent,
        new AbortController().signal,
      );
      assert.equal(end.status, 'finished', end.error);
      const t = c.trials();
      assert.ok(t.length > 0);
      for (const x of t) {
        assert.equal(x.state, 'failed');
        assert.match(x.error ?? '', /^distributed worker: refused: this worker does not run module strategies \(its operator allows: builtin; --allow builtin,module would\)/);
      }
      assertOnce(c.events, end.runDir, t.length);
    } finally {
      await strict.stop();
    }
  });

  it('optstudy run FILE --redis URL streams the same events as a local run', async () => {
    const file = path.join(dir, 'staged.optstudy');
    const cli = (args: string[]) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const p = spawn(process.execPath, [CLI, 'run', file, '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        p.stdout.on('data', (d) => (out += String(d)));
        p.stderr.on('data', (d) => (err += String(d)));
        p.on('exit', (code) => resolve({ code, out, err }));
      });
    const parse = (out: string) => out.trim().split('\n').map((l) => JSON.parse(l) as RunEvent);
    const local = await cli(['--out', path.join(dir, 'cli-local')]);
    assert.equal(local.code, 0, local.err);
    const remote = await cli(['--out', path.join(dir, 'cli-redis'), '--redis', redis.url]);
    assert.equal(remote.code, 0, remote.err);
    const trials = (evs: RunEvent[]) => (evs.filter((e) => e.type === 'trial') as TrialEvent[]).sort((a, b) => a.number - b.number).map(essence);
    const le = parse(local.out);
    const re = parse(remote.out);
    assert.deepEqual(trials(re), trials(le));
    const lend = le.at(-1)!;
    const rend = re.at(-1)!;
    assert.ok(lend.type === 'end' && rend.type === 'end');
    assert.deepEqual(rend.best, lend.best);
    assertOnce(re, path.join(dir, 'cli-redis'), trials(le).length);
  });

  it("a study's own 'executor redis' sends its trials to the workers", async () => {
    const file = path.join(dir, 'executor.optstudy');
    writeFileSync(file, TWO_STAGES.replace('seed 7', `seed 7\n  executor redis "${redis.url}"`));
    const c = collector();
    const end = await runStudy({ file, out: path.join(dir, 'executor-run'), createExecutor: chooseExecutor }, c.onEvent, new AbortController().signal);
    assert.equal(end.status, 'finished', end.error);
    const logs = c.events.filter((e) => e.type === 'log').map((e) => (e.type === 'log' ? e.message : ''));
    assert.ok(logs.some((m) => /distributed run \S+: \d+ worker process/.test(m)), `ran on the Redis workers: ${logs.join(' | ')}`);
    const ref = localRuns.get(path.join(dir, 'staged.optstudy'));
    if (ref) assert.deepEqual(c.trials().map(essence), ref.local.trials().map(essence));
    assertOnce(c.events, end.runDir, 16 + 40);
  });

  it('cancel mid-run: the run ends cancelled and none of its jobs is left in the queue', async () => {
    const queue = new Queue(DEFAULT_QUEUE, { connection: { host: '127.0.0.1', port: redis.port } });
    const ac = new AbortController();
    let runId = '';
    const c = collector();
    try {
      const end = await runStudy(
        {
          file: path.join(dir, 'big.optstudy'),
          out: path.join(dir, `cancel-${++runCount}`),
          createExecutor: async (payload, settings) => {
            const ex = await createDistributedExecutor(payload, settings, { url: redis.url, reconcileMs: 300 });
            runId = ex.runId;
            return ex;
          },
        },
        (e) => {
          c.onEvent(e);
          if (e.type === 'trial' && c.trials().length === 50) ac.abort();
        },
        ac.signal,
      );
      assert.equal(end.status, 'cancelled');
      const start = c.events.find((e) => e.type === 'start');
      assert.ok(start && start.type === 'start');
      assert.ok(c.trials().length >= 50 && c.trials().length < start.total, `stopped early: ${c.trials().length} of ${start.total}`);
      const left = [...(await queue.getWaiting()), ...(await queue.getDelayed())].filter((j) => j.data.runId === runId);
      assert.equal(left.length, 0, 'no waiting job of the cancelled run');
      assertOnce(c.events, undefined, c.trials().length);
    } finally {
      await queue.close();
    }
  });

  it('an unreachable Redis fails the run with the URL and what to do', async () => {
    const { freePort } = await import('../support/redis-server');
    const url = `redis://127.0.0.1:${await freePort()}`;
    const p = spawn(process.execPath, [CLI, 'run', path.join(dir, 'staged.optstudy'), '--json', '--out', path.join(dir, 'cli-bad'), '--redis', url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += String(d)));
    const code = await new Promise<number | null>((r) => p.on('exit', r));
    assert.equal(code, 1);
    const end = out.trim().split('\n').map((l) => JSON.parse(l) as RunEvent).at(-1)!;
    assert.ok(end.type === 'end' && end.status === 'failed');
    assert.match(end.error ?? '', new RegExp(`cannot reach Redis at ${url.replace(/[.]/g, '\\.')}.*ECONNREFUSED.*Start a Redis server`));
  });
});
