/**
 * #21 finding 1: whoever can write to the Redis must not run code on, or read files of, a
 * worker. An attacker with the Redis (and no shared secret) adds jobs by hand — in the old job
 * layout and in the current one, unsigned or signed with a wrong key — asking a real
 * `optstudy worker` to run a shell command, to `require` a local `.js` file, and to load a
 * private file of the worker as price data. Each job must fail with a refusal that names the
 * rule, no marker file may appear, and the private file's text must appear nowhere: not in the
 * job's failure reason, not in any key of the Redis.
 */
import { strict as assert } from 'node:assert';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { REDIS_MISSING, redisServerAvailable, startRedis, type TestRedis } from '../support/redis-server';
import { ROOT, startWorker, type TestWorker } from '../support/redis-workers';
import { outcomesOf } from '../../server/executor/outcome-block';

const skip = redisServerAvailable() ? false : REDIS_MISSING;
const DATA = path.join(ROOT, 'samples', 'data', 'orcl-2014.txt');
const CONFIG = { cash: 100_000, commission: 0.001, sizing: { kind: 'percent', value: 95 } };

type Strategy = { kind: 'builtin'; name: string } | { kind: 'module'; file: string } | { kind: 'command'; command: string; cwd: string };

/** What an attacker puts in a job: the task they want run, the files they claim, the trials. */
interface Attack {
  strategy: Strategy;
  data: string;
  files?: { sha256: string; path: string; size: number }[];
}

let seq = 0;

/** Why a worker without a secret refuses each attack (in whichever layout it came). */
const UNSIGNED_RULES = {
  command: /^refused: (this worker runs built-in strategies only|job layout version 1|signed job, but this worker has no shared secret)/,
  module: /^refused: (this worker runs built-in strategies only|job layout version 1|signed job, but this worker has no shared secret)/,
  data: /^refused: (the task's data\.file is not one of the job's files|job layout version 1|signed job, but this worker has no shared secret)/,
};

/** The job in every layout a worker ever understood: version 1 (plain) and version 2 (a body, signed or not). */
function layouts(a: Attack): { name: string; data: Record<string, unknown> }[] {
  const runId = `evil${randomBytes(3).toString('hex')}`;
  const payload = { task: { data: { file: a.data }, strategy: a.strategy, config: CONFIG }, settings: { retries: 0 } };
  const trials = [{ number: 0, params: { fast: 5, slow: 20 } }];
  const files = a.files ?? [];
  const v1 = { v: 1, runId, seq: seq++, payload, files, trials };
  const body = (s: number) => JSON.stringify({ v: 2, runId, seq: s, jobId: `${runId}-b${s}`, issuedAt: Date.now(), payload, files, trials });
  const s2 = seq++;
  const s3 = seq++;
  const b3 = body(s3);
  return [
    { name: 'v1', data: v1 },
    { name: 'v2 unsigned', data: { v: 2, runId, seq: s2, body: body(s2), sig: null } },
    { name: 'v2 signed with a wrong key', data: { v: 2, runId, seq: s3, body: b3, sig: createHmac('sha256', 'not-the-secret').update(b3).digest('hex') } },
  ];
}

describe('a worker runs only what its operator allows (jobs added by hand to the Redis)', { skip }, () => {
  let redis: TestRedis;
  let dir: string;
  let admin: IORedis;
  const SECRET_TEXT = `TOPSECRET-${randomBytes(6).toString('hex')}`;
  let privateFile: string;

  before(async () => {
    redis = await startRedis();
    admin = new IORedis(redis.url);
    dir = mkdtempSync(path.join(os.tmpdir(), 'optstudy-attack-'));
    privateFile = path.join(dir, 'private.txt');
    // Shaped like a price file's first line, so a loader that read it would quote it.
    writeFileSync(privateFile, `${SECRET_TEXT},1,2,3\nroot:x:0:0:root:/root:/bin/bash\n`);
  });
  after(async () => {
    admin?.disconnect();
    await redis?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Adds each layout of an attack to `queue`, waits for each job to settle; returns state and reason. */
  async function attack(queueName: string, a: Attack): Promise<{ name: string; state: string; reason: string }[]> {
    const queue = new Queue(queueName, { connection: { host: '127.0.0.1', port: redis.port } });
    try {
      const out: { name: string; state: string; reason: string }[] = [];
      for (const l of layouts(a)) {
        const job = await queue.add('batch', l.data, { jobId: `${String(l.data.runId)}-b${String(l.data.seq)}`, attempts: 1 });
        let state = await job.getState();
        for (let i = 0; i < 2000 && state !== 'completed' && state !== 'failed'; i++) {
          await new Promise((r) => setTimeout(r, 10));
          state = await queue.getJobState(job.id!);
        }
        const done = await queue.getJob(job.id!);
        out.push({ name: l.name, state, reason: done?.failedReason ?? '' });
      }
      return out;
    } finally {
      await queue.close();
    }
  }

  /** Every value in the Redis, as text (strings, lists, hashes, sets, streams). */
  async function everything(): Promise<string> {
    const parts: string[] = [];
    for (const key of await admin.keys('*')) {
      const type = await admin.type(key);
      if (type === 'string') parts.push((await admin.getBuffer(key))!.toString('latin1'));
      else if (type === 'list') parts.push((await admin.lrangeBuffer(key, 0, -1)).map((b) => b.toString('latin1')).join('\n'));
      else if (type === 'hash') parts.push(JSON.stringify(await admin.hgetall(key)));
      else if (type === 'set') parts.push((await admin.smembers(key)).join('\n'));
      else if (type === 'zset') parts.push((await admin.zrange(key, 0, -1)).join('\n'));
      else if (type === 'stream') parts.push(JSON.stringify(await admin.xrange(key, '-', '+')));
    }
    return parts.join('\n');
  }

  /** Runs every attack against one worker (on a queue of its own); checks nothing got through. */
  async function assertRefusesAll(worker: TestWorker, queueName: string, refused: { command: RegExp; module: RegExp; data: RegExp }): Promise<void> {
    const marker = path.join(dir, `pwned-${queueName}`);
    const required = path.join(dir, `required-${queueName}`);
    const evilModule = path.join(dir, `evil-${queueName}.js`);
    writeFileSync(evilModule, `require('fs').writeFileSync(${JSON.stringify(required)}, 'ran');\nmodule.exports = { name: 'evil', params: [], setup: () => () => {} };\n`);
    const results = {
      command: await attack(queueName, { strategy: { kind: 'command', command: `id > ${marker}`, cwd: dir }, data: DATA }),
      module: await attack(queueName, { strategy: { kind: 'module', file: evilModule }, data: DATA }),
      data: await attack(queueName, { strategy: { kind: 'builtin', name: 'sma_cross' }, data: privateFile }),
      // The same file claimed as a content-store file: its hash is known to the attacker (they chose the text).
      dataAsBlob: await attack(queueName, {
        strategy: { kind: 'builtin', name: 'sma_cross' },
        data: privateFile,
        files: [{ sha256: createHmac('sha256', '').update('').digest('hex').replace(/./g, 'a'), path: privateFile, size: 10 }],
      }),
    };
    assert.ok(!existsSync(marker), `the shell command ran: ${JSON.stringify(results.command)}`);
    assert.ok(!existsSync(required), `the local module was required: ${JSON.stringify(results.module)}`);
    for (const [what, rs] of Object.entries(results)) {
      for (const r of rs) {
        assert.equal(r.state, 'failed', `${what} (${r.name}) was not refused: ${JSON.stringify(r)}`);
        // Claimed as a content-store file, it passes the job checks but is only ever looked up by hash.
        const rule = what === 'dataAsBlob' ? new RegExp(`${refused.data.source}|^file private\\.txt \\(sha256 a+…\\) is not in this worker's cache and not in Redis`) : refused[what as 'command' | 'module' | 'data'];
        assert.match(r.reason, rule, `${what} (${r.name}) failed for another reason`);
        assert.doesNotMatch(r.reason, new RegExp(`${SECRET_TEXT}|root:x`), `${what} (${r.name}) leaked the private file`);
      }
    }
    assert.doesNotMatch(await everything(), new RegExp(SECRET_TEXT), 'the private file reached the Redis');
    assert.doesNotMatch(worker.log(), new RegExp(SECRET_TEXT), 'the private file reached the worker log (shipped to whoever reads it)');
  }

  it('a plain worker: no command, no local module, no file outside the content store', async () => {
    const w = await startWorker(redis.url, { queue: 'plain' });
    try {
      await assertRefusesAll(w, 'plain', UNSIGNED_RULES);
    } finally {
      await w.stop();
    }
  });

  it('a --builtin-only worker: the same, and its data path cannot reach the worker files either', async () => {
    const w = await startWorker(redis.url, { queue: 'builtin', extraArgs: ['--builtin-only'] });
    try {
      await assertRefusesAll(w, 'builtin', UNSIGNED_RULES);
    } finally {
      await w.stop();
    }
  });
});

describe('signed jobs: code only from a coordinator holding the shared secret', { skip }, () => {
  let redis: TestRedis;
  let dir: string;
  let secretFile: string;
  let worker: TestWorker;
  const QUEUE = 'signed';
  const SECRET = randomBytes(24).toString('hex');
  const trials = [5, 8, 13].map((fast, number) => ({ number, params: { fast, slow: 30 } }));
  const payload = (strategy: Strategy = { kind: 'builtin', name: 'sma_cross' }) =>
    ({ data: { file: DATA }, strategy, config: CONFIG }) as unknown as import('../../server/executor/executor').TaskPayload;

  before(async () => {
    redis = await startRedis();
    dir = mkdtempSync(path.join(os.tmpdir(), 'optstudy-signed-'));
    secretFile = path.join(dir, 'secret');
    writeFileSync(secretFile, SECRET + '\n', { mode: 0o600 });
    worker = await startWorker(redis.url, { queue: QUEUE, extraArgs: ['--secret-file', secretFile, '--allow', 'builtin,module,command'] });
  });
  after(async () => {
    await worker?.stop();
    await redis?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const executor = async (p = payload(), secret: Buffer | null = Buffer.from(SECRET)) => {
    const { createDistributedExecutor } = await import('../../server/distributed/distributed-executor');
    return createDistributedExecutor(p, { workers: 1, retries: 0 }, { url: redis.url, queue: QUEUE, secret, reconcileMs: 200 });
  };
  const queue = () => new Queue(QUEUE, { connection: { host: '127.0.0.1', port: redis.port } });
  const settle = async (q: Queue, id: string) => {
    let state = await q.getJobState(id);
    for (let i = 0; i < 2000 && state !== 'completed' && state !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 10));
      state = await q.getJobState(id);
    }
    return { state, reason: (await q.getJob(id))?.failedReason ?? '' };
  };

  it("a module strategy from the secret's holder runs; the same worker refuses every hand-made job", async () => {
    const mod = path.join(dir, 'cross.js');
    writeFileSync(mod, `module.exports = { name: 'cross', params: [{ name: 'fast', type: 'int', default: 5 }, { name: 'slow', type: 'int', default: 30 }],
      setup(ctx, p) { const x = ctx.crossover(ctx.sma(p.fast), ctx.sma(p.slow)); return (b) => { if (b.position === 0) { if (x[b.i] > 0) b.buy(); } else if (x[b.i] < 0) b.close('x'); }; } };\n`);
    const ex = await executor(payload({ kind: 'module', file: mod }));
    try {
      const out = outcomesOf(await ex.run(trials, new AbortController().signal));
      assert.deepEqual(out.map((o) => [o.number, o.error]), trials.map((t) => [t.number, undefined]));
      assert.ok(out.every((o) => typeof o.metrics?.final_value === 'number'));
    } finally {
      await ex.close();
    }
    const q = queue();
    try {
      const marker = path.join(dir, 'pwned');
      for (const l of layouts({ strategy: { kind: 'command', command: `id > ${marker}`, cwd: dir }, data: DATA })) {
        const job = await q.add('batch', l.data, { jobId: `${String(l.data.runId)}-b${String(l.data.seq)}`, attempts: 1 });
        const r = await settle(q, job.id!);
        assert.equal(r.state, 'failed', l.name);
        assert.match(r.reason, /^refused: (job layout version 1|unsigned job|bad signature)/, l.name);
      }
      assert.ok(!existsSync(marker), 'the command never ran');
    } finally {
      await q.close();
    }
  });

  it('a signed job altered, or moved to another job id, is refused; the coordinator fails those trials with the reason', async () => {
    const q = queue();
    await q.pause();
    const ex = await executor();
    try {
      const running = ex.run(trials, new AbortController().signal);
      let waiting: Awaited<ReturnType<Queue['getWaiting']>> = [];
      for (let i = 0; i < 500 && waiting.length === 0; i++) {
        waiting = (await q.getWaiting()).filter((j) => j.data.runId === ex.runId);
        if (!waiting.length) await new Promise((r) => setTimeout(r, 10));
      }
      const job = waiting[0]!;
      const data = job.data as { body: string; sig: string; runId: string; seq: number };
      // The attacker swaps the trials' parameters and keeps the signature.
      const altered = { ...data, body: data.body.replace('"fast":5', '"fast":6') };
      assert.notEqual(altered.body, data.body);
      await job.remove();
      await q.add('batch', altered, { jobId: job.id!, attempts: 1 });
      // And puts the untouched body under another batch's id.
      const movedId = `${ex.runId}-b99`;
      await q.add('batch', { ...data, seq: 99 }, { jobId: movedId, attempts: 1 });
      await q.resume();
      const [a, b] = await Promise.all([settle(q, job.id!), settle(q, movedId)]);
      assert.equal(a.state, 'failed');
      assert.match(a.reason, /^refused: bad signature/);
      assert.equal(b.state, 'failed');
      assert.match(b.reason, /^refused: (bad signature|the job id does not match)/);
      const out = outcomesOf(await running);
      const inAltered = new Set((JSON.parse(altered.body) as { trials: { number: number }[] }).trials.map((t) => t.number));
      assert.ok(inAltered.size > 0);
      for (const o of out) {
        if (inAltered.has(o.number)) assert.match(o.error ?? '', /^distributed worker: refused: bad signature/);
        else assert.ok(o.error === undefined && o.metrics !== null, `trial ${o.number} of an untouched job ran`);
      }
    } finally {
      await q.resume();
      await q.close();
      await ex.close();
    }
  });

  it("a signed job replayed after its run ended is refused (the run's lease is gone); forged results never count", async () => {
    const ex = await executor();
    const admin = new IORedis(redis.url);
    const q = queue();
    let captured: { id: string; data: unknown } | null = null;
    try {
      // Results pushed by someone without the secret: unsigned, and signed with a wrong key.
      const { encodeResult, keys } = await import('../../server/distributed/protocol');
      const forged = (seq: number, sign: (b: Uint8Array) => Buffer) =>
        encodeResult({ runId: ex.runId, seq, outcomes: [], worker: 'mallory:1', attempt: 1, durationMs: 0 }, sign);
      for (let seq = 0; seq < 3; seq++) {
        await admin.rpush(keys.results('optstudy', ex.runId), forged(seq, () => Buffer.alloc(32)), forged(seq, () => createHmac('sha256', 'x').update('y').digest()));
      }
      for (let seq = 0; seq < 3; seq++) {
        const out = outcomesOf(await ex.run(trials, new AbortController().signal));
        assert.ok(out.length === trials.length && out.every((o) => o.error === undefined && o.metrics !== null), 'the real results, not the forged ones');
      }
      assert.equal(ex.stats.rejected, 6, JSON.stringify(ex.stats));
      const done = (await q.getCompleted()).find((j) => j.data.runId === ex.runId)!;
      captured = { id: done.id!, data: done.data };
    } finally {
      await ex.close();
      admin.disconnect();
    }
    try {
      const replay = await q.getJob(captured.id);
      await replay?.remove();
      await q.add('batch', captured.data, { jobId: captured.id, attempts: 1 });
      const r = await settle(q, captured.id);
      assert.equal(r.state, 'failed');
      assert.match(r.reason, /^refused: run \S+ has no valid lease/);
    } finally {
      await q.close();
    }
  });

  it('a coordinator without the secret cannot send a module; a worker without it refuses signed jobs', async () => {
    await assert.rejects(executor(payload({ kind: 'module', file: path.join(dir, 'cross.js') }), null), /a module strategy runs on workers only with a shared secret.*--secret-file/);
    const plain = await startWorker(redis.url, { queue: 'nosecret' });
    const { createDistributedExecutor } = await import('../../server/distributed/distributed-executor');
    const logs: string[] = [];
    const ex = await createDistributedExecutor(payload(), { workers: 1, retries: 0 }, { url: redis.url, queue: 'nosecret', secret: Buffer.from(SECRET), reconcileMs: 200, onLog: (_l, m) => logs.push(m) });
    try {
      assert.ok(logs.some((m) => /1 of the 1 workers will refuse this run's jobs .*has no shared secret/.test(m)), logs.join(' | '));
      const out = outcomesOf(await ex.run(trials, new AbortController().signal));
      assert.ok(out.length === trials.length && out.every((o) => /refused: signed job, but this worker has no shared secret/.test(o.error ?? '')), JSON.stringify(out));
    } finally {
      await ex.close();
      await plain.stop();
    }
  });

  it('a worker refuses to start with code allowed but no secret, or with a short secret', async () => {
    const { spawnSync } = await import('node:child_process');
    const { CLI } = await import('../support/redis-workers');
    const run = (args: string[], env: NodeJS.ProcessEnv = {}) => spawnSync(process.execPath, [CLI, 'worker', '--redis', redis.url, ...args], { encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH, ...env } });
    const noSecret = run(['--allow', 'builtin,module']);
    assert.equal(noSecret.status, 2);
    assert.match(noSecret.stderr, /--allow builtin,module needs the shared secret \(--secret-file FILE\)/);
    const short = run(['--allow', 'module'], { OPTSTUDY_SECRET: 'short' });
    assert.equal(short.status, 2);
    assert.match(short.stderr, /OPTSTUDY_SECRET: the secret is 5 characters; use at least 16/);
  });
});

describe("an untrusted workspace and a study's executor redis URL (#21 finding 10)", () => {
  it('runs locally, says so, and never opens a connection to that URL', async () => {
    const net = await import('node:net');
    const { runStudy } = await import('../../server/run/run-study');
    const { collector, tempStudy } = await import('../support/run-fixtures');
    // A listener where the study's Redis would be: any connection to it is recorded.
    let contacts = 0;
    const server = net.createServer((s) => {
      contacts++;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as import('node:net').AddressInfo).port;
    const dir = tempStudy({
      's.optstudy': `study "s" {\n  data "${DATA}"\n  strategy sma_cross\n  objective maximize sharpe\n  stage "g" {\n    param fast in 5 .. 8 step 1\n    param slow in 20 .. 30 step 5\n  }\n  executor redis "redis://127.0.0.1:${port}"\n  seed 1\n}\n`,
    });
    try {
      const c = collector();
      const end = await runStudy({ file: path.join(dir, 's.optstudy'), out: path.join(dir, 'run'), trusted: false, workers: 1 }, c.onEvent, new AbortController().signal);
      assert.equal(end.status, 'finished', end.error);
      assert.equal(end.trials, 12);
      assert.equal(contacts, 0, 'the study URL was contacted');
      const logs = c.events.filter((e) => e.type === 'log').map((e) => (e.type === 'log' ? e.message : ''));
      assert.ok(logs.some((m) => /executor redis' is ignored: this workspace is not trusted/.test(m)), logs.join(' | '));
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
