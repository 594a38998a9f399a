/**
 * Real `optstudy worker` processes from the built `dist/cli.js`, for distributed-run tests and
 * the benchmark: started with a short lock (so a killed worker's batch comes back quickly) and
 * a private cache folder, stopped after.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const CLI = path.join(ROOT, 'dist', 'cli.js');

export interface TestWorker {
  process: ChildProcess;
  pid: number;
  /** The id the worker registers and stamps its results with (`host:pid`). */
  id: string;
  cacheDir: string;
  /** Everything it wrote to stderr (its log). */
  log(): string;
  /** Resolves when its log contains `text` (or rejects after `timeoutMs`). */
  waitForLog(text: string, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code (or signal name) once it has exited. */
  exited: Promise<number | string>;
  /** SIGTERM (graceful) and wait; SIGKILL after 15 s. */
  stop(): Promise<number | string>;
  kill(signal?: NodeJS.Signals): void;
}

export interface WorkerStartOptions {
  concurrency?: number;
  lockMs?: number;
  cacheDir?: string;
  queue?: string;
  extraArgs?: string[];
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
}

/** Starts `node dist/cli.js worker --redis URL …` and waits for its "ready" line. */
export async function startWorker(url: string, o: WorkerStartOptions = {}): Promise<TestWorker> {
  const cacheDir = o.cacheDir ?? mkdtempSync(path.join(os.tmpdir(), 'optstudy-blobs-'));
  const args = [CLI, 'worker', '--redis', url, '--concurrency', String(o.concurrency ?? 1), '--lock-ms', String(o.lockMs ?? 2000), '--cache-dir', cacheDir];
  if (o.queue) args.push('--queue', o.queue);
  args.push(...(o.extraArgs ?? []));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...o.env } });
  // Never leave a worker (or its blob cache) behind when the test process ends early.
  const reap = () => {
    child.kill('SIGKILL');
    if (!o.cacheDir) rmSync(cacheDir, { recursive: true, force: true });
  };
  process.once('exit', reap);
  child.once('exit', () => process.off('exit', reap));
  let err = '';
  const listeners = new Set<() => void>();
  child.stderr!.on('data', (d) => {
    err += String(d);
    for (const l of [...listeners]) l();
  });
  child.stdout!.resume();
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, sig) => resolve(code ?? sig ?? -1)));
  const waitForLog = (text: string, timeoutMs = 20_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (err.includes(text)) {
          listeners.delete(check);
          clearTimeout(timer);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`worker ${child.pid} did not log '${text}' within ${timeoutMs} ms; its log:\n${err}`));
      }, timeoutMs);
      listeners.add(check);
      void exited.then((code) => {
        if (!listeners.has(check)) return;
        listeners.delete(check);
        clearTimeout(timer);
        reject(new Error(`worker ${child.pid} exited (${code}) before logging '${text}'; its log:\n${err}`));
      });
      check();
    });
  try {
    await waitForLog(' ready: ');
  } catch (e) {
    child.kill('SIGKILL');
    if (!o.cacheDir) rmSync(cacheDir, { recursive: true, force: true });
    throw e;
  }
  const id = /worker (\S+) ready: /.exec(err)?.[1] ?? `${os.hostname()}:${child.pid}`;
  return {
    process: child,
    pid: child.pid!,
    id,
    cacheDir,
    log: () => err,
    waitForLog,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
        const code = await exited;
        clearTimeout(t);
        if (!o.cacheDir) rmSync(cacheDir, { recursive: true, force: true });
        return code;
      }
      if (!o.cacheDir) rmSync(cacheDir, { recursive: true, force: true });
      return exited;
    },
    kill(signal = 'SIGKILL') {
      child.kill(signal);
    },
  };
}
