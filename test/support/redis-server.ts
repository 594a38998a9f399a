/**
 * A real `redis-server` for tests: started on a free loopback port in a temporary folder, with
 * persistence off (`--save '' --appendonly no`), stopped (and its folder removed) after.
 * `restart()` stops it and starts it again on the same port, to test reconnection; since
 * nothing is persisted, a restart also loses every key, exactly like a crashed Redis would.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export interface TestRedis {
  port: number;
  /** The server process's pid (undefined while stopped). */
  readonly pid: number | undefined;
  url: string;
  /** Stops the server (SIGTERM) and waits for it to exit; the port stays reserved for `start`. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Stops it, waits `downMs`, starts it again. */
  restart(downMs?: number): Promise<void>;
  /** Stops it for good and removes its folder. */
  close(): Promise<void>;
  /** Everything the server printed, for failure messages. */
  log(): string;
}

/** True when `redis-server` is on the PATH; tests skip with this reason otherwise. */
export function redisServerAvailable(): boolean {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return r.status === 0;
}

export const REDIS_MISSING = 'redis-server is not installed (apt-get install -y redis-server; .ci/run installs it)';

/** A TCP port nobody listens on right now, on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface RedisServerOptions {
  /** `requirepass`: clients must AUTH with it (the URL carries it as `:PASSWORD@`). */
  password?: string;
  /** Serve TLS only (no plain port), with these PEM files; clients must show a certificate signed by `ca`. */
  tls?: { cert: string; key: string; ca: string };
}

/** Starts a private redis-server; throws with its output when it does not come up. */
export async function startRedis(options: RedisServerOptions = {}): Promise<TestRedis> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'optstudy-redis-'));
  let port = await freePort();
  let child: ChildProcess | null = null;
  let output = '';

  const launch = async (): Promise<void> => {
    const tls = options.tls;
    const listen = tls
      ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key, '--tls-ca-cert-file', tls.ca, '--tls-auth-clients', 'yes']
      : ['--port', String(port)];
    const auth = options.password ? ['--requirepass', options.password] : [];
    const proc = spawn('redis-server', [...listen, ...auth, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    // Never leave a server behind when the test process ends early (an uncaught error, a failed setup).
    const reap = () => proc.kill('SIGKILL');
    process.once('exit', reap);
    proc.once('exit', () => process.off('exit', reap));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start within 10 s on port ${port}:\n${output}`)), 10_000);
      const onData = (d: Buffer) => {
        output += String(d);
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', (d: Buffer) => (output += String(d)));
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with code ${code} on port ${port}:\n${output}`));
      });
    });
    // After readiness the 'exit' rejection above is moot; keep draining output.
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      proc.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      proc.kill('SIGTERM');
    });
  };

  // The port was free a moment ago; another process may grab it in between, so retry a few times.
  for (let attempt = 0; ; attempt++) {
    try {
      await launch();
      break;
    } catch (e) {
      await stop();
      if (attempt >= 3) {
        rmSync(dir, { recursive: true, force: true });
        throw e;
      }
      port = await freePort();
    }
  }

  return {
    get port() {
      return port;
    },
    get pid() {
      return (child as ChildProcess | null)?.pid;
    },
    get url() {
      const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
      return `${options.tls ? 'rediss' : 'redis'}://${auth}127.0.0.1:${port}`;
    },
    stop,
    start: launch,
    async restart(downMs = 500) {
      await stop();
      await new Promise((r) => setTimeout(r, downMs));
      await launch();
    },
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    log: () => output,
  };
}
