/**
 * Files by content hash on a real redis-server: a worker uses the coordinator's path only when
 * it lies under the worker's data root and the bytes there hash the same, otherwise fetches
 * once into its cache; plus the URL checks.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import IORedis from 'ioredis';
import { BlobCache, BlobMissingError, describeFile, publishBlob, safeName, sha256 } from '../../server/distributed/content-store';
import { parseRedisUrl, reconnectDelay, RedisConnectionError, redactUrl } from '../../server/distributed/redis-connection';
import { REDIS_MISSING, redisServerAvailable, startRedis, type TestRedis } from '../support/redis-server';

const skip = redisServerAvailable() ? false : REDIS_MISSING;

describe('content-addressed files on a real Redis', { skip }, () => {
  let redis: TestRedis;
  let conn: IORedis;
  let dir: string;
  before(async () => {
    redis = await startRedis();
    conn = new IORedis(redis.url);
    dir = mkdtempSync(path.join(os.tmpdir(), 'optstudy-cs-'));
  });
  after(async () => {
    conn?.disconnect();
    await redis?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('same bytes at the same path under the data root: used in place, nothing fetched', async () => {
    const f = path.join(dir, 'prices.txt');
    writeFileSync(f, 'Date,Open\n2020-01-01,1\n');
    const { ref, bytes } = describeFile(f);
    await publishBlob(conn, 'optstudy', ref, bytes);
    const cache = new BlobCache(conn, 'optstudy', path.join(dir, 'cache-a'), dir);
    assert.equal(await cache.resolve(ref), f);
    assert.equal(cache.fetched, 0);
    assert.equal(cache.shared, 1);
  });

  it('without a data root, or outside it, or through a symlink leaving it: never read in place, fetched by hash', async () => {
    const root = path.join(dir, 'root');
    const outside = path.join(dir, 'outside');
    mkdirSync(root);
    mkdirSync(outside);
    const f = path.join(outside, 'prices.txt');
    writeFileSync(f, 'Date,Open\n2020-01-02,2\n');
    const link = path.join(root, 'link.txt');
    symlinkSync(f, link);
    const { ref, bytes } = describeFile(f);
    await publishBlob(conn, 'optstudy', ref, bytes);
    for (const [name, cache, claimed] of [
      ['no root', new BlobCache(conn, 'optstudy', path.join(dir, 'cache-r1')), f],
      ['outside the root', new BlobCache(conn, 'optstudy', path.join(dir, 'cache-r2'), root), f],
      ['a symlink out of the root', new BlobCache(conn, 'optstudy', path.join(dir, 'cache-r3'), root), link],
    ] as const) {
      const got = await cache.resolve({ ...ref, path: claimed });
      assert.notEqual(got, f, name);
      assert.notEqual(got, link, name);
      assert.equal(cache.shared, 0, name);
      assert.equal(cache.fetched, 1, name);
      assert.equal(readFileSync(got, 'utf8'), bytes.toString(), name);
    }
  });

  it('a blob whose size or bytes differ from the reference is refused, and a cache name never leaves its folder', async () => {
    const bytes = Buffer.from('Date,Open\n2020-01-03,3\n');
    const ref = { sha256: sha256(bytes), path: '/c/data/..', size: bytes.length };
    await conn.set(`optstudy:blob:${ref.sha256}`, Buffer.from('x'.repeat(bytes.length)));
    const cache = new BlobCache(conn, 'optstudy', path.join(dir, 'cache-s'));
    await assert.rejects(cache.resolve(ref), /does not match its hash/);
    await assert.rejects(cache.resolve({ ...ref, size: bytes.length + 1 }), /bytes, not the \d+ announced/);
    await conn.set(`optstudy:blob:${ref.sha256}`, bytes);
    const got = await cache.resolve(ref);
    assert.equal(path.dirname(got), path.join(dir, 'cache-s', ref.sha256), 'stays in its hash folder');
    assert.equal(readFileSync(got, 'utf8'), bytes.toString());
    assert.deepEqual(['..', '.hidden.csv', 'a b.txt', 'C:\\x\\orcl.txt', 'orcl-2014.txt'].map(safeName), ['blob', 'blob.csv', 'blob.txt', 'orcl.txt', 'orcl-2014.txt']);
  });

  it('other bytes at the same path (another machine, another file): fetched once, cached under the hash', async () => {
    const f = path.join(dir, 'strategy.js');
    writeFileSync(f, 'module.exports = 1;\n');
    const { ref, bytes } = describeFile(f);
    await publishBlob(conn, 'optstudy', ref, bytes);
    writeFileSync(f, 'module.exports = 2; // edited on the worker\n');
    const cache = new BlobCache(conn, 'optstudy', path.join(dir, 'cache-b'));
    const [a, b, c] = await Promise.all([cache.resolve(ref), cache.resolve(ref), cache.resolve(ref)]);
    assert.equal(a, b);
    assert.equal(a, c);
    assert.notEqual(a, f);
    assert.equal(a, path.join(dir, 'cache-b', ref.sha256, 'strategy.js'));
    assert.equal(readFileSync(a, 'utf8'), 'module.exports = 1;\n');
    assert.equal(cache.fetched, 1, 'three concurrent requests, one fetch');
    // A second cache object on the same folder (a restarted worker) needs no Redis at all.
    await conn.del(`optstudy:blob:${ref.sha256}`);
    const again = new BlobCache(conn, 'optstudy', path.join(dir, 'cache-b'));
    assert.equal(await again.resolve(ref), a);
    assert.equal(again.fetched, 0);
  });

  it('a file that is nowhere: BlobMissingError naming the file', async () => {
    const bytes = Buffer.from('never published');
    const ref = { sha256: sha256(bytes), path: path.join(dir, 'gone.txt'), size: bytes.length };
    const cache = new BlobCache(conn, 'optstudy', path.join(dir, 'cache-c'));
    await assert.rejects(cache.resolve(ref), (e: unknown) => e instanceof BlobMissingError && e.message.includes('gone.txt'));
  });

  it('publishing twice keeps one copy and refreshes its expiry', async () => {
    const bytes = Buffer.from('twice');
    const ref = { sha256: sha256(bytes), path: '/x/twice.txt', size: bytes.length };
    await publishBlob(conn, 'optstudy', ref, bytes);
    await conn.expire(`optstudy:blob:${ref.sha256}`, 10);
    await publishBlob(conn, 'optstudy', ref, bytes);
    assert.ok((await conn.ttl(`optstudy:blob:${ref.sha256}`)) > 3600);
    assert.equal((await conn.getBuffer(`optstudy:blob:${ref.sha256}`))!.toString(), 'twice');
  });
});

describe('Redis URLs and job payloads', () => {
  it('accepts redis:// and rediss:// URLs, rejects others with the expected form', () => {
    assert.equal(parseRedisUrl('redis://127.0.0.1:6379').port, '6379');
    assert.equal(parseRedisUrl('rediss://:pw@host/2').hostname, 'host');
    for (const bad of ['127.0.0.1:6379', 'http://host:6379', 'redis://host:6379/abc', 'redis://']) {
      assert.throws(() => parseRedisUrl(bad), (e: unknown) => e instanceof RedisConnectionError && /redis:\/\/HOST:PORT/.test(e.message), bad);
    }
    assert.equal(redactUrl('redis://user:secret@host:1'), 'redis://user:***@host:1');
  });

  it('reconnects with a doubling delay capped at 2 s', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 50].map(reconnectDelay), [100, 200, 400, 800, 1600, 2000, 2000, 2000]);
  });
});
