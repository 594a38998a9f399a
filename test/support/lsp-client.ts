/**
 * A real LSP client for tests: spawns the built `dist/server.js --stdio` and speaks JSON-RPC
 * to it over its stdin/stdout, exactly as VS Code does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const SERVER = path.join(ROOT, 'dist', 'server.js');

export interface TestServer {
  connection: MessageConnection;
  process: ChildProcess;
  /** Everything the server wrote to stderr. */
  stderr: () => string;
  /** Notifications received, by method. */
  notifications: { method: string; params: unknown }[];
  /** Requests the server sent to the client (refreshes, registrations), in order. */
  requests: { method: string; params: unknown }[];
  /** Resolves with the first notification of `method` whose params satisfy `match`. */
  waitFor<T>(method: string, match?: (params: T) => boolean, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

/** Starts the built server; extra environment variables are merged into the process env. */
export function startServer(env: Record<string, string> = {}): TestServer {
  const child = spawn(process.execPath, [SERVER, '--stdio'], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += String(d)));
  const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  const notifications: { method: string; params: unknown }[] = [];
  const waiters: { method: string; match: (p: any) => boolean; resolve: (p: any) => void }[] = [];
  connection.onNotification((method, params) => {
    notifications.push({ method, params });
    for (const w of [...waiters]) {
      if (w.method === method && w.match(params)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(params);
      }
    }
  });
  // Requests from server to client (configuration, registration, refresh): answer politely.
  const requests: { method: string; params: unknown }[] = [];
  connection.onRequest((method, params) => {
    requests.push({ method, params });
    if (method === 'workspace/configuration') return [];
    return null;
  });
  connection.listen();
  return {
    connection,
    process: child,
    stderr: () => err,
    notifications,
    requests,
    waitFor<T>(method: string, match: (p: T) => boolean = () => true, timeoutMs = 15000): Promise<T> {
      const seen = notifications.find((n) => n.method === method && match(n.params as T));
      if (seen) return Promise.resolve(seen.params as T);
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${method} within ${timeoutMs} ms; stderr: ${err}`)), timeoutMs);
        waiters.push({ method, match, resolve: (p) => (clearTimeout(timer), resolve(p)) });
      });
    },
    async stop() {
      try {
        await Promise.race([connection.sendRequest('shutdown'), new Promise((r) => setTimeout(r, 2000))]);
        // The server may exit before the write completes: that is the point of `exit`.
        connection.sendNotification('exit').catch(() => undefined);
      } catch {
        /* already gone */
      }
      connection.dispose();
      if (child.exitCode === null) child.kill();
    },
  };
}
