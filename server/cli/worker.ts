/**
 * `optstudy worker --redis URL [--concurrency N]` — a long-lived worker for distributed runs:
 * takes trial batches from the shared BullMQ queue and runs them on this machine's pool.
 * Start it on as many machines as you like; stop it with Ctrl-C (finishes the batches in hand)
 * or a second Ctrl-C (abandons them; other workers pick them up once their lock expires).
 */
import type { Command } from './main';

const HELP = `optstudy worker — run trials of distributed studies (optstudy run FILE --redis URL)

Usage:
  optstudy worker --redis URL [--concurrency N] [--cache-dir DIR] [--queue NAME] [--lock-ms N] [--builtin-only]

Options:
  --redis URL        the Redis the coordinators use, e.g. redis://10.0.0.5:6379
  --concurrency N    batches (and pool threads) at once; default: the CPU count
  --cache-dir DIR    where price files and strategy modules fetched through Redis are kept;
                     default: ~/.cache/optstudy/blobs
  --queue NAME       the BullMQ queue (default optstudy-trials); coordinators must use the same
  --lock-ms N        a dead worker's batch is re-delivered after about this long (default 30000)
  --builtin-only     refuse module and command strategies: run no code sent through Redis

A worker runs the strategy modules coordinators send: let only trusted machines write to
this Redis, or start workers with --builtin-only.
`;

interface WorkerArgs {
  redis: string;
  concurrency?: number;
  cacheDir?: string;
  queue?: string;
  lockMs?: number;
  builtinOnly?: boolean;
}

function parseArgs(args: string[]): WorkerArgs | string {
  const out: Partial<WorkerArgs> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string | undefined => inline ?? args[++i];
    const intValue = (min: number): number | string => {
      const v = value();
      const n = v === undefined ? NaN : Number(v);
      return Number.isInteger(n) && n >= min ? n : `${flag} needs a whole number ≥ ${min}, got '${v ?? ''}'`;
    };
    switch (flag) {
      case '--redis': {
        const v = value();
        if (!v) return '--redis needs a URL, e.g. --redis redis://127.0.0.1:6379';
        out.redis = v;
        break;
      }
      case '--concurrency': {
        const n = intValue(1);
        if (typeof n === 'string') return n;
        out.concurrency = n;
        break;
      }
      case '--lock-ms': {
        const n = intValue(1000);
        if (typeof n === 'string') return n;
        out.lockMs = n;
        break;
      }
      case '--builtin-only':
        if (inline !== undefined) return '--builtin-only takes no value';
        out.builtinOnly = true;
        break;
      case '--cache-dir': {
        const v = value();
        if (!v) return '--cache-dir needs a folder';
        out.cacheDir = v;
        break;
      }
      case '--queue': {
        const v = value();
        if (!v) return '--queue needs a name';
        out.queue = v;
        break;
      }
      default:
        return `unknown option '${a}'`;
    }
  }
  if (!out.redis) return '--redis URL is required (the Redis your coordinators use)';
  return out as WorkerArgs;
}

export const workerCommand: Command = async (args, io) => {
  if (args.includes('--help') || args.includes('-h')) {
    io.out(HELP);
    return 0;
  }
  const parsed = parseArgs(args);
  if (typeof parsed === 'string') {
    io.err(`optstudy worker: ${parsed}.\n\n${HELP}`);
    return 2;
  }
  const { startRedisWorker } = await import('../distributed/redis-worker');
  const { RedisConnectionError } = await import('../distributed/redis-connection');
  const { createPoolRunner } = await import('../distributed/pool-runner');
  const stamp = () => new Date().toISOString().slice(11, 23);
  const log = (m: string) => io.err(`[${stamp()}] optstudy worker: ${m}\n`);
  const concurrency = parsed.concurrency ?? Math.max(1, (await import('node:os')).availableParallelism());
  const runner = createPoolRunner({ threads: concurrency, builtinOnly: parsed.builtinOnly });
  let handle: Awaited<ReturnType<typeof startRedisWorker>>;
  try {
    handle = await startRedisWorker({
      url: parsed.redis,
      concurrency,
      cacheDir: parsed.cacheDir,
      queue: parsed.queue,
      lockMs: parsed.lockMs,
      runner,
      log,
    });
  } catch (e) {
    await runner.close().catch(() => {});
    if (e instanceof RedisConnectionError) {
      io.err(`optstudy worker: ${e.message}\n`);
      return 1;
    }
    throw e;
  }

  return await new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      signals++;
      if (signals === 1) {
        log(`${sig}: finishing the batches in hand (again to abandon them)…`);
        void handle.close().then(() => {
          log(`stopped after ${handle.stats.batches} batches, ${handle.stats.trials} trials`);
          resolve(0);
        });
      } else {
        log(`${sig}: abandoning the batches in hand; other workers will take them over`);
        void handle.close(true).then(() => resolve(130));
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
};
