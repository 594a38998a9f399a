/**
 * `optstudy worker --redis URL [--concurrency N]` — a long-lived worker for distributed runs:
 * takes trial batches from the shared BullMQ queue and runs them on this machine's pool.
 * Start it on as many machines as you like; stop it with Ctrl-C (finishes the batches in hand)
 * or a second Ctrl-C (abandons them; other workers pick them up once their lock expires).
 */
import type { Command } from './main';

const HELP = `optstudy worker — run trials of distributed studies (optstudy run FILE --redis URL)

Usage:
  optstudy worker --redis URL [--concurrency N] [--secret-file FILE] [--allow KINDS]
                  [--data-root DIR] [--cache-dir DIR] [--queue NAME] [--lock-ms N]
                  [--redis-ca FILE] [--redis-cert FILE --redis-key FILE]

Options:
  --redis URL        the Redis the coordinators use: redis://[:PASSWORD@]HOST:PORT[/DB], or
                     rediss://… for TLS (the password may also come from OPTSTUDY_REDIS_PASSWORD)
  --concurrency N    pool threads; default: the CPU count
  --secret-file FILE the deployment's shared secret (or OPTSTUDY_SECRET_FILE / OPTSTUDY_SECRET):
                     with it the worker takes only jobs signed with it, and signs its results
  --allow KINDS      strategy kinds to run: builtin (default), module, command, comma-separated;
                     module and command need --secret-file (code only from coordinators holding it)
  --data-root DIR    price files under DIR may be read in place when their bytes match the
                     coordinator's (a shared disk); anything else comes by content hash
  --cache-dir DIR    where files fetched through Redis are kept; default ~/.cache/optstudy/blobs
  --queue NAME       the BullMQ queue (default optstudy-trials); coordinators must use the same
  --lock-ms N        a dead worker's batch is re-delivered after about this long (default 30000)
  --redis-ca FILE    CA of the Redis server's TLS certificate (or OPTSTUDY_REDIS_CA)
  --redis-cert FILE, --redis-key FILE
                     a TLS client certificate, when the server asks for one
  --builtin-only     the same as --allow builtin (the default)

Whoever can write to the Redis can add jobs: without a secret a worker runs built-in
strategies only, on files sent by content hash. Protect the Redis anyway (password, TLS,
network), and give the secret only to machines you trust.
`;

interface WorkerArgs {
  redis: string;
  concurrency?: number;
  cacheDir?: string;
  dataRoot?: string;
  queue?: string;
  lockMs?: number;
  allow?: string[];
  builtinOnly?: boolean;
  secretFile?: string;
  tls: { ca?: string; cert?: string; key?: string };
}

const STRING_FLAGS: Record<string, (a: WorkerArgs, v: string) => void> = {
  '--redis': (a, v) => (a.redis = v),
  '--cache-dir': (a, v) => (a.cacheDir = v),
  '--data-root': (a, v) => (a.dataRoot = v),
  '--queue': (a, v) => (a.queue = v),
  '--secret-file': (a, v) => (a.secretFile = v),
  '--redis-ca': (a, v) => (a.tls.ca = v),
  '--redis-cert': (a, v) => (a.tls.cert = v),
  '--redis-key': (a, v) => (a.tls.key = v),
  '--allow': (a, v) => (a.allow = v.split(',').map((k) => k.trim()).filter(Boolean)),
};

function parseArgs(args: string[]): WorkerArgs | string {
  const out: WorkerArgs = { redis: '', tls: {} };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string | undefined => inline ?? args[++i];
    const intValue = (min: number): number | string => {
      const v = value();
      const n = v === undefined ? NaN : Number(v);
      return Number.isInteger(n) && n >= min ? n : `${flag} needs a whole number ≥ ${min}, got '${v ?? ''}'`;
    };
    const set = STRING_FLAGS[flag!];
    if (set) {
      const v = value();
      if (!v) return `${flag} needs a value`;
      set(out, v);
    } else if (flag === '--concurrency' || flag === '--lock-ms') {
      const n = intValue(flag === '--concurrency' ? 1 : 1000);
      if (typeof n === 'string') return n;
      if (flag === '--concurrency') out.concurrency = n;
      else out.lockMs = n;
    } else if (flag === '--builtin-only') {
      if (inline !== undefined) return '--builtin-only takes no value';
      out.builtinOnly = true;
    } else return `unknown option '${a}'`;
  }
  if (!out.redis) return '--redis URL is required (the Redis your coordinators use)';
  if (out.builtinOnly && out.allow && out.allow.some((k) => k !== 'builtin')) return `--builtin-only contradicts --allow ${out.allow.join(',')}`;
  return out;
}

/** The operator's policy from the arguments, or what is wrong with them. */
async function policyOf(a: WorkerArgs): Promise<{ policy: import('../distributed/worker-policy').WorkerPolicy; warnings: string[] } | string> {
  const { STRATEGY_KINDS } = await import('../distributed/worker-policy');
  const { loadSecret, SecretError } = await import('../distributed/job-auth');
  const allow = a.allow ?? ['builtin'];
  const unknown = allow.filter((k) => !(STRATEGY_KINDS as readonly string[]).includes(k));
  if (unknown.length) return `--allow: unknown kind '${unknown[0]}' (kinds: ${STRATEGY_KINDS.join(', ')})`;
  let secret;
  try {
    secret = loadSecret(a.secretFile);
  } catch (e) {
    if (e instanceof SecretError) return e.message;
    throw e;
  }
  const code = allow.filter((k) => k !== 'builtin');
  if (code.length && !secret)
    return `--allow ${allow.join(',')} needs the shared secret (--secret-file FILE): module and command strategies run only from coordinators holding it`;
  return { policy: { allow: new Set(allow as ('builtin' | 'module' | 'command')[]), secret: secret?.key ?? null }, warnings: [...(secret?.warnings ?? []), ...(secret ? [`shared secret from ${secret.source}`] : [])] };
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
  const { RedisConnectionError, tlsFromEnv } = await import('../distributed/redis-connection');
  const { createPoolRunner } = await import('../distributed/pool-runner');
  const stamp = () => new Date().toISOString().slice(11, 23);
  const log = (m: string) => io.err(`[${stamp()}] optstudy worker: ${m}\n`);
  const rules = await policyOf(parsed);
  if (typeof rules === 'string') {
    io.err(`optstudy worker: ${rules}.\n`);
    return 2;
  }
  if (parsed.dataRoot) {
    const { statSync } = await import('node:fs');
    if (!statSync(parsed.dataRoot, { throwIfNoEntry: false })?.isDirectory()) {
      io.err(`optstudy worker: --data-root ${parsed.dataRoot}: not a folder.\n`);
      return 2;
    }
  }
  for (const w of rules.warnings) log(w);
  const concurrency = parsed.concurrency ?? Math.max(1, (await import('node:os')).availableParallelism());
  const runner = createPoolRunner({ threads: concurrency });
  let handle: Awaited<ReturnType<typeof startRedisWorker>>;
  try {
    handle = await startRedisWorker({
      url: parsed.redis,
      concurrency,
      cacheDir: parsed.cacheDir,
      dataRoot: parsed.dataRoot,
      policy: rules.policy,
      tls: tlsFromEnv(parsed.tls),
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

  const code = await new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      signals++;
      if (signals === 1) {
        log(`${sig}: finishing the batches in hand (again to abandon them)…`);
        void handle.close().then(() => {
          log(`stopped after ${handle.stats.batches} batches, ${handle.stats.trials} trials (pool idle between batches ${handle.stats.idleMs} ms)`);
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
  // Everything is closed; should a library still hold the event loop (a reconnect timer while
  // Redis is away), the worker still ends: its work is over.
  setTimeout(() => process.exit(code), 2000).unref();
  return code;
};
