/**
 * For the Redis benchmark's transport figure (redis-bench.ts): a real worker (startRedisWorker:
 * BullMQ, job checks, result encoding, signature, push) whose batch runner answers at once with
 * the blocks a real pool made for the same number of trials — so the CPU it and the coordinator
 * spend per trial is what distribution costs beyond the backtests themselves.
 * argv: REDIS_URL SECRET_FILE BLOCK_FILE (a v8-serialized OutcomeBlock of real trials) QUEUE.
 */
import { readFileSync } from 'node:fs';
import { deserialize } from 'node:v8';
import { loadSecret } from '../../server/distributed/job-auth';
import { startRedisWorker, type BatchRunner } from '../../server/distributed/redis-worker';
import type { OutcomeBlock } from '../../server/executor/outcome-block';

const [url, secretFile, blockFile, queue] = process.argv.slice(2) as [string, string, string, string];
const model = deserialize(readFileSync(blockFile)) as OutcomeBlock;
/** Rows of the model block per answered block (a pool thread's chunk). */
const CHUNK = model.numbers.length;

/** `n` trials' blocks, copied from the model as a pool thread's blocks are copied to the main thread. */
function answer(trials: { number: number }[]): OutcomeBlock[] {
  const out: OutcomeBlock[] = [];
  for (let i = 0; i < trials.length; i += CHUNK) {
    const rows = Math.min(CHUNK, trials.length - i);
    const end = model.ends[rows - 1]!;
    out.push({
      numbers: Float64Array.from(trials.slice(i, i + rows), (t) => t.number),
      states: model.states.slice(0, rows),
      objectives: model.objectives,
      scores: model.scores.slice(0, rows * model.objectives),
      attempts: model.attempts.slice(0, rows),
      json: model.json.slice(0, end),
      ends: model.ends.slice(0, rows),
      ...(model.lines ? { lines: true } : {}),
    });
  }
  return out;
}

const runner: BatchRunner = {
  run: async (_payload, trials) => answer(trials as { number: number }[]),
  close: async () => {},
};

void (async () => {
  const secret = loadSecret(secretFile)!.key;
  const handle = await startRedisWorker({
    url,
    concurrency: 1,
    queue,
    lockMs: 30_000,
    policy: { allow: new Set(['builtin']), secret },
    runner,
    log: (m) => process.stderr.write(`${m}\n`),
  });
  process.once('SIGTERM', () => void handle.close().then(() => process.exit(0)));
})();
