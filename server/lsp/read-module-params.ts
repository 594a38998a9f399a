/**
 * The child process that reads a strategy module's parameters for the language server
 * (`dist/read-module-params.js MODULE_PATH`, the compiled CommonJS code on stdin). The user's
 * code runs here, never on the language server's thread: the server kills this process when it
 * runs too long or uses too much memory (server/lsp/module-schemas.ts).
 *
 * The answer is one JSON line on file descriptor 3, written synchronously right after the
 * module's top-level code returns, and the process ends in the same tick: the module's pending
 * promises and timers never run (and a loop in one of them cannot delay the answer).
 */
import * as fs from 'node:fs';
import Module from 'node:module';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { Worker } from 'node:worker_threads';

const ANSWER_FD = 3;

function answer(value: unknown): never {
  let line: string;
  try {
    line = JSON.stringify(value);
  } catch {
    line = JSON.stringify({ ok: false, error: 'its exported parameters are not plain data (numbers, strings, booleans)' });
  }
  try {
    fs.writeSync(ANSWER_FD, line + '\n');
  } finally {
    // `exit` handlers the module may have registered are skipped too: the parent also kills
    // this process as soon as the answer line arrives.
    process.reallyExit ? process.reallyExit(0) : process.exit(0);
  }
  return process.exit(0);
}

/**
 * A watchdog thread: the module's code may block this thread for good, so the limits are also
 * kept from a second thread, which ends the whole process group when time or memory runs out,
 * or when the language server is gone (the parent process changed).
 */
function startWatchdog(): void {
  const ms = Number(process.env['OPTSTUDY_READ_LIMIT_MS']) || 5000;
  const bytes = (Number(process.env['OPTSTUDY_READ_LIMIT_MB']) || 256) * 1024 * 1024;
  const code = `
    const fs = require('node:fs');
    const tick = new Int32Array(new SharedArrayBuffer(4));
    const end = Date.now() + ${ms};
    const parent = process.ppid;
    for (;;) {
      Atomics.wait(tick, 0, 0, 25);
      const why = Date.now() > end ? 'time' : process.memoryUsage.rss() > ${bytes} ? 'memory' : process.ppid !== parent ? 'orphan' : '';
      if (why) {
        try { fs.writeSync(2, 'limit: ' + why + '\\n'); } catch {}
        try { process.kill(-process.pid, 'SIGKILL'); } catch {}
        process.kill(process.pid, 'SIGKILL');
      }
    }`;
  new Worker(code, { eval: true }).unref();
}

function main(): never {
  startWatchdog();
  const file = path.resolve(process.argv[2] ?? '');
  const code = fs.readFileSync(0, 'utf8');
  // The module's own output must not reach the editor: there is no stdout, and console is mute.
  for (const k of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) console[k] = () => undefined;
  const mod = { exports: {} as Record<string, unknown> };
  try {
    const fn = vm.runInThisContext(Module.wrap(code), { filename: file }) as (...args: unknown[]) => void;
    fn.call(mod.exports, mod.exports, Module.createRequire(file), mod, file, path.dirname(file));
    const exported = (mod.exports['default'] ?? mod.exports) as Record<string, unknown> | undefined;
    if (!exported || !Array.isArray(exported['params'])) return answer({ ok: true, schema: null });
    // Plain data only: the parent validates every field again.
    const params = (exported['params'] as Record<string, unknown>[]).slice(0, 1000).map((p) => ({
      name: p?.['name'],
      type: p?.['type'],
      default: p?.['default'],
      doc: p?.['doc'],
      choices: p?.['choices'],
      min: p?.['min'],
      max: p?.['max'],
    }));
    return answer({ ok: true, schema: { name: exported['name'], doc: exported['doc'], params } });
  } catch (e) {
    const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return answer({ ok: false, error: message.slice(0, 500) });
  }
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace NodeJS {
    interface Process {
      /** Node's exit without `exit` events (undocumented but stable since Node 0.x). */
      reallyExit?: (code: number) => never;
    }
  }
}

main();
