/**
 * Result layouts (server/distributed/result-codec.ts): layout 3 (header + raw arrays) and
 * layout 2 (v8) give back the same outcomes; a signature binds its layout; malformed bytes are
 * refused. Then a real `optstudy worker` on a real Redis, with jobs added by hand the way an
 * older coordinator (no `results` in the body) and this one (`results: 3`) write them: it
 * answers each in the layout its coordinator reads, and both decode to the same journal lines.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { BlockBuilder, type OutcomeBlock } from '../../server/executor/outcome-block';
import { describeFile, publishBlob } from '../../server/distributed/content-store';
import { signJob, signLease, signResult, verifyResult } from '../../server/distributed/job-auth';
import { decodeResult, encodeResult, jobId, keys, type BatchResult, type JobBody } from '../../server/distributed/protocol';
import { REDIS_MISSING, redisServerAvailable, startRedis, type TestRedis } from '../support/redis-server';
import { ROOT, startWorker, type TestWorker } from '../support/redis-workers';

const KEY = Buffer.from('a-test-secret-of-enough-characters-0123');
const sign = (b: Uint8Array, v: number) => signResult(KEY, b, v);
const verify = (b: Uint8Array, s: Uint8Array, v: number) => verifyResult(KEY, b, s, v);

function block(first: number, rows: number, objectives: number, lines: boolean): OutcomeBlock {
  const b = new BlockBuilder(rows, objectives, lines ? `{"type":"trial","stage":"s é","number":` : undefined);
  for (let i = 0; i < rows; i++) {
    const failed = i % 5 === 3;
    const score = objectives === 1 ? i / 7 : [i / 7, -i];
    b.add(first + i, { fast: i, slow: 'x'.repeat(i % 4) }, 0.5 + i, failed ? null : { sharpe: i / 3, trades: i }, failed ? null : { score, state: 'complete', loss: null }, failed ? 'boom ✗' : undefined);
  }
  return b.finish();
}

function result(): BatchResult {
  return {
    runId: 'r1',
    seq: 7,
    worker: 'host:1',
    attempt: 2,
    durationMs: 12,
    outcomes: [block(0, 33, 1, true), { number: 99, metrics: { sharpe: Number.NaN, x: Infinity }, durationMs: 1, error: undefined }, block(33, 5, 2, false), block(38, 0, 1, true)],
  };
}

/** A block's arrays as plain lists, comparable across layouts. */
const plain = (o: unknown) =>
  o && typeof o === 'object' && 'ends' in o ? Object.fromEntries(Object.entries(o).map(([k, v]) => [k, ArrayBuffer.isView(v) ? Array.from(v as Uint8Array) : v])) : o;

describe('result layouts', () => {
  it('layouts 3 and 2 decode to the same result (blocks, single outcomes with NaN and Infinity)', () => {
    const r = result();
    for (const v of [3, 2] as const) {
      const bytes = encodeResult(r, sign, v);
      assert.equal(bytes.subarray(0, 4).toString(), `OSR${v}`);
      const back = decodeResult(bytes, verify);
      assert.ok(back, `layout ${v} decodes`);
      assert.deepEqual(back.outcomes.map(plain), r.outcomes.map(plain));
      assert.deepEqual({ ...back, outcomes: [] }, { ...r, outcomes: [] });
    }
  });

  it('layout 3 reads its arrays in place, also from bytes at an odd offset', () => {
    const bytes = encodeResult(result(), sign, 3);
    const odd = Buffer.alloc(bytes.length + 3);
    bytes.copy(odd, 3);
    for (const buf of [bytes, odd.subarray(3)]) {
      const back = decodeResult(buf, verify)!;
      assert.deepEqual(back.outcomes.map(plain), result().outcomes.map(plain));
      const json = (back.outcomes[0] as OutcomeBlock).json;
      assert.equal(json.buffer, buf.buffer, 'the text is a view of the received bytes');
    }
  });

  it('a signature binds the layout, the key and every byte', () => {
    const bytes = encodeResult(result(), sign, 3);
    const relabeled = Buffer.from(bytes);
    relabeled.write('OSR2', 0);
    assert.equal(decodeResult(relabeled, verify), null, 'layout 3 bytes passed off as layout 2');
    assert.equal(decodeResult(encodeResult(result(), (b, v) => signResult(Buffer.from('another-key-of-enough-characters-000'), b, v), 3), verify), null);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 20]! ^= 1;
    assert.equal(decodeResult(flipped, verify), null);
    assert.ok(decodeResult(flipped, null), 'unsigned runs read without a check');
  });

  it('malformed layout-3 bytes are refused, not thrown or read out of bounds', () => {
    const unsigned = (b: Uint8Array, v: number) => signResult(null, b, v);
    const bytes = encodeResult(result(), unsigned, 3);
    assert.equal(decodeResult(bytes.subarray(0, bytes.length - 100), null), null, 'truncated');
    const badHead = Buffer.from(bytes);
    badHead.writeUInt32LE(bytes.length, 36);
    assert.equal(decodeResult(badHead, null), null, 'header longer than the bytes');
    // A block whose row ends point past its text.
    const r = result();
    const b = r.outcomes[0] as OutcomeBlock;
    b.ends[b.ends.length - 1] = b.json.length + 1;
    assert.equal(decodeResult(encodeResult(r, unsigned, 3), null), null, 'ends past the text');
    assert.equal(decodeResult(Buffer.from('OSR3'), null), null);
    assert.equal(decodeResult(Buffer.concat([Buffer.from('OSR9'), bytes.subarray(4)]), null), null);
  });
});

describe('a worker answers in the layout its coordinator reads', { skip: redisServerAvailable() ? false : REDIS_MISSING }, () => {
  let redis: TestRedis;
  let worker: TestWorker;
  let dir: string;
  const SECRET = randomBytes(24).toString('hex');
  const queueName = 'codec-trials';

  before(async () => {
    redis = await startRedis();
    dir = mkdtempSync(path.join(os.tmpdir(), 'optstudy-codec-'));
    writeFileSync(path.join(dir, 'secret'), SECRET, { mode: 0o600 });
    worker = await startWorker(redis.url, { queue: queueName, extraArgs: ['--secret-file', path.join(dir, 'secret')] });
  });
  after(async () => {
    await worker?.stop();
    await redis?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('no `results` in the job (an older coordinator): layout 2; `results: 3`: layout 3; the same lines', async () => {
    const key = Buffer.from(SECRET);
    const admin = new IORedis(redis.url);
    const queue = new Queue(queueName, { connection: { host: '127.0.0.1', port: redis.port } });
    try {
      const runId = `codec${randomBytes(3).toString('hex')}`;
      const data = describeFile(path.join(ROOT, 'samples', 'data', 'orcl-2014.txt'));
      await publishBlob(admin, 'optstudy', data.ref, data.bytes);
      await admin.set(keys.lease('optstudy', runId), JSON.stringify(signLease(key, runId, Date.now() + 60_000)), 'PX', 60_000);
      const payload = { task: { data: { file: data.ref.path }, strategy: { kind: 'builtin', name: 'sma_cross' }, config: { cash: 100_000, commission: 0.001, sizing: { kind: 'percent', value: 95 } } }, settings: { retries: 0 } };
      const trials = Array.from({ length: 20 }, (_, i) => ({ number: i, params: { fast: 3 + i, slow: 30 } }));
      const lines: Record<string, string> = {};
      for (const [seq, results] of [[0, undefined], [1, 3]] as const) {
        const id = jobId(runId, seq);
        const body: JobBody = { v: 2, runId, seq, jobId: id, issuedAt: Date.now(), payload, files: [data.ref], trials, stage: 'grid', ...(results ? { results } : {}) };
        const text = JSON.stringify(body);
        await queue.add('batch', { v: 2, runId, seq, body: text, sig: signJob(key, id, text) }, { jobId: id, attempts: 1 });
        const popped = await admin.blpopBuffer(keys.results('optstudy', runId), 30);
        assert.ok(popped, `job ${seq} answered`);
        assert.equal(popped[1].subarray(0, 4).toString(), `OSR${results ?? 2}`);
        const r = decodeResult(popped[1], (b, s, v) => verifyResult(key, b, s, v));
        assert.ok(r && r.seq === seq, `job ${seq}'s result decodes and its signature holds`);
        // The same lines but for each trial's own duration.
        lines[results ?? 2] = r.outcomes.map((b) => Buffer.from((b as OutcomeBlock).json).toString()).join('').replace(/"durationMs":[^,]*,/g, '');
      }
      assert.equal(lines[3], lines[2]);
      assert.equal(lines[3]!.trim().split('\n').length, trials.length);
    } finally {
      await queue.close();
      admin.disconnect();
    }
  });
});
