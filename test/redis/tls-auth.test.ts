/**
 * Redis with a password and TLS only (`rediss://`, client certificates required), for real: a
 * redis-server serving TLS with the test CA's certificates (test/fixtures/redis-tls), a real
 * `optstudy worker` and `optstudy run --redis rediss://…` running a study to its end with the
 * local run's results; and every way the connection can be wrong fails at once, exit 1, saying
 * what to do and never printing the password.
 */
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunEvent, TrialEvent } from '../../protocol/run-events';
import { REDIS_MISSING, redisServerAvailable, startRedis, type TestRedis } from '../support/redis-server';
import { CLI, ROOT, startWorker, type TestWorker } from '../support/redis-workers';
import { essence, sampleData, tempStudy } from '../support/run-fixtures';

const skip = redisServerAvailable() ? false : REDIS_MISSING;
const CERTS = path.join(ROOT, 'test', 'fixtures', 'redis-tls');
const cert = (name: string) => path.join(CERTS, name);
const PASSWORD = 'pw with spaces & symbols/:@';
const TLS_ENV = { OPTSTUDY_REDIS_CA: cert('ca.crt'), OPTSTUDY_REDIS_CERT: cert('client.crt'), OPTSTUDY_REDIS_KEY: cert('client.key') };

const STUDY = `
study "tls" {
  data "${sampleData('orcl-2014.txt')}"
  cash 100000
  commission 0.1%
  sizing percent 95
  strategy sma_cross
  objective maximize sharpe
  stage "grid" {
    param fast in 3 .. 20 step 1
    param slow in 22 .. 60 step 2
  }
  seed 1
}
`;

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += String(d)));
    p.stderr.on('data', (d) => (err += String(d)));
    p.on('exit', (code) => resolve({ code, out, err }));
  });
}

const trials = (out: string) =>
  out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as RunEvent)
    .filter((e): e is TrialEvent => e.type === 'trial')
    .sort((a, b) => a.number - b.number)
    .map(essence);

describe('Redis AUTH and TLS (rediss://) with real processes', { skip }, () => {
  let redis: TestRedis;
  let dir: string;
  let worker: TestWorker;

  before(async () => {
    redis = await startRedis({ password: PASSWORD, tls: { cert: cert('server.crt'), key: cert('server.key'), ca: cert('ca.crt') } });
    dir = tempStudy({ 'tls.optstudy': STUDY });
    // The password from the environment, the TLS files as flags.
    const noPassword = redis.url.replace(/\/\/:[^@]*@/, '//');
    worker = await startWorker(noPassword, {
      extraArgs: ['--redis-ca', cert('ca.crt'), '--redis-cert', cert('client.crt'), '--redis-key', cert('client.key')],
      env: { OPTSTUDY_REDIS_PASSWORD: PASSWORD },
    });
  });
  after(async () => {
    await worker?.stop();
    await redis?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a study runs through a TLS-only Redis with a password: same trials as a local run, exit 0', async () => {
    assert.match(redis.url, /^rediss:\/\//);
    const file = path.join(dir, 'tls.optstudy');
    const local = await cli(['run', file, '--json', '--out', path.join(dir, 'local')]);
    assert.equal(local.code, 0, local.err);
    const remote = await cli(['run', file, '--json', '--out', path.join(dir, 'remote'), '--redis', redis.url], TLS_ENV);
    assert.equal(remote.code, 0, remote.err);
    assert.deepEqual(trials(remote.out), trials(local.out));
    assert.ok(trials(remote.out).length > 0);
    assert.match(remote.out, /distributed run \S+: 1 worker process/);
    assert.ok(!remote.out.includes(PASSWORD) && !remote.err.includes(PASSWORD) && !worker.log().includes(PASSWORD), 'the password is never printed');
  });

  it('each wrong connection fails at once with what to do, exit 1, the password unprinted', async () => {
    const plain = redis.url.replace('rediss://', 'redis://');
    const cases: { name: string; url: string; args?: string[]; env?: NodeJS.ProcessEnv; want: RegExp }[] = [
      { name: 'no CA', url: redis.url, args: ['--redis-cert', cert('client.crt'), '--redis-key', cert('client.key')], want: /TLS certificate is not trusted here: give the CA that signed it with --redis-ca FILE/ },
      { name: 'another CA', url: redis.url, args: ['--redis-ca', cert('other-ca.crt'), '--redis-cert', cert('client.crt'), '--redis-key', cert('client.key')], want: /TLS certificate is not trusted here/ },
      { name: 'wrong password', url: redis.url.replace(encodeURIComponent(PASSWORD), 'wrong'), env: TLS_ENV, want: /refused the credentials/ },
      { name: 'no password', url: redis.url.replace(/\/\/:[^@]*@/, '//'), env: TLS_ENV, want: /refused the credentials/ },
      { name: 'redis:// to a TLS port', url: plain, want: /cannot (reach|talk to) Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ .*(rediss:\/\/|closed the connection)/ },
      { name: 'TLS files with redis://', url: plain, args: ['--redis-ca', cert('ca.crt')], want: /TLS files were given but .* is not a TLS URL: write it as rediss:\/\/HOST:PORT/ },
      { name: 'no client certificate', url: redis.url, args: ['--redis-ca', cert('ca.crt')], want: /(wants a client certificate it trusts|if it wants a client certificate), give one with --redis-cert FILE --redis-key FILE/ },
    ];
    for (const c of cases) {
      const r = spawnSync(process.execPath, [CLI, 'worker', '--redis', c.url, ...(c.args ?? [])], {
        encoding: 'utf8',
        timeout: 30_000,
        env: { PATH: process.env.PATH, ...c.env },
      });
      assert.equal(r.status, 1, `${c.name}: ${r.stderr}`);
      assert.match(r.stderr, c.want, c.name);
      assert.ok(!r.stderr.includes(PASSWORD) && !r.stderr.includes(encodeURIComponent(PASSWORD)), `${c.name}: the password is not printed`);
    }
  });
});
