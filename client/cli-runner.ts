/**
 * Runs the CLI (`dist/cli.js`) in a child Node process for Export Report and Open Trial: the
 * client never imports the engine, and a slow backtest never blocks the extension host.
 */
import { fork } from 'node:child_process';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node cli.js ...args`; resolves with its output (never rejects). `signal` aborts it. */
export function runCli(cliPath: string, args: string[], cwd?: string, signal?: AbortSignal): Promise<CliResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    const child = fork(cliPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], signal });
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) => {
      stderr += (stderr ? '\n' : '') + e.message;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
