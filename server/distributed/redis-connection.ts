/**
 * Connections to the Redis that carries a distributed run: URL checks that say what is wrong,
 * a first contact that fails fast with what to do, and afterwards reconnection with a capped
 * backoff, so a Redis that blips (restart, failover, network hiccup) costs a pause, not the run.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import IORedis, { type Redis, type RedisOptions } from 'ioredis';

/** A Redis URL that cannot be used, or a Redis that cannot be reached; `message` says what to do. */
export class RedisConnectionError extends Error {
  constructor(
    message: string,
    readonly url: string,
  ) {
    super(message);
    this.name = 'RedisConnectionError';
  }
}

/** Hides a password in a URL before it is printed. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/**
 * Checks a Redis URL (`redis://[user:password@]host[:port][/db]` or `rediss://` for TLS).
 * @throws RedisConnectionError naming the URL and the expected form.
 */
export function parseRedisUrl(url: string): URL {
  const form = 'write it as redis://HOST:PORT (or redis://:PASSWORD@HOST:PORT/DB, rediss:// for TLS)';
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RedisConnectionError(`'${url}' is not a Redis URL; ${form}.`, url);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new RedisConnectionError(`'${redactUrl(url)}' is not a Redis URL (scheme '${u.protocol}'); ${form}.`, url);
  }
  if (!u.hostname) throw new RedisConnectionError(`'${redactUrl(url)}' has no host; ${form}.`, url);
  if (u.pathname && u.pathname !== '/' && !/^\/\d+$/.test(u.pathname)) {
    throw new RedisConnectionError(`'${redactUrl(url)}': the database must be a number (/0, /1, …); ${form}.`, url);
  }
  return u;
}

/** Delay before reconnection attempt `times` (1, 2, …): 100 ms doubling, capped at 2 s. */
export function reconnectDelay(times: number): number {
  return Math.min(100 * 2 ** Math.min(times - 1, 5), 2000);
}

/**
 * TLS files for `rediss://` URLs (PEM paths): the CA that signed the server's certificate when
 * it is not a public one, and a client certificate and key when the server asks for one
 * (redis-server's `tls-auth-clients yes`, its default).
 */
export interface TlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
}

/** TLS files from `OPTSTUDY_REDIS_CA`, `OPTSTUDY_REDIS_CERT`, `OPTSTUDY_REDIS_KEY`, overridden by `given`. */
export function tlsFromEnv(given: TlsFiles = {}, env: NodeJS.ProcessEnv = process.env): TlsFiles {
  return {
    ca: given.ca ?? (env.OPTSTUDY_REDIS_CA || undefined),
    cert: given.cert ?? (env.OPTSTUDY_REDIS_CERT || undefined),
    key: given.key ?? (env.OPTSTUDY_REDIS_KEY || undefined),
  };
}

export interface ConnectOptions {
  /** Called on state changes after the first contact (lost, back). */
  onState?: (state: 'lost' | 'back', detail: string) => void;
  /** A name shown by `CLIENT LIST`, e.g. `optstudy-worker`. */
  name?: string;
  /** For `rediss://` URLs; the files are read once, here. */
  tls?: TlsFiles;
}

/** The TLS options for a `rediss://` URL (none for `redis://`). @throws RedisConnectionError when a file cannot be read. */
function tlsOptions(url: string, files: TlsFiles | undefined): RedisOptions['tls'] {
  const u = parseRedisUrl(url);
  const given = files && (files.ca || files.cert || files.key);
  if (u.protocol !== 'rediss:') {
    if (given) throw new RedisConnectionError(`TLS files were given but '${redactUrl(url)}' is not a TLS URL: write it as rediss://HOST:PORT.`, url);
    return undefined;
  }
  const read = (what: string, file?: string): Buffer | undefined => {
    if (!file) return undefined;
    try {
      return readFileSync(file);
    } catch (e) {
      throw new RedisConnectionError(`cannot read the Redis TLS ${what} file ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)}).`, url);
    }
  };
  if (Boolean(files?.cert) !== Boolean(files?.key)) throw new RedisConnectionError('a Redis TLS client certificate needs its key, and a key its certificate (--redis-cert with --redis-key).', url);
  return { ca: read('CA', files?.ca), cert: read('certificate', files?.cert), key: read('key', files?.key), ...(isIP(u.hostname) ? {} : { servername: u.hostname }) };
}

/**
 * Opens a connection for BullMQ and our own keys. Commands issued while Redis is down wait for
 * the reconnection (`maxRetriesPerRequest: null`, the setting BullMQ requires for workers)
 * instead of failing, so a blip never loses a result on its way.
 */
export function openRedis(url: string, options: ConnectOptions = {}): Redis {
  const tls = tlsOptions(url, options.tls);
  const redisOptions: RedisOptions = {
    ...(tls ? { tls } : {}),
    // A password kept out of the command line (where `ps` shows it to every user of the machine).
    ...(!new URL(url).password && process.env.OPTSTUDY_REDIS_PASSWORD ? { password: process.env.OPTSTUDY_REDIS_PASSWORD } : {}),
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: reconnectDelay,
    connectionName: options.name,
    // Reconnect after READONLY (a replica promoted during failover) instead of failing writes.
    reconnectOnError: (err) => err.message.startsWith('READONLY'),
  };
  const redis = new IORedis(url, redisOptions);
  let wasReady = false;
  let lost = false;
  redis.on('ready', () => {
    if (wasReady && lost) options.onState?.('back', redactUrl(url));
    wasReady = true;
    lost = false;
  });
  redis.on('close', () => {
    // 'end'/'close' after our own disconnect() is not a lost connection.
    if (wasReady && !lost && !closing.has(redis)) {
      lost = true;
      options.onState?.('lost', redactUrl(url));
    }
  });
  // ioredis emits 'error' on every failed reconnection attempt; without a listener Node would
  // throw. The state callbacks above report what matters.
  redis.on('error', () => {});
  return redis;
}

const closing = new WeakSet<Redis>();

/** Disconnects on purpose (no "lost the connection" report). */
export function closeRedis(redis: Redis): void {
  closing.add(redis);
  redis.disconnect();
}

/**
 * First contact: resolves once Redis answers PING, or rejects within `timeoutMs` with an error
 * that names the URL, the cause and what to do.
 */
export async function checkRedis(redis: Redis, url: string, timeoutMs = 5000): Promise<void> {
  let lastError = '';
  let failFast: (e: Error) => void = () => {};
  let errors = 0;
  const onError = (e: Error) => {
    lastError = (e as NodeJS.ErrnoException).code ?? e.message;
    // Nobody listening, no such host, wrong password, a certificate not trusted: retrying for
    // the whole timeout helps no one.
    if (++errors >= 3 || /NOAUTH|WRONGPASS|ENOTFOUND|CERT|SSL|TLS/.test(lastError + e.message)) failFast(e);
  };
  redis.on('error', onError);
  try {
    const pong = await Promise.race([
      redis.ping(),
      new Promise<never>((_, reject) => {
        failFast = reject;
        setTimeout(() => reject(new Error('timeout')), timeoutMs).unref();
      }),
    ]);
    if (pong !== 'PONG') throw new Error(`unexpected answer to PING: ${String(pong)}`);
    const info = await redis.info('server');
    const version = /redis_version:(\d+)\.(\d+)/.exec(info);
    // BullMQ 5 needs Redis 6.2 or newer (it uses commands added there).
    if (version && (+version[1]! < 6 || (+version[1]! === 6 && +version[2]! < 2))) {
      throw new RedisConnectionError(
        `Redis at ${redactUrl(url)} is version ${version[1]}.${version[2]}; distributed runs need Redis 6.2 or newer.`,
        url,
      );
    }
  } catch (e) {
    if (e instanceof RedisConnectionError) throw e;
    const why = lastError || (e instanceof Error ? e.message : String(e));
    if (/NOAUTH|WRONGPASS/.test(why)) {
      throw new RedisConnectionError(
        `Redis at ${redactUrl(url)} refused the credentials (${why.split('\n')[0]}); put the right password in the URL (redis://:PASSWORD@HOST:PORT) or in OPTSTUDY_REDIS_PASSWORD.`,
        url,
      );
    }
    const tlsHint = tlsAdvice(why, parseRedisUrl(url).protocol === 'rediss:');
    if (tlsHint) throw new RedisConnectionError(`cannot talk to Redis at ${redactUrl(url)} (${why}): ${tlsHint}`, url);
    const causes: Record<string, string> = { ECONNREFUSED: 'connection refused: nothing listens there', ENOTFOUND: 'no such host', ETIMEDOUT: 'connection timed out' };
    throw new RedisConnectionError(
      `cannot reach Redis at ${redactUrl(url)} (${why === 'timeout' ? `no answer within ${timeoutMs} ms` : (causes[why] ? `${why}, ${causes[why]}` : why)}). ` +
        `Start a Redis server there (e.g. 'redis-server --port ${parseRedisUrl(url).port || 6379}'), ` +
        `or fix the URL given to --redis or the study's 'executor redis'.`,
      url,
    );
  } finally {
    redis.off('error', onError);
  }
}

/** What to do about a TLS failure (null when `why` is not one). */
function tlsAdvice(why: string, tls: boolean): string | null {
  if (/ALERT_CERTIFICATE_REQUIRED|ALERT_UNKNOWN_CA|ALERT_BAD_CERTIFICATE|ALERT_HANDSHAKE_FAILURE/i.test(why))
    return 'the server wants a client certificate it trusts, give one with --redis-cert FILE --redis-key FILE (or OPTSTUDY_REDIS_CERT, OPTSTUDY_REDIS_KEY).';
  if (/CERT_ALTNAME|altname/i.test(why)) return "the server's certificate is for another host name: connect with a name its certificate lists.";
  if (/SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|CERT_UNTRUSTED|certificate/i.test(why))
    return "the server's TLS certificate is not trusted here: give the CA that signed it with --redis-ca FILE (or OPTSTUDY_REDIS_CA).";
  if (/WRONG_VERSION|wrong version|SSL|TLS/i.test(why))
    return tls ? 'the server does not speak TLS on this port: use redis:// or its TLS port.' : 'TLS trouble: check the URL scheme (rediss:// for TLS) and the certificate files.';
  if (!tls && /ECONNRESET|Connection is closed/i.test(why)) return 'the server closed the connection: if it expects TLS, write the URL as rediss://.';
  // TLS 1.3 reports a refused client certificate after the handshake: often just a reset.
  if (tls && /ECONNRESET|Connection is closed/i.test(why))
    return 'the server closed the TLS connection: if it wants a client certificate, give one with --redis-cert FILE --redis-key FILE (or OPTSTUDY_REDIS_CERT, OPTSTUDY_REDIS_KEY).';
  return null;
}
